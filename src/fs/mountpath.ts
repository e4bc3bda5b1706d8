// Mountpaths: the directories a target stores objects in (ideally one per disk). Each is probed at start
// for what its filesystem can do (user xattrs are required for object metadata; O_DIRECT is optional),
// and work files left by a crash are removed before the node serves anything.
import fs from 'node:fs';
import path from 'node:path';
import { probeDirectIO, fsetxattr, fgetxattr } from '../native';
import { digestOf } from '../cluster/hrw';
import { CT_WORK } from './fqn';
import { log } from '../util/log';

export const PROVIDER_DIR = '@ais';

export class Mountpath {
  readonly digest: bigint;
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

export function initMountpaths(paths: readonly string[], directIO: 'auto' | 'off'): Mountpath[] {
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
    log.info(`mountpath ${abs}: ${direct ? 'O_DIRECT' : 'buffered'} writes${removed ? `, removed ${removed} leftover work file(s)` : ''}`);
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
