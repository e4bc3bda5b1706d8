// Multipart uploads on disk. An upload is a folder on the HRW mountpath of its object:
//   <mp>/@ais/<bucket>/%mp/<uploadId>/manifest   what CreateMultipartUpload was told (msgpack, checksummed)
//   <mp>/@ais/<bucket>/%mp/<uploadId>/part.<n>   one file per part, written by the PUT stream; its LOM xattr
//                                                holds size, MD5 (the part's ETag) and CRC32C
// Nothing about an upload lives only in memory (except "being completed right now", a claim in the node's
// shared table, mpu-claims.ts, so that it holds across HTTP threads), so uploads survive
// a restart. Completion streams the parts into one work file in the Piscina pool (mpu-assemble.ts),
// computing the bucket checksum on the way, and renames it over the object: a crash leaves the old
// object or the new one, and the upload folder (removed last) lets the client complete again.
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashInit, hashDigest, hashDigestBytes, type HashKind } from '../native';
import { CT_MPU, compareNames } from '../fs/fqn';
import { loadLomPath, type Lom } from '../fs/lom';
import { setPartLayout, type MpuLom } from './mpu-parts';
import { completion, isUploadId, multipartEtag, newUploadId } from './mpu-id';
import { MANIFEST, encodeManifest, decodeManifest, readManifest, type Manifest } from './mpu-manifest';
import { isCompleting, claimCompletion, releaseCompletion } from './mpu-claims';
import { removeAbandonedUploads, MPU_ABANDONED_AGE_MS, type Mountpath } from '../fs/mountpath';
import type { BucketProps } from '../cluster/config';
import { S3Error, s3err, noSuchUpload } from '../s3/errors';
import type { CompletedPart, PartEntry, UploadEntry } from '../s3/mpu-xml';
import type { HashSlot } from '../workers/put-chunk';
import type { MpuCopyTask, MpuFinishTask, MpuTaskResult } from '../workers/mpu-assemble';
import type { Target } from './target';
import type { TagSet } from '../s3/tagging';
import { log } from '../util/log';
import { compositeChecksum, checksumElement, badDigestMessage, type FlexAlg, type FlexType } from '../s3/checksums';

export const MIN_PART_SIZE = 5 << 20;
export const MAX_PART_SIZE = 5 * 1024 ** 3;
/** Bytes of a part one copy task moves: other pool work gets a turn between stretches of huge parts. */
const COPY_STRETCH = 64 << 20;
/** Parts carry CRC32C (checked when they are assembled) and MD5 (their ETag); no bucket checksum. */
export const PART_PROPS: BucketProps = { provider: 'ais', created: 0, checksum: { type: 'crc32c', validate_warm_get: false, md5_etag: true } };

export interface Upload {
  id: string;
  bucket: string;
  key: string;
  created: number;
  contentType?: string;
  meta?: Record<string, string>;
  /** x-amz-checksum-algorithm (and type) given at Create: every part carries it, the object gets it. */
  checksum?: { alg: FlexAlg; type: FlexType };
  /** x-amz-tagging given at Create: the object's tags. */
  tags?: TagSet;
  /** The upload's folder. */
  dir: string;
  mp: Mountpath;
}

const openAsync = promisify(fs.open);
const closeAsync = promisify(fs.close);

export class MpuStore {
  constructor(private readonly target: Target) {
    const ageMs = (target.config.mpu?.abandoned_age_s ?? MPU_ABANDONED_AGE_MS / 1000) * 1000;
    const every = Math.max(1000, Math.min(ageMs / 4, 3600_000));
    if (target.housekeeping) setInterval(() => this.sweep(ageMs), every).unref();
  }

  private folder(mp: Mountpath, bucket: string, id: string): string {
    return path.join(mp.bucketDir(bucket), CT_MPU, id);
  }

