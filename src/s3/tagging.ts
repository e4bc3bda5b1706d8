// Object tags: the x-amz-tagging header (URL-query form "k1=v1&k2=v2") of PUT / CopyObject /
// CreateMultipartUpload, the <Tagging> body of PutObjectTagging (parsed with sax, strict: no DTD), the
// GetObjectTagging answer, and S3's limits: at most 10 tags, keys of 1..128 and values of 0..256
// Unicode characters, unique keys, no "aws:" prefix (InvalidTag); a body that is not the document is
// MalformedXML.
import sax from 'sax';
import { StringDecoder } from 'node:string_decoder';
import { s3err, S3Error } from './errors';
import { percentDecode } from './uri';
import { S3_XMLNS, XmlWriter } from './xml';
import { localName, malformedXml } from './xml-parse';

/** Tags in the order given (S3 keeps no order; clients compare sets). */
export type TagSet = [key: string, value: string][];

export const MAX_TAGS = 10;
const MAX_KEY_CHARS = 128;
const MAX_VALUE_CHARS = 256;
/** 10 tags of 128 + 256 characters, each character up to ~10 bytes of XML as a reference, plus markup. */
export const MAX_TAGGING_BODY = 64 << 10;

function invalidTag(message: string): S3Error {
  return s3err('InvalidTag', message);
}

function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** S3's limits on a tag set; throws InvalidTag. */
export function validateTags(tags: TagSet): TagSet {
  if (tags.length > MAX_TAGS) throw invalidTag(`Object tags cannot be greater than ${MAX_TAGS}`);
  const seen = new Set<string>();
  for (const [k, v] of tags) {
    if (k === '' || chars(k) > MAX_KEY_CHARS) throw invalidTag('The TagKey you have provided is invalid');
    if (chars(v) > MAX_VALUE_CHARS) throw invalidTag('The TagValue you have provided is invalid');
    if (k.toLowerCase().startsWith('aws:')) throw invalidTag('System tags cannot be added/updated by requester');
    if (seen.has(k)) throw invalidTag('Cannot provide multiple Tags with the same key');
    seen.add(k);
  }
  return tags;
}

/** x-amz-tagging: "k1=v1&k2=v2", percent-encoded ('+' is a space, as in a query). '' → no tags. */
export function parseTaggingHeader(value: string): TagSet {
  const tags: TagSet = [];
  if (value === '') return tags;
  for (const part of value.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      tags.push([percentDecode(eq < 0 ? part : part.slice(0, eq), true), eq < 0 ? '' : percentDecode(part.slice(eq + 1), true)]);
    } catch {
      throw s3err('InvalidArgument', 'The header x-amz-tagging shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.', {
        ArgumentName: 'x-amz-tagging',
        ArgumentValue: value,
      });
    }
  }
  return validateTags(tags);
}

/** GetObjectTagging's answer. */
export function taggingXml(tags: TagSet): string {
  const w = new XmlWriter().start('Tagging', S3_XMLNS).start('TagSet');
  for (const [k, v] of tags) w.start('Tag').text('Key', k).text('Value', v).end();
  return w.end().end().toString();
}



/** <Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag>...</TagSet></Tagging>, fed as it arrives. */
export class TaggingXmlParser {
  private readonly parser: sax.SAXParser;
  private readonly decoder = new StringDecoder('utf8');
  private readonly stack: string[] = [];
  private text = '';
  private key: string | undefined;
  private value: string | undefined;
  private readonly tags: TagSet = [];
  private sawTagSet = false;
  private sawRoot = false;
  private bytes = 0;
  private error: S3Error | undefined;

  constructor() {
    const p = sax.parser(true, { trim: false, normalize: false, position: false });
    this.parser = p;
    p.onerror = (e) => this.fail(malformedXml(e.message.split('\n')[0] ?? 'syntax error'));
    p.onopentag = (tag) => this.open(localName(tag.name));
    p.onclosetag = () => this.close();
    p.ontext = (t) => this.addText(t);
    p.oncdata = (t) => this.addText(t);
    p.ondoctype = () => this.fail(malformedXml('a DOCTYPE is not allowed'));
  }

  write(chunk: Uint8Array): void {
    if (this.error) throw this.error;
    this.bytes += chunk.length;
    if (this.bytes > MAX_TAGGING_BODY) this.fail(malformedXml(`the body is larger than ${MAX_TAGGING_BODY} bytes`));
    else this.parser.write(this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    if (this.error) throw this.error;
  }

  /** The whole body was fed: the tag set (validated: InvalidTag), or MalformedXML. */
  end(): TagSet {
    if (!this.error) {
      const rest = this.decoder.end();
      if (rest !== '') this.parser.write(rest);
      if (!this.error) this.parser.close();
    }
    if (this.error) throw this.error;
    if (!this.sawRoot) throw malformedXml('the body is empty');
    if (!this.sawTagSet) throw malformedXml('no <TagSet>');
    return validateTags(this.tags);
  }

  private fail(err: S3Error): void {
    if (!this.error) this.error = err;
  }

  private open(name: string): void {
    if (this.error) return;
    const depth = this.stack.length;
    this.text = '';
    const ok =
      (depth === 0 && name === 'Tagging' && !this.sawRoot) ||
      (depth === 1 && name === 'TagSet' && !this.sawTagSet) ||
      (depth === 2 && name === 'Tag') ||
      (depth === 3 && ((name === 'Key' && this.key === undefined) || (name === 'Value' && this.value === undefined)));
    if (!ok) return this.fail(malformedXml(`unexpected element <${name}>`));
    if (depth === 0) this.sawRoot = true;
    if (depth === 1) this.sawTagSet = true;
    if (depth === 2 && this.tags.length >= MAX_TAGS) return this.fail(invalidTag(`Object tags cannot be greater than ${MAX_TAGS}`));
    this.stack.push(name);
  }

  private addText(t: string): void {
    if (this.error) return;
    const top = this.stack[this.stack.length - 1];
    if (top === 'Key' || top === 'Value') this.text += t;
    else if (t.trim() !== '' && this.stack.length > 0) this.fail(malformedXml(`unexpected text in <${top}>`));
  }

  private close(): void {
    if (this.error) return;
    const name = this.stack.pop();
    if (name === 'Key') this.key = this.text;
    else if (name === 'Value') this.value = this.text;
    else if (name === 'Tag') {
      if (this.key === undefined || this.value === undefined) return this.fail(malformedXml('a <Tag> needs <Key> and <Value>'));
      this.tags.push([this.key, this.value]);
      this.key = undefined;
      this.value = undefined;
    }
    this.text = '';
  }
}

/** Whole-body parse (tests). */
export function parseTaggingXml(body: string | Uint8Array): TagSet {
  const p = new TaggingXmlParser();
  p.write(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return p.end();
}
