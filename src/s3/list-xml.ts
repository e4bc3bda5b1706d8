// ListBucketResult bodies of ListObjects (v1) and ListObjectsV2.

import type { ListObjectsOp, ListObjectsV2Op } from './ops';
import { isoDate } from './time';
import { listingUrlEncode } from './uri';
import { S3_XMLNS, XmlWriter, escapeXml } from './xml';

/** One object of a listing page. */
export interface ListEntry {
  key: string;
  size: number;
  mtimeMs: number;
  /** Unquoted; '' when the object has none (AIStore: checksum type "none"), then <ETag> is left out. */
  etag: string;
}

export interface Owner {
  id: string;
  displayName: string;
}

/** What the listing produced for one request. */
export interface ListPage {
  /** Sorted by key (UTF-8 byte order, as S3). */
  contents: readonly ListEntry[];
  /** Full prefixes, each ending with the delimiter, sorted. */
  commonPrefixes: readonly string[];
  isTruncated: boolean;
}

export interface ListV1Page extends ListPage {
  /** v1 only; written when truncated and a delimiter was given. Defaults to the last key or prefix. */
  nextMarker?: string;
}

export interface ListV2Page extends ListPage {
  /** Opaque token for the next page; written when truncated. */
  nextContinuationToken?: string;
}

type ListParams = Pick<ListObjectsOp, 'bucket' | 'prefix' | 'delimiter' | 'maxKeys' | 'encodingType'>;

export function listObjectsV1Xml(req: ListParams & Pick<ListObjectsOp, 'marker'>, page: ListV1Page, owner: Owner): string {
  const enc = encoder(req.encodingType);
  const w = new XmlWriter().start('ListBucketResult', S3_XMLNS);
  w.text('Name', req.bucket).text('Prefix', enc(req.prefix)).text('Marker', enc(req.marker));
  // S3: "NextMarker is returned only if you have the delimiter request parameter specified";
  // without a delimiter the client continues from the last <Key>.
  if (page.isTruncated && req.delimiter !== '') {
    const next = page.nextMarker ?? lastListed(page);
    if (next !== undefined) w.text('NextMarker', enc(next));
  }
  w.text('MaxKeys', req.maxKeys);
  if (req.delimiter !== '') w.text('Delimiter', enc(req.delimiter));
  w.text('IsTruncated', page.isTruncated);
  if (req.encodingType !== undefined) w.text('EncodingType', req.encodingType);
  writeEntries(w, page, enc, owner);
  return w.end().toString();
}

export function listObjectsV2Xml(
  req: ListParams & Pick<ListObjectsV2Op, 'continuationToken' | 'startAfter' | 'fetchOwner'>,
  page: ListV2Page,
  owner: Owner,
): string {
  const enc = encoder(req.encodingType);
  const w = new XmlWriter().start('ListBucketResult', S3_XMLNS);
  w.text('Name', req.bucket).text('Prefix', enc(req.prefix));
  // Tokens are opaque and never URL-encoded (botocore does not decode them either).
  if (req.continuationToken !== '') w.text('ContinuationToken', req.continuationToken);
  if (page.isTruncated && page.nextContinuationToken !== undefined) w.text('NextContinuationToken', page.nextContinuationToken);
  w.text('KeyCount', page.contents.length + page.commonPrefixes.length);
  w.text('MaxKeys', req.maxKeys);
  if (req.delimiter !== '') w.text('Delimiter', enc(req.delimiter));
  w.text('IsTruncated', page.isTruncated);
  if (req.startAfter !== '') w.text('StartAfter', enc(req.startAfter));
  if (req.encodingType !== undefined) w.text('EncodingType', req.encodingType);
  writeEntries(w, page, enc, req.fetchOwner ? owner : undefined);
  return w.end().toString();
}

function encoder(encodingType: 'url' | undefined): (s: string) => string {
  return encodingType === 'url' ? listingUrlEncode : identity;
}

function identity(s: string): string {
  return s;
}

function writeEntries(w: XmlWriter, page: ListPage, enc: (s: string) => string, owner: Owner | undefined): void {
  for (const e of page.contents) {
    w.start('Contents').text('Key', enc(e.key)).text('LastModified', isoDate(e.mtimeMs));
    // Quotes written as entities directly: escaping '"'+etag+'"' would take the slow path every time.
    if (e.etag !== '') w.raw('<ETag>&quot;' + escapeXml(e.etag) + '&quot;</ETag>');
    w.text('Size', e.size);
    if (owner !== undefined) w.start('Owner').text('ID', owner.id).text('DisplayName', owner.displayName).end();
    w.text('StorageClass', 'STANDARD').end();
  }
  for (const p of page.commonPrefixes) w.start('CommonPrefixes').text('Prefix', enc(p)).end();
}

// The greater of the last key and the last common prefix, compared as UTF-8 bytes like S3's order
// (JS string comparison is UTF-16 order, which differs above U+FFFF).
function lastListed(page: ListPage): string | undefined {
  const k = page.contents.length > 0 ? page.contents[page.contents.length - 1]!.key : undefined;
  const p = page.commonPrefixes.length > 0 ? page.commonPrefixes[page.commonPrefixes.length - 1] : undefined;
  if (k === undefined) return p;
  if (p === undefined) return k;
  return Buffer.compare(Buffer.from(k, 'utf8'), Buffer.from(p, 'utf8')) >= 0 ? k : p;
}
