// Multipart upload XML: the CompleteMultipartUpload request body in (streamed through sax, size-limited),
// ListParts and ListMultipartUploads results out.
import sax from 'sax';
import { s3err } from './errors';
import { isoDate } from './time';
import { listingUrlEncode } from './uri';
import { S3_XMLNS, XmlWriter } from './xml';
import type { Owner } from './list-xml';
import { algFromName, checksumElement, type FlexAlg } from './checksums';
import { localName, malformedXml } from './xml-parse';

/** 10000 parts with every optional checksum element fit well within this. */
export const MAX_COMPLETE_BODY = 4 << 20;

export interface CompletedPart {
  partNumber: number;
  /** As the client sent it, without surrounding quotes. */
  etag: string;
  /** A flexible checksum listed for the part (<ChecksumCRC32> ...), base64 as sent; attached by the caller
   *  from CompleteBodyParser.checksums(). */
  checksum?: { alg: FlexAlg; value: string };
}

/**
 * Parses <CompleteMultipartUpload><Part><PartNumber/><ETag/>...</Part>...</CompleteMultipartUpload>
 * chunk by chunk. Unknown elements inside a Part (ChecksumCRC32, ...) are ignored; anything that is not
 * well-formed XML, a wrong root, a Part without PartNumber or ETag, or no Part at all is MalformedXML.
 */
export class CompleteBodyParser {
  private readonly parser: sax.SAXParser;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private readonly parts: CompletedPart[] = [];
  private readonly partChecksums = new Map<number, { alg: FlexAlg; value: string }>();
  private readonly path: string[] = [];
  private text = '';
  private cur: { partNumber?: string; etag?: string; checksum?: { alg: FlexAlg; value: string } } | undefined;
  private error: Error | undefined;
  private bytes = 0;

  constructor() {
    this.parser = sax.parser(true, { trim: false, normalize: false, xmlns: false, position: false });
    this.parser.onerror = (e: Error): void => {
      this.error ??= malformedXml(e.message.split('\n')[0] ?? 'bad XML');
    };
    this.parser.onopentag = (tag): void => {
      const name = localName(tag.name);
      const depth = this.path.length;
      if (depth === 0 && name !== 'CompleteMultipartUpload') this.error ??= malformedXml(`unexpected root element <${tag.name}>`);
      if (depth === 1 && name === 'Part') this.cur = {};
      this.path.push(name);
      this.text = '';
    };
    this.parser.ontext = (t: string): void => {
      this.text += t;
    };
    this.parser.oncdata = (t: string): void => {
      this.text += t;
    };
    this.parser.onclosetag = (): void => {
      const name = this.path.pop();
      const depth = this.path.length;
      if (depth === 2 && this.cur) {
        if (name === 'PartNumber') this.cur.partNumber = this.text.trim();
        else if (name === 'ETag') this.cur.etag = this.text.trim();
        else if (name?.startsWith('Checksum')) {
          const alg = algFromName(name.slice('Checksum'.length));
          if (alg !== undefined) this.cur.checksum = { alg, value: this.text.trim() };
        }
      } else if (depth === 1 && name === 'Part' && this.cur) {
        this.closePart(this.cur);
        this.cur = undefined;
      }
      this.text = '';
    };
  }

  write(chunk: Uint8Array): void {
    if (this.error) return;
    this.bytes += chunk.length;
    if (this.bytes > MAX_COMPLETE_BODY) {
      this.error = malformedXml(`the request body is larger than ${MAX_COMPLETE_BODY} bytes`);
      return;
    }
    this.parser.write(this.decoder.decode(chunk, { stream: true }));
  }

  /** Ends the body: the parts in document order, or throws MalformedXML. */
  end(): CompletedPart[] {
    if (!this.error) {
      this.parser.write(this.decoder.decode());
      this.parser.close();
    }
    if (this.error) throw this.error;
    if (this.parts.length === 0) throw malformedXml('the body names no parts');
    return this.parts;
  }

  /** Flexible checksums listed in the body (<ChecksumCRC32> ...), by part number; valid after end(). */
  checksums(): ReadonlyMap<number, { alg: FlexAlg; value: string }> {
    return this.partChecksums;
  }

  private closePart(p: { partNumber?: string; etag?: string; checksum?: { alg: FlexAlg; value: string } }): void {
    if (p.partNumber === undefined || p.etag === undefined) {
      this.error ??= malformedXml('each Part needs a PartNumber and an ETag');
      return;
    }
    const n = /^\d{1,5}$/.test(p.partNumber) ? Number(p.partNumber) : NaN;
    if (!(n >= 1 && n <= 10000)) {
      this.error ??= s3err('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
        ArgumentName: 'PartNumber',
        ArgumentValue: p.partNumber,
      });
      return;
    }
    this.parts.push({ partNumber: n, etag: unquote(p.etag) });
    if (p.checksum) this.partChecksums.set(n, p.checksum);
  }
}



