// S3 bucket inventory: list a huge remote bucket from the inventory S3 publishes for it (CSV format,
// `put-bucket-inventory-configuration`) instead of paging through ListObjectsV2.
//
// Where S3 writes it (destination bucket, optional destination prefix):
//   <prefix>/<source-bucket>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json   (+ manifest.checksum)
//   <prefix>/<source-bucket>/<config-id>/data/<uuid>.csv.gz                  (the parts it names)
// The newest manifest (timestamps sort as text) is the inventory. Its `fileSchema` names the CSV
// columns; each part is a gzip CSV whose keys are URL-encoded. Parts are streamed (gunzip → lines),
// their MD5 checked against the manifest's `MD5checksum` (data is never trusted without its
// checksum), and the names kept once per (bucket, manifest) as a sorted index, so every page after
// the first is a binary search. The index is in memory: ~100 bytes per object (10 M objects ≈ 1 GiB)
// — the limit is written in the README.

import * as crypto from 'node:crypto';
import * as readline from 'node:readline';
import * as zlib from 'node:zlib';
import type { Readable } from 'node:stream';
import { compareNames } from '../fs/fqn';
import type { ListQuery, ListResult, ListedObject } from '../target/list';

/** The bucket that holds the inventory files, as an S3 client sees it. */
export interface InventoryStore {
  /** Keys under `prefix`, in any order. */
  list(prefix: string): AsyncIterable<string>;
  get(key: string): Promise<Readable>;
}

export interface InventoryLocation {
  /** Destination prefix from the inventory configuration ('' = none). */
  prefix: string;
  /** The bucket the inventory lists. */
  sourceBucket: string;
  /** Inventory configuration ID; undefined = the newest manifest of any configuration. */
  configId?: string;
}

export interface InventoryManifest {
  /** Key of manifest.json in the destination bucket. */
  key: string;
  sourceBucket: string;
  /** ms since the epoch, from `creationTimestamp`. */
  createdMs: number;
  columns: string[];
  files: { key: string; size: number; md5: string }[];
}

export class InventoryError extends Error {}

const MANIFEST = 'manifest.json';
/** `YYYY-MM-DDTHH-MMZ`, the folder S3 names after the scan's start. */
const STAMP = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z$/;

/** Finds the newest manifest.json for the location (key only; parsing is `readManifest`). */
export async function findManifest(store: InventoryStore, loc: InventoryLocation): Promise<string> {
  const base = joinKey(loc.prefix, loc.sourceBucket) + '/';
  const under = loc.configId === undefined ? base : `${base}${loc.configId}/`;
  let best: { key: string; stamp: string } | undefined;
  for await (const key of store.list(under)) {
    if (!key.endsWith('/' + MANIFEST)) continue;
    const parts = key.slice(base.length).split('/'); // <config-id>/<stamp>/manifest.json
    if (parts.length !== 3 || !STAMP.test(parts[1]!)) continue;
    if (loc.configId !== undefined && parts[0] !== loc.configId) continue;
    // Newest scan wins; between configurations with the same stamp, the later key (stable choice).
    if (best === undefined || parts[1]! > best.stamp || (parts[1] === best.stamp && key > best.key)) {
      best = { key, stamp: parts[1]! };
    }
  }
  if (best === undefined) {
    throw new InventoryError(`no S3 inventory manifest under "${under}" (expected <config-id>/<YYYY-MM-DDTHH-MMZ>/${MANIFEST})`);
  }
  return best.key;
}

/** Reads and validates manifest.json (and its manifest.checksum, when S3 wrote one). */
export async function readManifest(store: InventoryStore, key: string): Promise<InventoryManifest> {
  const raw = await readAll(await store.get(key), 16 << 20);
  const sumKey = key.slice(0, -MANIFEST.length) + 'manifest.checksum';
  let sum: string | undefined;
  try {
    sum = (await readAll(await store.get(sumKey), 1024)).toString('utf8').trim().toLowerCase();
  } catch {
    sum = undefined; // optional: older inventories and hand-made ones have none
  }
  if (sum !== undefined && sum !== crypto.createHash('md5').update(raw).digest('hex')) {
    throw new InventoryError(`${key}: MD5 does not match manifest.checksum`);
  }
  let m: unknown;
  try {
    m = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new InventoryError(`${key}: not JSON (${(e as Error).message})`);
  }
  return parseManifest(key, m);
}

export function parseManifest(key: string, m: unknown): InventoryManifest {
  const o = m as Record<string, unknown>;
  const bad = (why: string): never => {
    throw new InventoryError(`${key}: ${why}`);
  };
  if (typeof o !== 'object' || o === null) bad('not an object');
  if (o.fileFormat !== 'CSV') bad(`fileFormat ${JSON.stringify(o.fileFormat)}: only CSV inventories are supported`);
  if (typeof o.fileSchema !== 'string') bad('no fileSchema');
  const columns = (o.fileSchema as string).split(',').map((c) => c.trim());
  if (!columns.includes('Key')) bad('fileSchema has no Key column');
  if (!Array.isArray(o.files)) bad('no files');
  const files = (o.files as unknown[]).map((f, i) => {
    const r = f as Record<string, unknown>;
    if (typeof r?.key !== 'string') bad(`files[${i}] has no key`);
    return { key: r.key as string, size: Number(r.size ?? 0), md5: String(r.MD5checksum ?? '').toLowerCase() };
  });
  const created = Number(o.creationTimestamp);
  return {
    key,
    sourceBucket: typeof o.sourceBucket === 'string' ? o.sourceBucket : '',
    createdMs: Number.isFinite(created) ? created : 0,
    columns,
    files,
  };
}