  async create(
    bucket: string,
    key: string,
    contentType: string | undefined,
    meta: Record<string, string>,
    checksum?: { alg: FlexAlg; type: FlexType },
    tags?: TagSet,
    /** This target's ID, named in the upload's ID. */
    holder?: string,
  ): Promise<Upload> {
    const created = Date.now();
    const id = newUploadId(created, holder);
    const mp = this.target.mountpathFor(bucket, key);
    const dir = this.folder(mp, bucket, id);
    const m: Manifest = {
      bucket,
      key,
      created,
      ...(contentType ? { contentType } : {}),
      ...(Object.keys(meta).length ? { meta } : {}),
      ...(checksum ? { checksum } : {}),
      ...(tags?.length ? { tags } : {}),
    };
    await fs.promises.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, MANIFEST + '.tmp');
    const fh = await fs.promises.open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(encodeManifest(m));
      if (this.target.config.io.fsync_put) await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, path.join(dir, MANIFEST));
    return { id, ...m, dir, mp };
  }

  /** The upload, or NoSuchUpload (unknown id, another bucket or key, or aborted/completed). */
  find(bucket: string, key: string, id: string): Upload {
    if (!isUploadId(id)) throw noSuchUpload(id);
    const first = this.target.mountpathFor(bucket, key);
    for (const mp of [first, ...this.target.mountpaths.filter((m) => m !== first)]) {
      const dir = this.folder(mp, bucket, id);
      const m = readManifest(path.join(dir, MANIFEST));
      if (!m) continue;
      if (m.bucket !== bucket || m.key !== key) break;
      return { id, ...m, dir, mp };
    }
    throw noSuchUpload(id);
  }

  /** Some HTTP thread of this node is completing the upload (mpu-claims.ts): its parts may not change. */
  isCompleting(id: string): boolean {
    return isCompleting(id);
  }

  partPath(u: Upload, partNumber: number): string {
    return path.join(u.dir, `part.${partNumber}`);
  }

  /** All parts uploaded so far, by part number. */
  async parts(u: Upload): Promise<PartEntry[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(u.dir);
    } catch {
      throw noSuchUpload(u.id);
    }
    const out: PartEntry[] = [];
    for (const name of names) {
      const m = /^part\.(\d{1,5})$/.exec(name);
      if (!m) continue;
      const lom = partLom(path.join(u.dir, name));
      if (lom?.md5 === undefined) continue;
      out.push({
        partNumber: Number(m[1]),
        mtimeMs: lom.mtime,
        etag: lom.md5,
        size: lom.size,
        ...(lom.flex ? { checksum: { alg: lom.flex.alg, value: lom.flex.value } } : {}),
      });
    }
    return out.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Every upload in progress in the bucket, by key then by initiation (upload ids sort by creation). */
  async uploads(bucket: string): Promise<UploadEntry[]> {
    const out: UploadEntry[] = [];
    for (const mp of this.target.mountpaths) {
      const dir = path.join(mp.bucketDir(bucket), CT_MPU);
      let ids: string[];
      try {
        ids = await fs.promises.readdir(dir);
      } catch {
        continue;
      }
      for (const id of ids) {
        if (!isUploadId(id)) continue;
        let m: Manifest | undefined;
        try {
          m = decodeManifest(await fs.promises.readFile(path.join(dir, id, MANIFEST)));
        } catch {
          continue; // being created, aborted meanwhile, or damaged: not an upload
        }
        if (m && m.bucket === bucket) out.push({ key: m.key, uploadId: id, initiatedMs: m.created });
      }
    }
    return out.sort((a, b) => compareNames(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
  }

  /** Removes the upload: the manifest first (the upload ceases to exist at once), then its parts. */
  async abort(u: Upload): Promise<void> {
    try {
      await fs.promises.unlink(path.join(u.dir, MANIFEST));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchUpload(u.id);
      throw err;
    }
    await fs.promises.rm(u.dir, { recursive: true, force: true });
  }

  /**
   * Checks the client's part list against the parts on disk, then assembles the object. Throws S3Errors
   * (InvalidPartOrder, InvalidPart, EntityTooSmall) before anything is written; `started` runs when the
   * checks passed and the (possibly long) assembly begins.
   */
  async complete(
    u: Upload,
    list: readonly CompletedPart[],
    props: BucketProps,
    started: () => void,
    /** Full-object checksum value the client sent with Complete (x-amz-checksum-<alg>), checked before publishing. */
    expectFull?: string,
    /**
     * Runs once the object is published here and before the upload is removed; what it returns is the
     * object the client is told about. If it throws, it has removed what was published and the upload
     * stays, to be completed again (remote buckets write through here; a holder that is not the
     * object's owner sends it there).
     */
    settle?: (lom: MpuLom) => Promise<MpuLom>,
  ): Promise<MpuLom> {
    let began = false;
    const begin = (): void => {
      if (!began) (began = true), started();
    };
    // A second Complete of the same upload (a client's retry on another connection, which may be on
    // another HTTP thread) waits for the first, then looks the upload up again: gone if that one
    // succeeded, so it throws NoSuchUpload here and the caller asks `completedObject` whether the
    // object it would have published is there (S3 answers a retried Complete with the same 200).
    // Either way only one completion assembles and publishes: no second or torn object.
    await claimCompletion(u.id, begin);
    try {
      // Looked up again even without a wait: a completion on another thread may have finished (and
      // released its claim) between the caller's find() and this claim.
      return await this.completeClaimed(this.find(u.bucket, u.key, u.id), list, props, begin, expectFull, settle);
    } finally {
      releaseCompletion(u.id);
    }
  }

  private async completeClaimed(
    u: Upload,
    list: readonly CompletedPart[],
    props: BucketProps,
    started: () => void,
    expectFull: string | undefined,
    settle: ((lom: MpuLom) => Promise<MpuLom>) | undefined,
  ): Promise<MpuLom> {
    for (let i = 1; i < list.length; i++) if (list[i]!.partNumber <= list[i - 1]!.partNumber) throw s3err('InvalidPartOrder');
    const parts = list.map((p) => {
      const file = this.partPath(u, p.partNumber);
      const lom = partLom(file);
      if (!lom || lom.md5 !== p.etag.toLowerCase()) {
        throw s3err('InvalidPart', undefined, { UploadId: u.id, PartNumber: String(p.partNumber), ETag: p.etag });
      }
      // Flexible checksums listed for a part stored with one must be that one (as S3); a part stored
      // without one (no algorithm given at Create or UploadPart) has nothing to check them against.
      if (p.checksum && lom.flex && (lom.flex.alg !== p.checksum.alg || lom.flex.value !== p.checksum.value)) {
        throw s3err('InvalidPart', `The ${checksumElement(p.checksum.alg)} of part ${p.partNumber} does not match the part's checksum.`, {
          UploadId: u.id,
          PartNumber: String(p.partNumber),
          ETag: p.etag,
        });
      }
      const ck = u.checksum;
      if (ck?.type === 'COMPOSITE' && (p.checksum === undefined || p.checksum.alg !== ck.alg)) {
        throw s3err(
          'InvalidRequest',
          `The upload was created using a ${ck.alg} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
        );
      }
      return { file, lom, partNumber: p.partNumber };
    });
    for (let i = 0; i < parts.length - 1; i++) {
      const p = parts[i]!;
      if (p.lom.size < MIN_PART_SIZE) {
        throw s3err('EntityTooSmall', undefined, {
          ProposedSize: String(p.lom.size),
          MinSizeAllowed: String(MIN_PART_SIZE),
          PartNumber: String(p.partNumber),
          ETag: p.lom.md5!,
        });
      }
    }
    const etag = multipartEtag(parts.map((p) => p.lom.md5!));
    const composite = u.checksum?.type === 'COMPOSITE' ? compositeChecksum(u.checksum.alg, parts.map((p) => p.lom.flex!.value)) : undefined;
    if (composite !== undefined && expectFull !== undefined && expectFull !== composite && expectFull !== composite.replace(/-\d+$/, '')) {
      throw s3err('BadDigest', badDigestMessage(u.checksum!.alg));
    }

    started();
    // Activity for the sweeper: a completion of an old upload must not race its removal.
    const now = new Date();
    await fs.promises.utimes(u.dir, now, now).catch(() => {});
    const dst = this.target.objectFile(u.mp, u.bucket, u.key);
    const workPath = this.target.workFile(u.mp, u.bucket, 'mpu');
    const cksumType = props.checksum.type;
    const bucketSlot: HashSlot | undefined = cksumType === 'none' ? undefined : sharedState(cksumType);
    // A full-object flexible checksum (CRC-64/NVME always, CRC32/CRC32C on request) is computed in the same pass.
    const fullSlot: HashSlot | undefined = u.checksum?.type === 'FULL_OBJECT' ? sharedState(u.checksum.alg) : undefined;
    let fd = await openAsync(workPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
    let size = 0;
    try {
      for (const p of parts) {
        const crc = sharedState('crc32c');
        const hashes = [...(bucketSlot ? [bucketSlot] : []), ...(fullSlot ? [fullSlot] : []), crc];
        for (let off = 0; off < p.lom.size || (off === 0 && p.lom.size === 0); off += COPY_STRETCH) {
          const len = Math.min(COPY_STRETCH, p.lom.size - off);
          const last = off + len >= p.lom.size;
          const task: MpuCopyTask = { fd, partPath: p.file, srcOff: off, len, dstPos: size + off, hashes, ...(last ? { expectCrc: p.lom.cksumValue } : {}) };
          const r = (await this.target.pool.run(task, { name: 'mpuCopy' })) as MpuTaskResult;
          if (r.error !== undefined) throw taskError(u, r);
          if (last) break;
        }
        size += p.lom.size;
      }
      const lom: MpuLom = {
        size,
        cksumType,
        cksumValue: bucketSlot ? hashDigest(bucketSlot.kind, bucketSlot.state) : '',
        etag,
        mtime: Date.now(),
        ...(u.contentType ? { contentType: u.contentType } : {}),
        ...(u.meta ? { meta: u.meta } : {}),
        ...(u.tags ? { tags: u.tags } : {}),
        ...(dst.includes('/%ln/') ? { name: u.key } : {}),
      };
      if (composite !== undefined) lom.flex = { alg: u.checksum!.alg, value: composite, type: 'COMPOSITE' };
      if (fullSlot) {
        const value = hashDigestBytes(fullSlot.kind, fullSlot.state).toString('base64');
        if (expectFull !== undefined && expectFull !== value) throw s3err('BadDigest', badDigestMessage(u.checksum!.alg));
        lom.flex = { alg: u.checksum!.alg, value, type: 'FULL_OBJECT' };
      }
      setPartLayout(lom, parts.map((p) => p.lom.size));
      const finish: MpuFinishTask = { fd, workPath, dst, lom, fsync: this.target.config.io.fsync_put };
      fd = -1; // the task closes it whatever happens
      const r = (await this.target.pool.run(finish, { name: 'mpuFinish' })) as MpuTaskResult;
      if (r.error !== undefined) throw taskError(u, r);
      const settled = settle ? await settle(lom) : lom;
      await this.abort(u).catch((err: Error) => log.warn(`${u.bucket}/${u.key}: removing completed upload ${u.id}: ${err.message}`));
      return settled;
    } finally {
      if (fd >= 0) {
        await closeAsync(fd).catch(() => {});
        await fs.promises.rm(workPath, { force: true });
      }
    }
  }

  /**
   * After NoSuchUpload: the object a finished Complete of upload `id` published, if a Complete listing
   * `list` would have published the same and it is still the object at the key — its ETag is the one
   * the list gives (MD5 of the part MD5s, "-N": the same parts) and it was published after the upload
   * was created (the id begins with its creation time). Undefined otherwise (aborted, never completed,
   * other parts, or overwritten since). S3 answers such a retried Complete with the first one's 200;
   * nothing else of an upload outlives its folder here, and nothing else is needed for that answer.
   */
  completedObject(bucket: string, key: string, id: string, list: readonly CompletedPart[]): Lom | undefined {
    const want = completion(id, list);
    if (!want) return undefined;
    const h = this.target.openObject(bucket, key);
    if (!h) return undefined;
    fs.closeSync(h.fd);
    return h.lom.etag === want.etag && h.lom.mtime >= want.created ? h.lom : undefined;
  }

  private sweep(ageMs: number): void {
    let n = 0;
    for (const mp of this.target.mountpaths) n += removeAbandonedUploads(mp.path, ageMs, Date.now(), isCompleting);
    if (n) log.info(`removed ${n} abandoned multipart upload(s)`);
  }
}

const stores = new WeakMap<Target, MpuStore>();

export function mpuStore(target: Target): MpuStore {
  let s = stores.get(target);
  if (!s) {
    s = new MpuStore(target);
    stores.set(target, s);
  }
  return s;
}

function partLom(file: string): Lom | undefined {
  try {
    return loadLomPath(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENODATA') return undefined;
    log.warn(`${file}: ${(err as Error).message}`);
    return undefined;
  }
}

function taskError(u: Upload, r: MpuTaskResult): S3Error {
  switch (r.error) {
    case 'ENOENT':
      return s3err('NoSuchUpload', 'The upload was aborted while it was being completed.', { UploadId: u.id });
    case 'ENAMECONFLICT':
      return s3err('XTaisObjectNameConflict', `"${u.key}" cannot be stored: an object and a folder of objects would share a name (e.g. "a" and "a/b")`, { Key: u.key });
    case 'ENOSPC':
      return s3err('ServiceUnavailable', 'no space left on the mountpath');
    case 'MetadataTooLarge':
      return s3err('MetadataTooLarge', r.message ?? 'object metadata too large');
    default:
      log.error(`${u.bucket}/${u.key}: completing upload ${u.id}: ${r.message ?? r.error}`);
      return s3err('InternalError', `completing the upload failed: ${r.error}`);
  }
}

function sharedState(kind: HashKind): HashSlot {
  const init = hashInit(kind);
  const state = new Uint8Array(new SharedArrayBuffer(init.length));
  state.set(init);
  return { kind, state };
}