/** ETags travel quoted ("abc"), sometimes entity-escaped or unquoted: compare the bare value. */
export function unquote(etag: string): string {
  let s = etag.trim();
  if (s.startsWith('&quot;') && s.endsWith('&quot;') && s.length >= 12) s = s.slice(6, -6);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  return s;
}

export interface PartEntry {
  partNumber: number;
  mtimeMs: number;
  /** Unquoted. */
  etag: string;
  size: number;
  /** The part's flexible checksum, when it has one. */
  checksum?: { alg: FlexAlg; value: string };
}

export interface ListPartsPage {
  bucket: string;
  key: string;
  uploadId: string;
  partNumberMarker: number;
  maxParts: number;
  parts: readonly PartEntry[];
  isTruncated: boolean;
  /** The upload's x-amz-checksum-algorithm and type, when given at Create. */
  checksum?: { alg: FlexAlg; type: string };
}

export function listPartsXml(p: ListPartsPage, owner: Owner): string {
  const w = new XmlWriter().start('ListPartsResult', S3_XMLNS);
  w.text('Bucket', p.bucket).text('Key', p.key).text('UploadId', p.uploadId);
  writeOwner(w, 'Initiator', owner);
  writeOwner(w, 'Owner', owner);
  w.text('StorageClass', 'STANDARD');
  if (p.checksum) w.text('ChecksumAlgorithm', p.checksum.alg.toUpperCase()).text('ChecksumType', p.checksum.type);
  w.text('PartNumberMarker', p.partNumberMarker);
  const last = p.parts[p.parts.length - 1];
  if (last !== undefined) w.text('NextPartNumberMarker', last.partNumber);
  w.text('MaxParts', p.maxParts).text('IsTruncated', p.isTruncated);
  for (const part of p.parts) {
    w.start('Part')
      .text('PartNumber', part.partNumber)
      .text('LastModified', isoDate(part.mtimeMs))
      .text('ETag', '"' + part.etag + '"')
      .text('Size', part.size);
    if (part.checksum) w.text(checksumElement(part.checksum.alg), part.checksum.value);
    w.end();
  }
  return w.end().toString();
}

export interface UploadEntry {
  key: string;
  uploadId: string;
  initiatedMs: number;
}

export interface ListUploadsPage {
  bucket: string;
  prefix: string;
  delimiter: string;
  keyMarker: string;
  uploadIdMarker: string;
  maxUploads: number;
  encodingType: 'url' | undefined;
  uploads: readonly UploadEntry[];
  commonPrefixes: readonly string[];
  isTruncated: boolean;
  /** Written when truncated. */
  nextKeyMarker: string;
  nextUploadIdMarker: string;
}

export function listUploadsXml(p: ListUploadsPage, owner: Owner): string {
  const enc = p.encodingType === 'url' ? listingUrlEncode : (s: string): string => s;
  const w = new XmlWriter().start('ListMultipartUploadsResult', S3_XMLNS);
  w.text('Bucket', p.bucket).text('KeyMarker', enc(p.keyMarker)).text('UploadIdMarker', p.uploadIdMarker);
  if (p.isTruncated) w.text('NextKeyMarker', enc(p.nextKeyMarker)).text('NextUploadIdMarker', p.nextUploadIdMarker);
  if (p.encodingType !== undefined) w.text('EncodingType', p.encodingType);
  w.text('Prefix', enc(p.prefix));
  if (p.delimiter !== '') w.text('Delimiter', enc(p.delimiter));
  w.text('MaxUploads', p.maxUploads).text('IsTruncated', p.isTruncated);
  for (const u of p.uploads) {
    w.start('Upload').text('Key', enc(u.key)).text('UploadId', u.uploadId);
    writeOwner(w, 'Initiator', owner);
    writeOwner(w, 'Owner', owner);
    w.text('StorageClass', 'STANDARD').text('Initiated', isoDate(u.initiatedMs)).end();
  }
  for (const cp of p.commonPrefixes) w.start('CommonPrefixes').text('Prefix', enc(cp)).end();
  return w.end().toString();
}

function writeOwner(w: XmlWriter, element: string, owner: Owner): void {
  w.start(element).text('ID', owner.id).text('DisplayName', owner.displayName).end();
}
