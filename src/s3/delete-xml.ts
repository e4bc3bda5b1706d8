// The request body of DeleteObjects, parsed with sax as it streams in:
//   <Delete [xmlns=...]><Quiet>true</Quiet><Object><Key>k</Key><VersionId>v</VersionId></Object>...</Delete>
// Strict XML (sax strict mode: no DTD processing, so no external entities). Limits: S3's 1000 objects
// per request and a byte cap on the body, both checked while parsing, so an oversized or hostile body
// costs at most the cap. Anything that is not this document is MalformedXML, as S3 answers.
import sax from 'sax';
import { StringDecoder } from 'node:string_decoder';
import { S3Error } from './errors';
import { localName, malformedXml } from './xml-parse';

export const MAX_DELETE_KEYS = 1000;
/**
 * 1000 keys of 1024 bytes, each of which may be written with character references (up to ~6 bytes of
 * XML per byte of key for "&#x1;"-style escapes), plus the markup: 8 MiB holds any valid request.
 */
export const MAX_DELETE_BODY = 8 << 20;

export interface DeleteObjectEntry {
  key: string;
  versionId: string | undefined;
}

export interface DeleteRequest {
  quiet: boolean;
  objects: DeleteObjectEntry[];
}



export class DeleteXmlParser {
  private readonly parser: sax.SAXParser;
  private readonly decoder = new StringDecoder('utf8');
  private readonly stack: string[] = [];
  private text = '';
  private current: { key: string | undefined; versionId: string | undefined } | undefined;
  private quiet: boolean | undefined;
  private readonly objects: DeleteObjectEntry[] = [];
  private bytes = 0;
  private error: S3Error | undefined;
  private sawRoot = false;

  constructor(
    private readonly maxKeys = MAX_DELETE_KEYS,
    private readonly maxBytes = MAX_DELETE_BODY,
  ) {
    const p = sax.parser(true, { trim: false, normalize: false, position: false });
    this.parser = p;
    p.onerror = (e) => {
      this.fail(malformedXml(e.message.split('\n')[0] ?? 'syntax error'));
    };
    p.onopentag = (tag) => this.open(localName(tag.name));
    p.onclosetag = () => this.close();
    p.ontext = (t) => this.addText(t);
    p.oncdata = (t) => this.addText(t);
    p.ondoctype = () => this.fail(malformedXml('a DOCTYPE is not allowed'));
  }

  /** Feeds the next piece of the body; throws S3Error (MalformedXML) as soon as the body is invalid. */
  write(chunk: Uint8Array): void {
    if (this.error) throw this.error;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) this.fail(malformedXml(`the body is larger than ${this.maxBytes} bytes`));
    else this.parser.write(this.decoder.write(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    if (this.error) throw this.error;
  }

  /** The body is complete: returns the request, or throws MalformedXML. */
  end(): DeleteRequest {
    if (!this.error) {
      const rest = this.decoder.end();
      if (rest !== '') this.parser.write(rest);
      if (!this.error) this.parser.close();
    }
    if (this.error) throw this.error;
    if (!this.sawRoot) throw malformedXml('the body is empty');
    if (this.objects.length === 0) throw malformedXml('no <Object> to delete');
    return { quiet: this.quiet ?? false, objects: this.objects };
  }

  private fail(err: S3Error): void {
    if (!this.error) this.error = err;
  }

  private open(name: string): void {
    if (this.error) return;
    const depth = this.stack.length;
    const parent = this.stack[depth - 1];
    this.text = '';
    if (depth === 0) {
      if (this.sawRoot) return this.fail(malformedXml('more than one root element'));
      if (name !== 'Delete') return this.fail(malformedXml(`the root element is <${name}>, not <Delete>`));
      this.sawRoot = true;
    } else if (depth === 1 && name === 'Object') {
      if (this.objects.length >= this.maxKeys) return this.fail(malformedXml(`more than ${this.maxKeys} objects`));
      this.current = { key: undefined, versionId: undefined };
    } else if (depth === 1 && name === 'Quiet') {
      if (this.quiet !== undefined) return this.fail(malformedXml('<Quiet> given twice'));
    } else if (depth === 2 && parent === 'Object' && (name === 'Key' || name === 'VersionId')) {
      if ((name === 'Key' ? this.current!.key : this.current!.versionId) !== undefined) return this.fail(malformedXml(`<${name}> given twice in one <Object>`));
    } else if (depth === 2 && parent === 'Object') {
      // Newer optional children (ETag, LastModifiedTime, Size: conditional deletes) are not ours to check.
    } else if (depth >= 3 && this.stack[2] !== 'Key' && this.stack[2] !== 'VersionId' && this.stack[1] === 'Object') {
      // inside an ignored child of Object
    } else {
      return this.fail(malformedXml(`unexpected element <${name}>`));
    }
    this.stack.push(name);
  }

  private addText(t: string): void {
    if (this.error) return;
    const top = this.stack[this.stack.length - 1];
    if (top === 'Key' || top === 'VersionId' || top === 'Quiet') this.text += t;
    else if (t.trim() !== '' && this.stack.length > 0 && !(this.stack.length >= 3 && this.stack[1] === 'Object')) {
      this.fail(malformedXml(`unexpected text in <${top}>`));
    }
  }

  private close(): void {
    if (this.error) return;
    const name = this.stack.pop();
    if (name === 'Key' && this.stack.length === 2) this.current!.key = this.text;
    else if (name === 'VersionId' && this.stack.length === 2) this.current!.versionId = this.text;
    else if (name === 'Quiet') {
      const v = this.text.trim().toLowerCase();
      if (v !== 'true' && v !== 'false') return this.fail(malformedXml('<Quiet> must be true or false'));
      this.quiet = v === 'true';
    } else if (name === 'Object' && this.stack.length === 1) {
      const c = this.current!;
      if (c.key === undefined) return this.fail(malformedXml('an <Object> without <Key>'));
      this.objects.push({ key: c.key, versionId: c.versionId });
      this.current = undefined;
    }
    this.text = '';
  }
}

/** Parses a whole body at once (tests, small bodies). */
export function parseDeleteXml(body: string | Uint8Array, maxKeys = MAX_DELETE_KEYS): DeleteRequest {
  const p = new DeleteXmlParser(maxKeys);
  p.write(typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  return p.end();
}
