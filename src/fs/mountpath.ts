// Mountpaths: the directories a target stores objects in (ideally one per disk). Each is probed at start
// for what its filesystem can do (user xattrs are required for object metadata; O_DIRECT is optional),
// and work files left by a crash are removed before the node serves anything.
import fs from 'node:fs';
import path from 'node:path';
import { probeDirectIO, fsetxattr, fgetxattr } from '../native';
import { digestOf } from '../cluster/hrw';
import { CT_WORK, CT_MPU } from './fqn';
import { log } from '../util/log';

export const PROVIDER_DIR = '@ais';

export class Mountpath {
  readonly digest: bigint;
  /** Being detached: no new objects are placed here; still read (and listed) until resilver empties it. */
  detaching = false;
  constructor(
    readonly path: string,
    readonly direct: boolean,
  ) {
    this.digest = digestOf(path);
  }

  bucketDir(bucket: string): string {
    return path.join(this.path, PROVIDER_DIR, bucket);
  }
}

/** Default of config `mpu.abandoned_age_s`, in ms. */
export const MPU_ABANDONED_AGE_MS = 7 * 24 * 3600 * 1000;

export function initMountpaths(paths: readonly string[], directIO: 'auto' | 'off', mpuAbandonedAgeMs = MPU_ABANDONED_AGE_MS): Mountpath[] {
  if (paths.length === 0) throw new Error('a target needs at least one mountpath');
  const seen = new Set<string>();
  return paths.map((p) => {
    const abs = path.resolve(p);
    if (seen.has(abs)) throw new Error(`mountpath ${abs} given twice`);
    seen.add(abs);
    fs.mkdirSync(path.join(abs, PROVIDER_DIR), { recursive: true });
    checkXattrs(abs);
    const direct = directIO === 'auto' && probeDirectIO(abs);
    const removed = cleanWorkFiles(abs);
    const uploads = removeAbandonedUploads(abs, mpuAbandonedAgeMs);
    log.info(
      `mountpath ${abs}: ${direct ? 'O_DIRECT' : 'buffered'} writes${removed ? `, removed ${removed} leftover work file(s)` : ''}` +
        (uploads ? `, removed ${uploads} abandoned multipart upload(s)` : ''),
    );
    return new Mountpath(abs, direct);
  });
}

function checkXattrs(dir: string): void {
  const probe = path.join(dir, `.tais-xattr-probe-${process.pid}`);
  const fd = fs.openSync(probe, 'w');
  try {
    fsetxattr(fd, 'user.tais.probe', Buffer.from('1'));
    if (fgetxattr(fd, 'user.tais.probe')?.toString() !== '1') throw new Error('xattr read back differs');
  } catch (err) {
    throw new Error(`mountpath ${dir}: its filesystem must support user extended attributes (object metadata lives there): ${(err as Error).message}`);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(probe, { force: true });
  }
}

/** Work files are never valid after a restart: the PUT that wrote them is gone. */
function cleanWorkFiles(mp: string): number {
  let n = 0;
  const root = path.join(mp, PROVIDER_DIR);
  for (const bucket of fs.readdirSync(root)) {
    const wk = path.join(root, bucket, CT_WORK);
    let names: string[];
    try {
      names = fs.readdirSync(wk);
    } catch {
      continue;
    }
    for (const name of names) {
      fs.rmSync(path.join(wk, name), { recursive: true, force: true });
      n++;
    }
  }
  return n;
}

/**
 * Removes multipart uploads (%mp/<uploadId>/ folders) without activity for `maxAgeMs`: a part upload
 * renames its file into the folder, which moves the folder's mtime. Called at start and periodically
 * (target/mpu.ts); `skip` spares uploads being completed right now.
 */
export function removeAbandonedUploads(mp: string, maxAgeMs: number, now = Date.now(), skip?: (uploadId: string) => boolean): number {
  if (!(maxAgeMs > 0)) maxAgeMs = MPU_ABANDONED_AGE_MS; // a missing or broken config value never means "remove all"
  let n = 0;
  const root = path.join(mp, PROVIDER_DIR);
  let buckets: string[];
  try {
    buckets = fs.readdirSync(root);
  } catch {
    return 0;
  }
  for (const bucket of buckets) {
    const dir = path.join(root, bucket, CT_MPU);
    let ids: string[];
    try {
      ids = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const id of ids) {
      if (skip?.(id)) continue;
      const p = path.join(dir, id);
      try {
        // A folder without a manifest is debris (a part that landed after its upload was aborted): an hour is enough.
        const age = fs.existsSync(path.join(p, 'manifest')) ? maxAgeMs : Math.min(maxAgeMs, 3600_000);
        if (now - fs.statSync(p).mtimeMs < age) continue;
        fs.rmSync(p, { recursive: true, force: true });
        n++;
      } catch (err) {
        log.warn(`removing abandoned upload ${p}: ${(err as Error).message}`);
      }
    }
  }
  return n;
}
