// What the streaming XML request parsers (DeleteObjects, CompleteMultipartUpload, Tagging) share.
import { s3err, type S3Error } from './errors';

/** Element name without a namespace prefix ("s3:Key" → "Key"). */
export function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

/** S3's MalformedXML, with what was wrong. */
export function malformedXml(why: string): S3Error {
  return s3err('MalformedXML', `The XML you provided was not well-formed or did not validate against our published schema (${why}).`);
}
