// The small XML request bodies a handler reads itself (DeleteObjects, CompleteMultipartUpload,
// PutObjectTagging): aws-chunked framing undone, Content-MD5 checked, the size capped, and the bytes
// fed to a streaming sax parser as they arrive, so a hostile body costs at most its cap.
import { createHash } from 'node:crypto';
import type { HttpResponse } from '../util/uws';
import { header, type Req } from '../api/http';
import { AwsChunkedDecoder, isAwsChunked } from './aws-chunked';
import { parseContentMd5 } from './checksums';
import { s3err } from './errors';
import { sendS3Error } from './reply';

/** A streaming parser of one body: `write` may throw an S3Error at once, `end` returns the document or throws. */
export interface XmlBodyParser<T> {
  write(chunk: Uint8Array): void;
  end(): T;
}

/**
 * Reads the body into `parser` and calls `then` with the parsed document once it is complete and its
 * Content-MD5 (if any) matched. Every error is answered here and ends the request: InvalidDigest for
 * a malformed Content-MD5, MalformedXML for a declared length over `refuseOver` (before any byte is
 * read; without it the parser's own cap decides), then whatever the decoder or the parser throws,
 * and BadDigest. After `then` is called nothing here answers again; an error `then` throws
 * synchronously is answered as an S3 error.
 */
export function readXmlBody<T>(res: HttpResponse, req: Req, parser: XmlBodyParser<T>, refuseOver: number | undefined, then: (doc: T) => void): void {
  let expectMd5: string | undefined;
  try {
    const len = header(req, 'content-length');
    if (refuseOver !== undefined && len !== '' && Number(len) > refuseOver) throw s3err('MalformedXML', `The request body is larger than ${refuseOver} bytes.`);
    expectMd5 = parseContentMd5(header(req, 'content-md5'));
  } catch (err) {
    sendS3Error(res, req, err);
    return;
  }
  const md5 = expectMd5 === undefined ? undefined : createHash('md5');
  const feed = (data: Uint8Array): void => {
    md5?.update(data);
    parser.write(data);
  };
  const decoder = isAwsChunked(header(req, 'x-amz-content-sha256'), header(req, 'content-encoding')) ? new AwsChunkedDecoder({ onData: feed }) : undefined;
  let done = false;
  res.onData((chunk, isLast) => {
    if (done) return;
    try {
      const data = new Uint8Array(chunk); // valid only inside this callback: consumed right here
      if (decoder) decoder.push(data);
      else feed(data);
      if (!isLast) return;
      decoder?.end();
      // Content-MD5 covers the body as sent (the decoded payload for aws-chunked).
      if (md5 && md5.digest('hex') !== expectMd5) throw s3err('BadDigest', 'The Content-MD5 you specified did not match what we received.');
      const doc = parser.end();
      done = true; // from here on the caller answers
      then(doc);
    } catch (err) {
      done = true;
      sendS3Error(res, req, err); // S3Errors (MalformedXML, BadDigest, aws-chunked framing) as they are; others are internal
    }
  });
}
