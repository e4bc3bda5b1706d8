// Writes an S3 bucket inventory in the format S3 publishes (CSV): manifest.json, manifest.checksum and
// gzip CSV parts under <prefix>/<source>/<config-id>/..., from a list of objects. Entries are spread
// over the parts round-robin, so no part is sorted on its own — as S3 gives no order either.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { encodeKey } from '../../src/backend/inventory';

export interface InvObject {
  key: string;
  size: number;
  mtimeMs: number;
  etag: string;
}

export interface InvOptions {
  prefix?: string;
  sourceBucket: string;
  configId: string;
  /** Folder name of the scan, e.g. 2026-12-01T00-00Z. */
  stamp: string;
  createdMs: number;
  parts?: number;
  /** Extra CSV rows (already CSV) appended to the first part: versions, delete markers. */
  extraRows?: string[];
  schema?: string;
}

export const DEFAULT_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass';

/** key → bytes of every file of the inventory. */
export function makeInventory(objs: readonly InvObject[], o: InvOptions): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const base = `${o.prefix ? o.prefix.replace(/\/$/, '') + '/' : ''}${o.sourceBucket}/${o.configId}`;
  const nparts = o.parts ?? 1;
  const rows: string[][] = Array.from({ length: nparts }, () => []);
  objs.forEach((ob, i) => {
    const f = [o.sourceBucket, encodeKey(ob.key), '', 'true', 'false', String(ob.size), new Date(ob.mtimeMs).toISOString(), ob.etag, 'STANDARD'];
    rows[i % nparts]!.push(f.map((v) => `"${v.replace(/"/g, '""')}"`).join(','));
  });
  if (o.extraRows) rows[0]!.push(...o.extraRows);
  const manifestFiles = rows.map((r, i) => {
    const key = `${base}/data/${crypto.createHash('sha1').update(`${o.stamp}-${i}`).digest('hex')}.csv.gz`;
    const gz = zlib.gzipSync(Buffer.from(r.join('\n') + '\n'));
    files.set(key, gz);
    return { key, size: gz.length, MD5checksum: crypto.createHash('md5').update(gz).digest('hex') };
  });
  const manifest = Buffer.from(
    JSON.stringify(
      {
        sourceBucket: o.sourceBucket,
        destinationBucket: 'arn:aws:s3:::inventory-dest',
        version: '2016-11-30',
        creationTimestamp: String(o.createdMs),
        fileFormat: 'CSV',
        fileSchema: o.schema ?? DEFAULT_SCHEMA,
        files: manifestFiles,
      },
      null,
      2,
    ),
  );
  files.set(`${base}/${o.stamp}/manifest.json`, manifest);
  files.set(`${base}/${o.stamp}/manifest.checksum`, Buffer.from(crypto.createHash('md5').update(manifest).digest('hex') + '\n'));
  return files;
}
