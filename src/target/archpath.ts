// GET /v1/objects/BUCKET/SHARD.tar?archpath=NAME: one file out of a tar shard (AIStore's archpath), as
// ML dataloaders read WebDataset shards. A .tgz / .tar.gz shard is decompressed from its start up to the
// file, which is answered from memory (gzip has no offsets to seek to); a .zip's file is found by its
// central directory and read whole (inflated, CRC-32 checked: zip members carry their own). The owner finds the member by the shard's index (its headers,
// read once and kept per HTTP thread for the shard's size and mtime) and streams the member's bytes as a
// range of the shard (a Range header is relative to the member). Like any range, the member is not
// verified against the shard's checksum (that covers the whole shard): a whole-shard GET is.
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import { ApiError, notFound, sendApiError } from '../api/native';
import { parseRange, contentRange, contentRangeUnsatisfied } from '../s3/range';
import { readTarIndex, streamTar, TarError, type StreamedMember, type TarMember } from '../archive/tar';
import { readZipIndex, readZipMember, ZipError, type ZipMember } from '../archive/zip';
import { streamObject } from './get';
import type { ObjectHandle, Target } from './target';
import fs from 'node:fs';
import zlib from 'node:zlib';

/** Shard indexes kept per HTTP thread (least recently used go first). */
const MAX_INDEXES = 64;
const indexes = new Map<string, Map<string, TarMember>>();

export const ARCHIVE_EXTS = ['.tar', '.tgz', '.tar.gz', '.zip'];
export const isGz = (obj: string): boolean => /\.(tgz|tar\.gz)$/i.test(obj);
export const isZip = (obj: string): boolean => /\.zip$/i.test(obj);
/** A file read out of a compressed shard is held whole (the shard is decompressed up to it). */
const MAX_GZ_MEMBER = 256 << 20;

/**
 * The decompressed bytes of a .tgz shard, from its start (no offsets into a gzip stream). The stream owns
 * the handle's fd and closes it (after any read in flight) when it ends or `done()` destroys it.
 */
export function gunzipped(h: ObjectHandle): { chunks: AsyncIterable<Buffer>; done: () => void } {
  const src = fs.createReadStream('', { fd: h.fd, autoClose: true, start: 0, highWaterMark: 1 << 20 });
  const gz = src.pipe(zlib.createGunzip());
  src.on('error', (err) => gz.destroy(err));
  return { chunks: gz, done: () => (src.destroy(), gz.destroy()) };
}

export function readAt(fd: number): (position: number, length: number) => Promise<Buffer> {
  return (position, length) =>
    new Promise((resolve, reject) => {
      const b = Buffer.allocUnsafe(length);
      fs.read(fd, b, 0, length, position, (err, n) => (err ? reject(err) : resolve(b.subarray(0, n))));
    });
}

export function memberIndex(h: ObjectHandle): Promise<Map<string, TarMember>> {
  return cached(indexes, h, async () => new Map((await readTarIndex(readAt(h.fd), h.lom.size)).map((m) => [m.name, m])));
}

const zipIndexes = new Map<string, ZipMember[]>();

/** A .zip shard's central directory, kept like the tar indexes. */
export function zipIndex(h: ObjectHandle): Promise<ZipMember[]> {
  return cached(zipIndexes, h, () => readZipIndex(readAt(h.fd), h.lom.size));
}

/** A shard's index from `cache` (keyed by path, size and mtime: an overwritten shard has another), least recently used out first. */
async function cached<T>(cache: Map<string, T>, h: ObjectHandle, load: () => Promise<T>): Promise<T> {
  const key = `${h.path}\0${h.lom.size}\0${h.lom.mtime}`;
  let idx = cache.get(key);
  if (idx) {
    cache.delete(key);
    cache.set(key, idx);
    return idx;
  }
  idx = await load();
  cache.set(key, idx);
  if (cache.size > MAX_INDEXES) cache.delete(cache.keys().next().value!);
  return idx;
}

/** The files of a shard on this target (its listing with --archive): [] when it is missing or not a tar. */
export async function shardMembers(target: Target, bucket: string, obj: string): Promise<{ name: string; size: number }[]> {
  if (!ARCHIVE_EXTS.some((e) => obj.toLowerCase().endsWith(e))) return [];
  if (isGz(obj)) {
    const gz = target.openObject(bucket, obj);
    if (!gz) return [];
    const z = gunzipped(gz);
    const out: { name: string; size: number }[] = [];
    try {
      for await (const m of streamTar(z.chunks)) out.push({ name: m.name, size: m.size });
    } catch (err) {
      if (err instanceof TarError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) return [];
      throw err;
    } finally {
      z.done();
    }
    return out;
  }
  const h = target.openForRead(bucket, obj);
  if (!h) return [];
  try {
    const members = isZip(obj) ? await zipIndex(h) : (await memberIndex(h)).values();
    return [...members].map((m) => ({ name: m.name, size: m.size }));
  } catch (err) {
    if (err instanceof TarError || err instanceof ZipError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) return [];
    throw err;
  } finally {
    target.closeObject(h);
  }
}

