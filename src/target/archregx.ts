// GET /v1/objects/BUCKET/SHARD?archregx=R&archmode=M: AIStore's many-file read of a shard — every file
// whose name matches, answered as one tar of them in shard order (a WebDataset sample's files in one
// request: archmode=wdskey, archregx=the sample's key). Match modes as AIStore's: regexp (the default
// when only archregx is given), prefix, suffix, substr, wdskey (the name without its extension); an
// empty archregx (or "*") matches every file. No match is 404. From a .tar shard the member bytes are
// streamed as ranges of the shard behind their new headers, with the length known up front; from a
// .tgz the shard is decompressed and the matches held (up to MAX_GZ_TOTAL), from a .zip they are read
// (CRC-32 checked) and held. Like archpath, tar members are not checked against the shard's checksum
// (it covers the whole shard).
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from '../api/http';
import { ApiError, notFound } from '../api/native';
import { memberHeader, padding, streamTar, TarError, TAR_END, type TarMember } from '../archive/tar';
import { ARCHIVE_EXTS, gunzipped, isGz, isZip, memberIndex, readAt, zipIndex } from './archpath';
import { readZipMember, ZipError } from '../archive/zip';
import type { Target } from './target';
import { log } from '../util/log';

export const MATCH_MODES = ['regexp', 'prefix', 'suffix', 'substr', 'wdskey'] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

const TAR_CT: [string, string] = ['Content-Type', 'application/x-tar'];
/** Matches of a compressed shard are held whole before the answer. */
const MAX_GZ_TOTAL = 256 << 20;
const MAX_REGEX = 4096;
const PIECE = 1 << 20;

/** The archmode query value: absent → regexp (AIStore's default), '' or '*' → prefix (match all). */
export function parseMatchMode(v: string | null): MatchMode {
  if (v === null) return 'regexp';
  if (v === '' || v === '*') return 'prefix';
  if ((MATCH_MODES as readonly string[]).includes(v)) return v as MatchMode;
  throw new ApiError(400, `invalid archmode "${v}" (expecting one of: ${MATCH_MODES.join(', ')})`);
}

