// Listing a remote bucket from its S3 inventory (the CSV format `put-bucket-inventory-configuration`
// produces) instead of ListObjects calls: `ais ls s3://B --inventory`, or the S3 header
// `Ais-Bucket-Inventory: true`. The inventory is found where S3 writes it when its destination is the
// bucket itself under `.inventory` (AIStore's convention): `.inventory/<bucket>/<config-id>/
// <YYYY-MM-DDTHH-MMZ>/manifest.json`, whose `files` are gzip CSV parts, `fileSchema` naming the
// columns. The newest manifest wins. Parts are streamed (gunzip, lines), keys URL-decoded, and the
// names sorted once; pages are then cut from that sorted list by the last name (the continuation
// token), so paging is in key order whatever order the parts hold. The sorted list is kept in the
// gateway's memory per manifest (about 100 bytes a name): fine for millions of names, not billions.
import readline from 'node:readline';
import zlib from 'node:zlib';
import type { BucketProps } from '../cluster/config';
import { compareNames } from '../fs/fqn';
import { getObject, listPage, BackendError } from './s3';

export interface InventoryEntry {
  name: string;
  size: number;
  etag: string;
  mtime: number;
}

export interface Inventory {
  manifestKey: string;
  /** When S3 wrote the inventory (manifest `creationTimestamp`), ms. */
  created: number;
  entries: InventoryEntry[];
}

const cache = new Map<string, Promise<Inventory>>();

/** The newest inventory of the bucket (cached per manifest); `name`: the folder under the bucket (default `.inventory`). */
export async function loadInventory(bucket: string, props: BucketProps, name = '.inventory', id = ''): Promise<Inventory> {
  const prefix = `${name}/${bucket}/${id ? `${id}/` : ''}`;
  let newest = '';
  let token: string | undefined;
  do {
    const page = await listPage(bucket, props, { prefix, delimiter: '', after: '', maxKeys: 1000, ...(token ? { token } : {}) });
    // Date folders sort by time; under one config the newest manifest has the greatest key.
    for (const e of page.entries) if (e.name.endsWith('/manifest.json') && compareNames(e.name, newest) > 0) newest = e.name;
    token = page.next;
  } while (token);
  if (newest === '') throw new BackendError(404, 'NoSuchInventory', `no inventory manifest under s3://${bucket}/${prefix} (S3 writes <config-id>/<date>/manifest.json there)`);
  const key = `${bucket}\n${newest}`;
  let inv = cache.get(key);
  if (!inv) {
    inv = readInventory(bucket, props, newest);
    cache.set(key, inv);
    inv.catch(() => cache.delete(key));
  }
  return inv;
}

interface Manifest {
  creationTimestamp?: string;
  fileFormat?: string;
  fileSchema?: string;
  files?: { key: string }[];
}

async function readInventory(bucket: string, props: BucketProps, manifestKey: string): Promise<Inventory> {
  const m = await getObject(bucket, manifestKey, props);
  if (!m) throw new BackendError(404, 'NoSuchInventory', `inventory manifest s3://${bucket}/${manifestKey} disappeared`);
  const chunks: Buffer[] = [];
  for await (const c of m.body) chunks.push(c as Buffer);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Manifest;
  } catch {
    throw new BackendError(422, 'InvalidInventory', `s3://${bucket}/${manifestKey} is not JSON`);
  }
  if ((manifest.fileFormat ?? 'CSV').toUpperCase() !== 'CSV') throw new BackendError(422, 'InvalidInventory', `inventory format ${manifest.fileFormat}: only CSV is read`);
  const cols = (manifest.fileSchema ?? 'Bucket, Key, Size, LastModifiedDate, ETag').split(',').map((c) => c.trim());
  const at = (n: string): number => cols.indexOf(n);
  const [iKey, iSize, iEtag, iTime] = [at('Key'), at('Size'), at('ETag'), at('LastModifiedDate')];
  if (iKey < 0) throw new BackendError(422, 'InvalidInventory', `inventory schema "${manifest.fileSchema}" has no Key`);
  const entries: InventoryEntry[] = [];
  for (const f of manifest.files ?? []) {
    const part = await getObject(bucket, f.key, props);
    if (!part) throw new BackendError(404, 'NoSuchInventory', `inventory part s3://${bucket}/${f.key} is missing`);
    const lines = readline.createInterface({ input: part.body.pipe(zlib.createGunzip()), crlfDelay: Infinity });
    for await (const line of lines) {
      if (line === '') continue;
      const v = csvFields(line);
      const name = decodeKey(v[iKey] ?? '');
      if (name === '') continue;
      entries.push({
        name,
        size: iSize >= 0 ? Number(v[iSize] ?? 0) || 0 : 0,
        etag: iEtag >= 0 ? (v[iEtag] ?? '') : '',
        mtime: iTime >= 0 ? Date.parse(v[iTime] ?? '') || 0 : 0,
      });
    }
  }
  entries.sort((a, b) => compareNames(a.name, b.name));
  return { manifestKey, created: Number(manifest.creationTimestamp ?? 0), entries };
}

/** One CSV line as S3 inventory writes it: every field in double quotes, "" for a quote inside. */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) {
          v += line.slice(i);
          i = line.length;
          break;
        }
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      i++; // the comma
    } else {
      const c = line.indexOf(',', i);
      out.push(c < 0 ? line.slice(i) : line.slice(i, c));
      i = c < 0 ? line.length + 1 : c + 1;
    }
  }
  return out;
}

/** Inventory keys are URL-encoded ('+' for a space, as form encoding writes it). */
function decodeKey(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** The page of names after `after` (with `prefix`), at most `max`. */
export function inventoryPage(inv: Inventory, q: { prefix: string; after: string; maxKeys: number }): { entries: InventoryEntry[]; truncated: boolean } {
  const e = inv.entries;
  // Start after the last name listed, or at the prefix, whichever is further.
  const strict = q.after !== '' && compareNames(q.after, q.prefix) >= 0;
  const from = strict ? q.after : q.prefix;
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareNames(e[mid]!.name, from);
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  const out: InventoryEntry[] = [];
  let i = lo;
  for (; i < e.length && out.length < q.maxKeys; i++) {
    if (!e[i]!.name.startsWith(q.prefix)) break;
    out.push(e[i]!);
  }
  return { entries: out, truncated: i < e.length && e[i]!.name.startsWith(q.prefix) };
}
