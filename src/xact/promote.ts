// promote (AIStore's "promote" action): files that the targets can read — one file, or a directory's
// files, recursively or not — become objects of a bucket. The gateway first asks every target
// what it sees at the source (scanPromote: the count and a hash of the names and sizes); when all see
// the same files, the source is a file share and each target promotes only the files HRW gives it;
// otherwise (or with `notshr`, or one named target `tid`) each target promotes every file it sees, to
// the file's owner. A file becomes an object through its owner's ordinary PUT (put-owner.ts: the
// bucket's checksum and MD5, a work file, an atomic rename), so a file that changes while it is read
// stores nothing. Without `ovw` an existing object is kept (the PUT is If-None-Match: *); with `dls` the
// file is removed once its object is stored.
//
// Into an s3:// bucket each file is written through to the remote by its owner, as a PUT is.
//
// Only what lies under the node's promote root (`aisnode --promote-root`, AIS_PROMOTE_ROOT; AIStore's
// fixed /var/lib/ais/promote by default) may be promoted: the source is resolved to its real path and
// must stay under the root's, and symbolic links inside it are skipped, so a request can never make a
// target read a file outside the root.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Node } from '../cluster/node';
import { validateObjectKey } from '../s3/names';
import { putToOwner, PutRefused } from './put-owner';
import { xactRegistry, Xaction } from './xaction';
import { log } from '../util/log';
import { FWD_HEADER, intraCall, s3Path } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';

export const promotePolicy = { root: '/var/lib/ais/promote' };

/** AIStore's PromoteArgs (api/apc/promote.go), with the source resolved from the message's name. */
export interface PromoteArgs {
  src: string;
  obj: string;
  tid?: string;
  rcr: boolean;
  ovw: boolean;
  dls: boolean;
  notshr: boolean;
}

/** What one target sees at the source: the files' count and a hash of their names and sizes. */
export interface PromoteScan {
  num: number;
  hash: string;
}

/** A promote error with the HTTP status the API answers. */
export class PromoteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Checks the action message ({"action":"promote","name":SRC,"value":PromoteArgs}) before any target acts. */
export function validatePromote(name: unknown, value: unknown): PromoteArgs {
  const v = (value ?? {}) as Record<string, unknown>;
  if (typeof v !== 'object' || Array.isArray(v)) throw new PromoteError(400, 'promote: the value must be {"src":PATH,"obj":NAME_OR_PREFIX,...}');
  const str = (k: string): string => {
    if (v[k] === undefined) return '';
    if (typeof v[k] !== 'string') throw new PromoteError(400, `promote: "${k}" must be a string`);
    return v[k] as string;
  };
  const flag = (k: string): boolean => {
    if (v[k] === undefined) return false;
    if (typeof v[k] !== 'boolean') throw new PromoteError(400, `promote: "${k}" must be true or false`);
    return v[k] as boolean;
  };
  const given = typeof name === 'string' ? name : '';
  const src = str('src') || given;
  if (given && src !== given) throw new PromoteError(400, `promote: conflicting sources "${given}" and "${src}"`);
  if (src === '') throw new PromoteError(400, 'promote: the source file or directory (name, or value.src) is missing');
  if (!path.isAbsolute(src)) throw new PromoteError(400, `promote: "${src}" must be an absolute path`);
  if (src.includes('\0') || src.split('/').some((p) => p === '.' || p === '..')) throw new PromoteError(400, `promote: "${src}" must not contain "." or ".." elements`);
  const obj = str('obj');
  if (obj.startsWith('/') || obj.split('/').some((p) => p === '..')) throw new PromoteError(400, `promote: invalid object name or prefix "${obj}"`);
  const tid = str('tid');
  return { src: src.length > 1 ? src.replace(/\/+$/, '') : src, obj, ...(tid ? { tid } : {}), rcr: flag('rcr'), ovw: flag('ovw'), dls: flag('dls'), notshr: flag('notshr') };
}

/** The source's real path on this node, which must lie under the promote root's. */
async function resolveSource(src: string): Promise<{ real: string; isDir: boolean }> {
  let root: string;
  try {
    root = await fs.promises.realpath(promotePolicy.root);
  } catch {
    throw new PromoteError(403, `promote: this node's promote root ${promotePolicy.root} does not exist (aisnode --promote-root)`);
  }
  let real: string;
  try {
    real = await fs.promises.realpath(src);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new PromoteError(404, `promote: "${src}" does not exist`);
    throw new PromoteError(400, `promote: "${src}": ${(err as Error).message}`);
  }
  if (real !== root && !real.startsWith(root.endsWith('/') ? root : root + '/')) {
    throw new PromoteError(403, `promote: "${src}" is not under the promote root ${promotePolicy.root}`);
  }
  const st = await fs.promises.stat(real);
  if (!st.isDirectory() && !st.isFile()) throw new PromoteError(400, `promote: "${src}" is neither a file nor a directory`);
  return { real, isDir: st.isDirectory() };
}