/** WebDataset's sample key: the path without the last segment's extension, no leading '/'. */
export function wdsKey(name: string): string {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  return (dot > slash ? name.slice(0, dot) : name).replace(/^\//, '');
}

export function archMatcher(regex: string, mode: MatchMode): (name: string) => boolean {
  if (regex === '' || regex === '*') return () => true;
  if (regex.length > MAX_REGEX) throw new ApiError(400, `archregx: longer than ${MAX_REGEX} characters`);
  switch (mode) {
    case 'regexp': {
      let re: RegExp;
      try {
        re = new RegExp(regex);
      } catch (err) {
        throw new ApiError(400, `archregx: invalid regular expression: ${(err as Error).message}`);
      }
      return (n) => re.test(n);
    }
    case 'prefix':
      return (n) => n.startsWith(regex);
    case 'suffix':
      return (n) => n.endsWith(regex);
    case 'substr':
      return (n) => n.includes(regex);
    case 'wdskey':
      return (n) => wdsKey(n) === regex;
  }
}

export async function getArchivedMany(target: Target, res: HttpResponse, req: Req, bucket: string, obj: string, regex: string, mode: MatchMode): Promise<void> {
  const uri = `${bucket}/${obj}`;
  const what = `files matching (archregx=${JSON.stringify(regex)}, archmode=${mode}) in "${uri}"`;
  if (!ARCHIVE_EXTS.some((e) => obj.toLowerCase().endsWith(e))) throw new ApiError(400, `archregx: "${obj}" is not a shard tais can read (${ARCHIVE_EXTS.join(', ')})`);
  const match = archMatcher(regex, mode);
  if (isGz(obj)) {
    const h = target.openObject(bucket, obj); // a plain fd, which the decompressing stream owns and closes
    if (!h) throw notFound(`object "${uri}"`);
    const z = gunzipped(h);
    const parts: Buffer[] = [];
    let total = 0;
    try {
      for await (const m of streamTar(z.chunks, (n) => match(n))) {
        if (!m.data) continue;
        total += m.size;
        if (total > MAX_GZ_TOTAL) throw new ApiError(400, `${what}: more than ${MAX_GZ_TOTAL} bytes, the most read out of a compressed shard at once`);
        parts.push(memberHeader(m.name, m.size, h.lom.mtime), m.data, padding(m.size));
      }
    } catch (err) {
      if (err instanceof TarError || (err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new ApiError(400, `"${uri}" is not a readable .tgz: ${(err as Error).message}`);
      throw err;
    } finally {
      z.done();
    }
    if (parts.length === 0) throw notFound(what);
    return reply(res, req, '200 OK', [TAR_CT], Buffer.concat([...parts, TAR_END]));
  }
  if (isZip(obj)) return getManyFromZip(target, res, req, bucket, obj, match, what);
  const h = target.openForRead(bucket, obj);
  if (!h) throw notFound(`object "${uri}"`);
  let handedOff = false;
  try {
    let members: TarMember[];
    try {
      members = [...(await memberIndex(h)).values()].filter((m) => match(m.name));
    } catch (err) {
      if (err instanceof TarError) throw new ApiError(400, `"${uri}" is not a readable tar: ${err.message}`);
      throw err;
    }
    if (members.length === 0) throw notFound(what);
    const heads = members.map((m) => memberHeader(m.name, m.size, h.lom.mtime));
    const total = members.reduce((n, m, i) => n + heads[i]!.length + m.size + padding(m.size).length, TAR_END.length);
    if (req.aborted) return;
    const read = readAt(h.fd);
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let i = 0; i < members.length; i++) {
        const m = members[i]!;
        yield heads[i]!;
        for (let off = 0; off < m.size; off += PIECE) {
          const want = Math.min(PIECE, m.size - off);
          const b = await read(m.offset + off, want);
          if (b.length !== want) throw new Error(`${uri}: short read of ${m.name} (the shard changed?)`);
          yield b;
        }
        yield padding(m.size);
      }
      yield TAR_END;
    }
    handedOff = true;
    void sendPieces(res, req, total, pieces()).then(
      () => target.closeObject(h),
      (err: Error) => {
        target.closeObject(h);
        log.warn(`GET ${uri} ?archregx: ${err.message}`);
      },
    );
  } finally {
    if (!handedOff) target.closeObject(h);
  }
}

/** The matching files of a .zip shard, each read whole (inflated, its CRC-32 checked), as one tar. */
async function getManyFromZip(target: Target, res: HttpResponse, req: Req, bucket: string, obj: string, match: (name: string) => boolean, what: string): Promise<void> {
  const h = target.openForRead(bucket, obj);
  if (!h) throw notFound(`object "${bucket}/${obj}"`);
  const parts: Buffer[] = [];
  try {
    const members = (await zipIndex(h)).filter((m) => match(m.name));
    if (members.length === 0) throw notFound(what);
    if (members.reduce((n, m) => n + m.size, 0) > MAX_GZ_TOTAL) throw new ApiError(400, `${what}: more than ${MAX_GZ_TOTAL} bytes, the most read out of a .zip shard at once`);
    for (const m of members) parts.push(memberHeader(m.name, m.size, h.lom.mtime), await readZipMember(readAt(h.fd), m), padding(m.size));
  } catch (err) {
    if (err instanceof ZipError) throw new ApiError(400, `"${bucket}/${obj}": not a readable .zip: ${err.message}`);
    throw err;
  } finally {
    target.closeObject(h);
  }
  reply(res, req, '200 OK', [TAR_CT], Buffer.concat([...parts, TAR_END]));
}

/** A 200 of `total` bytes from `pieces`, written as the socket takes them; a failure midway cuts the connection. */
async function sendPieces(res: HttpResponse, req: Req, total: number, pieces: AsyncGenerator<Buffer>): Promise<void> {
  res.cork(() => {
    res.writeStatus('200 OK');
    res.writeHeader(TAR_CT[0], TAR_CT[1]);
  });
  try {
    for await (const b of pieces) {
      if (req.aborted) return;
      if (b.length === 0) continue;
      await writeAll(res, req, b, total);
    }
  } catch (err) {
    if (!req.aborted) res.close();
    throw err;
  }
}

function writeAll(res: HttpResponse, req: Req, chunk: Buffer, total: number): Promise<void> {
  let base = 0;
  let ok = false;
  res.cork(() => {
    base = res.getWriteOffset();
    [ok] = res.tryEnd(chunk, total);
  });
  if (ok) return Promise.resolve();
  return new Promise((resolve) => {
    req.onAbort = () => resolve();
    res.onWritable((offset) => {
      if (req.aborted) return true;
      const [done] = res.tryEnd(chunk.subarray(offset - base), total);
      if (done) resolve();
      return done;
    });
  });
}