/** A file out of a .tgz shard: decompressed up to it and answered from memory. */
async function getFromGz(res: HttpResponse, req: Req, h: ObjectHandle, uri: string, archpath: string): Promise<void> {
  const want = archpath.replace(/^\.?\//, '');
  let found: StreamedMember | undefined;
  const z = gunzipped(h);
  try {
    for await (const m of streamTar(z.chunks, (n, size) => n === want && size <= MAX_GZ_MEMBER)) {
      if (m.name !== want) continue;
      if (!m.data) throw new ApiError(400, `file "${archpath}" in "${uri}" is ${m.size} bytes: files of compressed shards are read up to ${MAX_GZ_MEMBER} bytes`);
      found = m;
      break;
    }
  } catch (err) {
    if (err instanceof TarError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new ApiError(400, `"${uri}" is not a readable .tgz: ${(err as Error).message}`);
    throw err;
  } finally {
    z.done();
  }
  if (!found) throw notFound(`file "${archpath}" in archive "${uri}"`);
  replyMember(res, req, found.data!, archpath);
}

/** A file out of a .zip shard: read whole (decompressed, its CRC-32 checked) and answered from memory. */
async function getFromZip(target: Target, res: HttpResponse, req: Req, h: ObjectHandle, uri: string, archpath: string): Promise<void> {
  let data: Buffer;
  try {
    const want = archpath.replace(/^\.?\//, '');
    const m = (await zipIndex(h)).find((x) => x.name === want);
    if (!m) throw notFound(`file "${archpath}" in archive "${uri}"`);
    if (m.size > MAX_GZ_MEMBER) throw new ApiError(400, `file "${archpath}" in "${uri}" is ${m.size} bytes: files of .zip shards are read up to ${MAX_GZ_MEMBER} bytes`);
    data = await readZipMember(readAt(h.fd), m);
  } catch (err) {
    if (err instanceof ZipError) throw new ApiError(400, `"${uri}": not a readable .zip: ${err.message}`);
    throw err;
  } finally {
    target.closeObject(h);
  }
  replyMember(res, req, data, archpath);
}

/** A file held in memory, whole or the Range asked for. */
function replyMember(res: HttpResponse, req: Req, data: Buffer, archpath: string): void {
  const rangeHeader = header(req, 'range');
  const range = rangeHeader ? parseRange(rangeHeader, data.length) : null;
  if (range === 'unsatisfiable') {
    return reply(res, req, '416 Range Not Satisfiable', [['Content-Type', 'application/json'], ['Content-Range', contentRangeUnsatisfied(data.length)]], JSON.stringify({ message: `range "${rangeHeader}" is not satisfiable for "${archpath}" of ${data.length} bytes`, status: 416 }));
  }
  const headers: [string, string][] = [['Content-Type', 'application/octet-stream'], ['Accept-Ranges', 'bytes']];
  if (!range) return reply(res, req, '200 OK', headers, data);
  headers.push(['Content-Range', contentRange(range.start, range.end, data.length)]);
  reply(res, req, '206 Partial Content', headers, data.subarray(range.start, range.end + 1));
}

export async function getArchived(target: Target, res: HttpResponse, req: Req, bucket: string, obj: string, archpath: string): Promise<void> {
  const uri = `${bucket}/${obj}`;
  if (!ARCHIVE_EXTS.some((e) => obj.toLowerCase().endsWith(e))) throw new ApiError(400, `archpath: "${obj}" is not a shard tais can read (${ARCHIVE_EXTS.join(', ')})`);
  if (isGz(obj)) {
    const gz = target.openObject(bucket, obj); // a plain fd, which the decompressing stream owns and closes
    if (!gz) throw notFound(`object "${uri}"`);
    return getFromGz(res, req, gz, uri, archpath);
  }
  if (isZip(obj)) {
    const z = target.openForRead(bucket, obj);
    if (!z) throw notFound(`object "${uri}"`);
    return getFromZip(target, res, req, z, uri, archpath);
  }
  let h = target.openForRead(bucket, obj);
  if (!h) throw notFound(`object "${uri}"`);
  try {
    let idx: Map<string, TarMember>;
    try {
      idx = await memberIndex(h);
    } catch (err) {
      if (err instanceof TarError) throw new ApiError(400, `"${uri}" is not a readable tar: ${err.message}`);
      throw err;
    }
    const m = idx.get(archpath.replace(/^\.?\//, ''));
    if (!m) throw notFound(`file "${archpath}" in archive "${uri}"`);
    const headers: [string, string][] = [['Content-Type', 'application/octet-stream'], ['Accept-Ranges', 'bytes']];
    const rangeHeader = header(req, 'range');
    const range = rangeHeader ? parseRange(rangeHeader, m.size) : null;
    if (range === 'unsatisfiable') {
      return reply(res, req, '416 Range Not Satisfiable', [['Content-Type', 'application/json'], ['Content-Range', contentRangeUnsatisfied(m.size)]], JSON.stringify({ message: `range "${rangeHeader}" is not satisfiable for "${archpath}" of ${m.size} bytes`, status: 416 }));
    }
    let start = m.offset;
    let length = m.size;
    let status = '200 OK';
    if (range) {
      status = '206 Partial Content';
      start = m.offset + range.start;
      length = range.end - range.start + 1;
      headers.push(['Content-Range', contentRange(range.start, range.end, m.size)]);
    }
    if (req.aborted) return;
    const handle = h;
    h = undefined;
    streamObject(target, res, req, handle, { status, headers, start, length, verify: false }, (err) => {
      target.stats.errGetCount++;
      sendApiError(res, req, err);
    });
  } finally {
    if (h) target.closeObject(h);
  }
}
