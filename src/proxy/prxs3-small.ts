// The small calls clients make on the way to their real work (sync tools, SDK managers, backup
// programs): ACLs (the owner has full control; only the canned "private" ACL can be "set"), object
// versions of our unversioned buckets (every object once, version "null"), and bucket tagging (none).
// The router names them as Unsupported ops; handleSmallCall serves those it knows and returns false
// for the rest, which stay 501 NotImplemented.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import type { UnsupportedOp } from '../s3/ops';
import { s3err, noSuchBucket, noSuchKey, notImplemented, S3Error } from '../s3/errors';
import { validateObjectKey } from '../s3/names';
import { parseQuery, listingUrlEncode } from '../s3/uri';
import { isoDate } from '../s3/time';
import { S3_XMLNS, XmlWriter, escapeXml } from '../s3/xml';
import type { Owner } from '../s3/list-xml';
import type { ListResult } from '../target/list';
import { listCluster } from './fanout';
import type { Node } from '../cluster/node';

const XML: readonly [string, string] = ['Content-Type', 'application/xml'];

export async function handleSmallCall(node: Node, res: HttpResponse, req: Req, op: UnsupportedOp, owner: Owner): Promise<boolean> {
  switch (op.what) {
    case 'GetBucketAcl':
    case 'GetObjectAcl':
      requireTarget(node, op);
      reply(res, req, '200 OK', [XML], aclXml(owner));
      return true;
    case 'PutBucketAcl':
    case 'PutObjectAcl':
      requireTarget(node, op);
      await putAcl(req, res, op.what);
      reply(res, req, '200 OK', []);
      return true;
    case 'GetBucketTagging':
      requireTarget(node, op);
      // S3: a bucket without tags answers NoSuchTagSet.
      throw new S3Error('NoSuchTagSet', undefined, { BucketName: op.bucket }, '/' + op.bucket);
    case 'ListObjectVersions':
      requireTarget(node, op);
      await listVersions(node, res, req, op.bucket, owner);
      return true;
    default:
      return false;
  }
}

/** The bucket must exist, and the object too when the op names one. */
function requireTarget(node: Node, op: UnsupportedOp): void {
  if (!node.bmd.get(op.bucket)) throw noSuchBucket(op.bucket);
  if (op.key === undefined) return;
  validateObjectKey(op.key);
  const h = node.target.openObject(op.bucket, op.key);
  if (!h) throw noSuchKey(op.bucket, op.key);
  fs.close(h.fd, () => {});
}

/**
 * Every object is private to the one owner. Setting exactly that (canned ACL "private", no grant headers,
 * no body) is accepted as the no-op it is; any other ACL is NotImplemented, not silently ignored.
 */
function putAcl(req: Req, res: HttpResponse, what: string): Promise<void> {
  const canned = header(req, 'x-amz-acl').trim();
  const grants = Object.keys(req.headers).some((k) => k.startsWith('x-amz-grant-'));
  const len = header(req, 'content-length');
  const hasBody = (len !== '' && len !== '0') || header(req, 'transfer-encoding') !== '';
  return new Promise((resolve, reject) => {
    let bytes = 0;
    res.onData((chunk, isLast) => {
      bytes += chunk.byteLength;
      if (!isLast) return;
      if (canned === 'private' && !grants && !hasBody && bytes === 0) resolve();
      else reject(notImplemented(`${what} with anything but the canned ACL "private"`));
    });
  });
}

function aclXml(owner: Owner): string {
  const w = new XmlWriter().start('AccessControlPolicy', S3_XMLNS);
  w.start('Owner').text('ID', owner.id).text('DisplayName', owner.displayName).end();
  w.start('AccessControlList').start('Grant');
  w.raw('<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">');
  w.raw('<ID>' + escapeXml(owner.id) + '</ID><DisplayName>' + escapeXml(owner.displayName) + '</DisplayName></Grantee>');
  w.text('Permission', 'FULL_CONTROL').end().end();
  return w.end().toString();
}

// ---- ListObjectVersions

const COUNT = /^\d{1,10}$/;

async function listVersions(node: Node, res: HttpResponse, req: Req, bucket: string, owner: Owner): Promise<void> {
  const q = parseQuery(req.query);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const versionIdMarker = q.get('version-id-marker') ?? '';
  const mk = q.get('max-keys');
  const n = mk === undefined ? 1000 : COUNT.test(mk) ? Number(mk) : NaN;
  if (!(n >= 0 && n <= 2147483647)) throw s3err('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: mk ?? '' });
  const maxKeys = Math.min(n, 1000);
  const et = q.get('encoding-type');
  if (et !== undefined && et.toLowerCase() !== 'url') throw s3err('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: et });
  if (versionIdMarker !== '' && keyMarker === '') {
    throw s3err('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  if (versionIdMarker !== '' && versionIdMarker !== 'null') {
    throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker });
  }
  // One version per key: the next page starts after the key marker (its only version, "null", was listed).
  const page = await listCluster(node, bucket, { prefix, delimiter, after: keyMarker, maxKeys });
  reply(res, req, '200 OK', [XML], versionsXml({ bucket, prefix, delimiter, keyMarker, versionIdMarker, maxKeys, url: et !== undefined }, page, owner));
}

interface VersionsParams {
  bucket: string;
  prefix: string;
  delimiter: string;
  keyMarker: string;
  versionIdMarker: string;
  maxKeys: number;
  url: boolean;
}

export function versionsXml(p: VersionsParams, page: ListResult, owner: Owner): string {
  const enc = p.url ? listingUrlEncode : (s: string): string => s;
  const w = new XmlWriter().start('ListVersionsResult', S3_XMLNS);
  w.text('Name', p.bucket).text('Prefix', enc(p.prefix)).text('KeyMarker', enc(p.keyMarker)).text('VersionIdMarker', p.versionIdMarker);
  if (page.truncated) {
    w.text('NextKeyMarker', enc(page.last));
    // The last listed name is an object (version "null") or a common prefix (no version).
    if (page.entries.length > 0 && page.entries[page.entries.length - 1]!.key === page.last) w.text('NextVersionIdMarker', 'null');
  }
  w.text('MaxKeys', p.maxKeys);
  if (p.delimiter !== '') w.text('Delimiter', enc(p.delimiter));
  w.text('IsTruncated', page.truncated);
  if (p.url) w.text('EncodingType', 'url');
  for (const e of page.entries) {
    w.start('Version').text('Key', enc(e.key)).text('VersionId', 'null').text('IsLatest', true).text('LastModified', isoDate(e.mtimeMs));
    if (e.etag !== '') w.raw('<ETag>&quot;' + escapeXml(e.etag) + '&quot;</ETag>');
    w.text('Size', e.size).text('StorageClass', 'STANDARD');
    w.start('Owner').text('ID', owner.id).text('DisplayName', owner.displayName).end();
    w.end();
  }
  for (const cp of page.commonPrefixes) w.start('CommonPrefixes').text('Prefix', enc(cp)).end();
  return w.end().toString();
}
