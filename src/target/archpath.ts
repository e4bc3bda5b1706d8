// GET /v1/objects/BUCKET/SHARD.tar?archpath=NAME: one file out of a tar shard (AIStore's archpath), as
// ML dataloaders read WebDataset shards. The owner finds the member by the shard's index (its headers,
// read once and kept per HTTP thread for the shard's size and mtime) and streams the member's bytes as a
// range of the shard (a Range header is relative to the member). Like any range, the member is not
// verified against the shard's checksum (that covers the whole shard): a whole-shard GET is.
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import { ApiError, notFound, sendApiError } from '../api/native';
import { parseRange, contentRange, contentRangeUnsatisfied } from '../s3/range';
import { readTarIndex, TarError, type TarMember } from '../archive/tar';
import { streamObject } from './get';
import type { ObjectHandle, Target } from './target';
import fs from 'node:fs';

/** Shard indexes kept per HTTP thread (least recently used go first). */
const MAX_INDEXES = 64;
const indexes = new Map<string, Map<string, TarMember>>();

export const ARCHIVE_EXTS = ['.tar'];

function readAt(fd: number): (position: number, length: number) => Promise<Buffer> {
  return (position, length) =>
    new Promise((resolve, reject) => {
      const b = Buffer.allocUnsafe(length);
      fs.read(fd, b, 0, length, position, (err, n) => (err ? reject(err) : resolve(b.subarray(0, n))));
    });
}

async function memberIndex(h: ObjectHandle): Promise<Map<string, TarMember>> {
  const key = `${h.path}\0${h.lom.size}\0${h.lom.mtime}`;
  let idx = indexes.get(key);
  if (idx) {
    indexes.delete(key);
    indexes.set(key, idx);
    return idx;
  }
  const members = await readTarIndex(readAt(h.fd), h.lom.size);
  idx = new Map(members.map((m) => [m.name, m]));
  indexes.set(key, idx);
  if (indexes.size > MAX_INDEXES) indexes.delete(indexes.keys().next().value!);
  return idx;
}

/** The files of a shard on this target (its listing with --archive): [] when it is missing or not a tar. */
export async function shardMembers(target: Target, bucket: string, obj: string): Promise<{ name: string; size: number }[]> {
  if (!ARCHIVE_EXTS.some((e) => obj.toLowerCase().endsWith(e))) return [];
  const h = target.openForRead(bucket, obj);
  if (!h) return [];
  try {
    return [...(await memberIndex(h)).values()].map((m) => ({ name: m.name, size: m.size }));
  } catch (err) {
    if (err instanceof TarError) return [];
    throw err;
  } finally {
    target.closeObject(h);
  }
}

export async function getArchived(target: Target, res: HttpResponse, req: Req, bucket: string, obj: string, archpath: string): Promise<void> {
  const uri = `${bucket}/${obj}`;
  if (!ARCHIVE_EXTS.some((e) => obj.toLowerCase().endsWith(e))) throw new ApiError(400, `archpath: "${obj}" is not a shard tais can read (${ARCHIVE_EXTS.join(', ')})`);
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