interface Found {
  file: string;
  /** Path relative to the source directory ('' for a single-file source). */
  rel: string;
  size: number;
}

/** Regular files under `dir` in name order, subdirectories when recursive; symbolic links are skipped. */
async function* walk(dir: string, rel: string, recursive: boolean): AsyncGenerator<Found> {
  const entries = (await fs.promises.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const file = path.join(dir, e.name);
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isFile()) {
      const st = await fs.promises.lstat(file).catch(() => undefined);
      if (st?.isFile()) yield { file, rel: r, size: st.size };
    } else if (e.isDirectory() && recursive) yield* walk(file, r, true);
  }
}

async function* sourceFiles(args: PromoteArgs): AsyncGenerator<Found> {
  const { real, isDir } = await resolveSource(args.src);
  if (!isDir) {
    const st = await fs.promises.stat(real);
    yield { file: real, rel: '', size: st.size };
    return;
  }
  yield* walk(real, '', args.rcr);
}

/** AIStore's PrmObjName: a directory's files are prefix + relative path; one file is `obj`, or obj + its base name. */
export function promotedName(args: PromoteArgs, f: Found): string {
  if (f.rel !== '') return args.obj + f.rel;
  return args.obj !== '' && !args.obj.endsWith('/') ? args.obj : args.obj + path.basename(args.src);
}

/** This target's view of the source (the gateway compares them to detect a file share). */
export async function scanPromote(args: PromoteArgs): Promise<PromoteScan> {
  const h = createHash('sha256');
  let num = 0;
  for await (const f of sourceFiles(args)) {
    h.update(`${f.rel}\0${f.size}\n`);
    num++;
  }
  return { num, hash: h.digest('hex') };
}

const WORKERS = 4;

/**
 * Starts this target's part: `owned` promotes the files HRW gives this target (a file share), `all`
 * every file it sees, each to its owner. Returns at once; progress in the job's snap.
 */
export function startPromote(node: Node, id: string, bucket: string, args: PromoteArgs, mode: 'owned' | 'all'): Xaction {
  const x = new Xaction(id, 'promote', bucket, node.bmd.get(bucket)?.provider ?? 'ais');
  xactRegistry.add(x);
  run(node, x, args, mode)
    .catch((err: Error) => {
      x.errs++;
      x.lastErr = err.message;
    })
    .finally(() => {
      if (x.lastErr) log.warn(`promote[${id}] ${args.src} => ${x.provider === 'aws' ? 's3' : 'ais'}://${bucket}: ${x.lastErr}`);
      x.finish();
    });
  return x;
}

async function run(node: Node, x: Xaction, args: PromoteArgs, mode: 'owned' | 'all'): Promise<void> {
  const files = sourceFiles(args);
  const worker = async (): Promise<void> => {
    for (;;) {
      if (x.aborted) return;
      const next = await files.next();
      if (next.done) return;
      const f = next.value;
      const name = promotedName(args, f);
      if (mode === 'owned' && node.smap.owner(x.bucket, name, x.provider)?.id !== node.self.id) continue;
      try {
        validateObjectKey(name);
        await promoteOne(node, x, args, f, name);
      } catch (err) {
        x.errs++;
        x.lastErr = `${f.file}: ${(err as Error).message}`;
      }
    }
  };
  // The generator serves one next() at a time; the workers overlap the PUTs.
  await Promise.all(Array.from({ length: WORKERS }, worker));
}

async function promoteOne(node: Node, x: Xaction, args: PromoteArgs, f: Found, name: string): Promise<void> {
  const headers: Record<string, string> = { 'content-length': String(f.size) };
  if (!args.ovw) {
    // ais://: the owner keeps an existing object atomically. s3://: remotes need not support a
    // conditional PUT, so the owner is asked first (HEAD: cached, or the remote's) — a file racing
    // another writer of the same name between the two may still replace it.
    if (x.provider !== 'aws') headers['if-none-match'] = '*';
    else if (await existsAtOwner(node, x.bucket, name)) return;
  }
  try {
    await putToOwner(node, x.bucket, name, fs.createReadStream(f.file), headers, 's3');
  } catch (err) {
    if (err instanceof PutRefused && err.status === 412) return; // exists, and not to be overwritten
    throw err;
  }
  x.objs++;
  x.bytes += f.size;
  if (args.dls) await fs.promises.unlink(f.file);
}

/** HEAD of bucket/name at its owner through the S3 API (a remote bucket's owner asks the remote). */
async function existsAtOwner(node: Node, bucket: string, name: string): Promise<boolean> {
  const owner = node.smap.owner(bucket, name, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner) throw new Error('the cluster has no storage targets');
  const r = await intraCall(nodeUrl(owner), s3Path(bucket, name), { method: 'HEAD', headers: { [FWD_HEADER]: node.secret } });
  if (r.status === 200) return true;
  if (r.status === 404) return false;
  throw new Error(`HEAD ${bucket}/${name} on ${owner.id}: ${r.status}`);
}