/** One object of the inventory. */
export interface InventoryEntry {
  key: string;
  size: number;
  mtimeMs: number;
  etag: string;
}

/** Streams the entries of one gzip CSV part, checking its MD5 against the manifest. */
export async function* readPart(store: InventoryStore, m: InventoryManifest, file: InventoryManifest['files'][number]): AsyncGenerator<InventoryEntry> {
  const col = (name: string) => m.columns.indexOf(name);
  const iKey = col('Key');
  const iSize = col('Size');
  const iMod = col('LastModifiedDate');
  const iEtag = col('ETag');
  const iLatest = col('IsLatest');
  const iDeleted = col('IsDeleteMarker');
  const body = await store.get(file.key);
  const md5 = crypto.createHash('md5');
  body.on('data', (b: Buffer) => md5.update(b));
  const gunzip = zlib.createGunzip();
  body.on('error', (e) => gunzip.destroy(e));
  const lines = readline.createInterface({ input: body.pipe(gunzip), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line === '') continue;
    const f = splitCsv(line);
    if (f === undefined || f.length <= iKey) throw new InventoryError(`${file.key}: line ${n} is not CSV of ${m.columns.length} columns`);
    // With IncludedObjectVersions=All the inventory holds every version: list the current ones.
    if (iLatest >= 0 && f[iLatest] === 'false') continue;
    if (iDeleted >= 0 && f[iDeleted] === 'true') continue;
    yield {
      key: decodeKey(f[iKey]!),
      size: iSize >= 0 ? Number(f[iSize]) || 0 : 0,
      mtimeMs: iMod >= 0 ? Date.parse(f[iMod]!) || 0 : 0,
      etag: iEtag >= 0 ? f[iEtag]!.replace(/"/g, '') : '',
    };
  }
  if (file.md5 !== '' && md5.digest('hex') !== file.md5) throw new InventoryError(`${file.key}: MD5 does not match the manifest`);
}

/** A loaded inventory: names sorted in S3 order, pages by binary search. */
export class InventoryIndex {
  private constructor(
    readonly manifest: InventoryManifest,
    private readonly entries: InventoryEntry[],
  ) {}

  static async load(store: InventoryStore, m: InventoryManifest): Promise<InventoryIndex> {
    const entries: InventoryEntry[] = [];
    for (const f of m.files) for await (const e of readPart(store, m, f)) entries.push(e);
    entries.sort((a, b) => compareNames(a.key, b.key));
    // Parts may overlap (a key listed twice): keep one.
    let w = 0;
    for (let r = 0; r < entries.length; r++) if (w === 0 || entries[w - 1]!.key !== entries[r]!.key) entries[w++] = entries[r]!;
    entries.length = w;
    return new InventoryIndex(m, entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Age of the inventory at `now` (S3 publishes daily or weekly: listings can be that stale). */
  ageMs(now = Date.now()): number {
    return Math.max(0, now - this.manifest.createdMs);
  }

  /** One listing page, with the same contract as a target's `listPage`. */
  page(q: ListQuery): ListResult {
    const out: ListResult = { entries: [], commonPrefixes: [], truncated: false, last: '' };
    if (q.maxKeys <= 0) return out;
    // Start at the first name after the token, or at the prefix when the token is before it.
    let i = compareNames(q.after, q.prefix) >= 0 ? this.upperBound(q.after, true) : this.upperBound(q.prefix, false);
    let count = 0;
    for (; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!e.key.startsWith(q.prefix)) {
        if (compareNames(e.key, q.prefix) > 0) break; // past the prefix: nothing more
        continue;
      }
      let cp: string | undefined;
      if (q.delimiter) {
        const d = e.key.indexOf(q.delimiter, q.prefix.length);
        if (d >= 0) cp = e.key.slice(0, d + q.delimiter.length);
      }
      if (cp !== undefined && compareNames(cp, q.after) <= 0) continue;
      if (count === q.maxKeys) {
        out.truncated = true;
        break;
      }
      count++;
      if (cp !== undefined) {
        out.commonPrefixes.push(cp);
        out.last = cp;
        // Skip the rest of the rolled-up names at once.
        i = this.upperBound(cp + '\u{10FFFF}', false) - 1;
        continue;
      }
      const item: ListedObject = { key: e.key, size: e.size, mtimeMs: e.mtimeMs, etag: e.etag };
      out.entries.push(item);
      out.last = e.key;
    }
    return out;
  }

  /** First index whose key is > `key` (exclusive) or >= `key` (inclusive = !exclusive). */
  private upperBound(key: string, exclusive: boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareNames(this.entries[mid]!.key, key);
      if (c < 0 || (exclusive && c === 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** S3 inventory CSV encodes keys as URL form values: %XX escapes, '+' for a space. */
export function decodeKey(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new InventoryError(`bad URL-encoded key in inventory: ${JSON.stringify(s.slice(0, 200))}`);
  }
}

export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

/** Splits one CSV record (RFC 4180 quoting; S3 quotes every field). undefined if malformed. */
export function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        v += line.slice(i, q);
        if (line[q + 1] === '"') {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      i = c < 0 ? line.length : c;
    }
    if (i >= line.length) return out;
    if (line[i] !== ',') return undefined;
    i++;
  }
}

function joinKey(prefix: string, name: string): string {
  if (prefix === '') return name;
  return prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
}

async function readAll(r: Readable, limit: number): Promise<Buffer> {
  const bufs: Buffer[] = [];
  let n = 0;
  for await (const b of r) {
    n += (b as Buffer).length;
    if (n > limit) {
      r.destroy();
      throw new InventoryError(`inventory file larger than ${limit} bytes`);
    }
    bufs.push(b as Buffer);
  }
  return Buffer.concat(bufs);
}
