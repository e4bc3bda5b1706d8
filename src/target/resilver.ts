// Resilver: after a mountpath is attached or detached, objects move inside this target to their HRW
// mountpath (among the mountpaths not being detached). On one filesystem an object moves by link(2)
// + unlink (the inode, with its LOM xattr, stays the same: nothing to copy or re-verify); across
// filesystems it is copied to a work file while its checksum is computed, compared with the LOM, and
// published by link(2). At every moment the object has at least one name, and Target.openObject looks
// on every mountpath, so reads never miss. A detached mountpath leaves the target only once nothing is
// left on it (its multipart uploads in progress are moved as folders); until then it is still read.
// The attach/detach list is persisted in the config dir (`.ais.fspaths`) so a restart keeps it.
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from '../cluster/node';
import { hrwSelect } from '../cluster/hrw';
import { hashInit, hashDigest, readHash, fsetxattr, getxattr, type HashKind } from '../native';
import { initMountpaths, type Mountpath } from '../fs/mountpath';
import { walkBucket } from '../fs/walk';
import { CT_MPU, CT_OBJ } from '../fs/fqn';
import { encodeLom, loadLomPath, LOM_XATTR, type Lom } from '../fs/lom';
import { pruneEmptyDirs, type Target } from './target';
import { idleStats, type XactStats } from './xaction';
import { log } from '../util/log';

const FSPATHS_FILE = '.ais.fspaths';

interface FsPaths {
  attached: string[];
  detached: string[];
}

/** The mountpaths a target starts with: those given, minus the ones detached since, plus the ones attached. */
export function startMountpaths(confDir: string, given: readonly string[]): string[] {
  const fp = loadFsPaths(confDir);
  const out = given.map((p) => path.resolve(p)).filter((p) => !fp.detached.includes(p));
  for (const p of fp.attached) if (!out.includes(p)) out.push(p);
  return out;
}

function loadFsPaths(confDir: string): FsPaths {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(confDir, FSPATHS_FILE), 'utf8')) as FsPaths;
    return { attached: v.attached ?? [], detached: v.detached ?? [] };
  } catch {
    return { attached: [], detached: [] };
  }
}

function saveFsPaths(confDir: string, fp: FsPaths): void {
  const file = path.join(confDir, FSPATHS_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(fp));
  fs.renameSync(`${file}.tmp`, file);
}

export class MountpathError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class Resilver {
  stats: XactStats = idleStats('resilver');
  private seq = 0;
  private current: { aborted: boolean } | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly node: Node) {}

  private get target(): Target {
    return this.node.target;
  }

  /** Adds a mountpath (probed like those given at start) and moves objects onto it. */
  attach(p: string): Mountpath {
    const abs = path.resolve(p);
    const have = this.target.mountpaths.find((mp) => mp.path === abs);
    if (have && !have.detaching) throw new MountpathError(`mountpath ${abs} is already attached`, 409);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) throw new MountpathError(`mountpath ${abs} does not exist (or is not a directory)`, 404);
    let mp = have;
    if (mp) {
      mp.detaching = false; // attached again while its detach was running
    } else {
      mp = initMountpaths([abs], this.node.config.io.direct, this.node.config.mpu.abandoned_age_s * 1000)[0]!;
      this.target.mountpaths.push(mp);
    }
    for (const b of this.node.bmd.names()) this.target.createBucket(b);
    this.node.onMetaChanged?.(); // the HTTP threads place objects on the same mountpaths
    this.remember(abs, 'attach');
    this.start(`attach ${abs}`);
    return mp;
  }

  /** Stops placing objects on a mountpath and moves everything off it; it leaves when empty. */
  detach(p: string): void {
    const abs = path.resolve(p);
    const mp = this.target.mountpaths.find((m) => m.path === abs);
    if (!mp) throw new MountpathError(`mountpath ${abs} does not exist on this target`, 404);
    if (mp.detaching) return;
    if (this.target.activeMountpaths().length === 1) throw new MountpathError(`mountpath ${abs} is the target's last one`, 409);
    mp.detaching = true;
    this.node.onMetaChanged?.();
    this.remember(abs, 'detach');
    this.start(`detach ${abs}`);
  }

  private remember(abs: string, what: 'attach' | 'detach'): void {
    const fp = loadFsPaths(this.node.confDir);
    const [add, del] = what === 'attach' ? [fp.attached, fp.detached] : [fp.detached, fp.attached];
    if (!add.includes(abs)) add.push(abs);
    const i = del.indexOf(abs);
    if (i >= 0) del.splice(i, 1);
    saveFsPaths(this.node.confDir, fp);
  }

  /** A newer change aborts the running resilver; the next one starts when it has stopped. */
  private start(reason: string): void {
    if (this.current) this.current.aborted = true;
    const run = { aborted: false };
    this.current = run;
    const id = ++this.seq;
    this.chain = this.chain.then(() => this.execute(run, id, reason)).catch((err: Error) => log.error(`resilver ${id}: ${err.message}`));
  }

  private async execute(run: { aborted: boolean }, id: number, reason: string): Promise<void> {
    if (run.aborted) return;
    const s: XactStats = { ...idleStats('resilver'), id, state: 'running', started: Date.now(), reason };
    this.stats = s;
    log.info(`resilver ${id} (${reason}): started`);
    for (const mp of [...this.target.mountpaths]) {
      for (const bucket of this.node.bmd.names()) {
        for (const walk of walkBucket(mp.bucketDir(bucket), { prefix: '', after: '', delimiter: '' })) {
          try {
            for await (const item of walk) {
              if (run.aborted) break;
              if (!item.file) continue;
              s.scanned++;
              const want = this.target.mountpathFor(bucket, item.name);
              if (want === mp) continue;
              try {
                const size = await this.moveObject(item.file, this.target.objectFile(want, bucket, item.name), want, bucket);
                if (size >= 0) {
                  s.movedObjs++;
                  s.movedBytes += size;
                }
              } catch (err) {
                s.errors++;
                log.warn(`resilver ${id}: ${bucket}/${item.name} (${item.file}): ${(err as Error).message}; left in place`);
              }
            }
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
              s.errors++;
              log.warn(`resilver ${id}: walking ${bucket} on ${mp.path}: ${(err as Error).message}`);
            }
          }
        }
        if (mp.detaching && !run.aborted) s.errors += this.moveUploads(mp, bucket);
      }
    }
    s.ended = Date.now();
    if (run.aborted) {
      s.state = 'aborted';
      return;
    }
    for (const mp of this.target.mountpaths.filter((m) => m.detaching)) {
      if (s.errors === 0 && (await this.isEmpty(mp))) {
        this.target.mountpaths.splice(this.target.mountpaths.indexOf(mp), 1);
        this.node.onMetaChanged?.();
        log.info(`resilver ${id}: mountpath ${mp.path} detached`);
      } else {
        log.warn(`resilver ${id}: mountpath ${mp.path} still holds objects: it stays attached (read-only for placement); detach again to retry`);
      }
    }
    s.state = 'finished';
    log.info(`resilver ${id}: ${s.movedObjs} object(s), ${s.movedBytes} bytes moved; ${s.scanned} scanned, ${s.errors} error(s)`);
  }

  /** Moves one object file to `dst`; returns its size, or -1 when there was nothing to move. */
  private async moveObject(src: string, dst: string, to: Mountpath, bucket: string): Promise<number> {
    const lom = loadLomPath(src);
    if (!lom) return -1;
    await fs.promises.mkdir(path.dirname(dst), { recursive: true });
    try {
      await fs.promises.link(src, dst);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        // Another copy is there already (written meanwhile): the newer one stays.
        const there = loadLomPath(dst);
        if (!there || there.mtime < lom.mtime) await fs.promises.rename(src, dst);
        else await this.unlinkObject(src);
        return lom.size;
      }
      if (code !== 'EXDEV') throw err;
      await this.copyVerified(src, dst, lom, to, bucket);
    }
    await this.unlinkObject(src);
    return lom.size;
  }

  /** Across filesystems: copy into a work file on `to` with the checksum computed on the way, then publish. */
  private async copyVerified(src: string, dst: string, lom: Lom, to: Mountpath, bucket: string): Promise<void> {
    const work = this.target.workFile(to, bucket, 'resilver');
    const kind = lom.cksumType === 'none' ? null : (lom.cksumType as HashKind);
    const state = kind ? hashInit(kind) : null;
    const buf = Buffer.allocUnsafe(1 << 20);
    const rfd = fs.openSync(src, 'r');
    const wfd = fs.openSync(work, 'w', 0o644);
    try {
      let pos = 0;
      for (;;) {
        const n = await readHash(rfd, buf, pos, kind, state);
        if (n === 0) break;
        fs.writeSync(wfd, buf, 0, n, pos);
        pos += n;
      }
      if (pos !== lom.size || (kind && state && hashDigest(kind, state) !== lom.cksumValue)) throw new Error(`checksum or size mismatch reading ${src}: not moved`);
      fsetxattr(wfd, LOM_XATTR, encodeLom(lom));
      fs.fsyncSync(wfd);
      fs.closeSync(wfd);
      await fs.promises.link(work, dst).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        const there = loadLomPath(dst);
        if (!there || there.mtime < lom.mtime) await fs.promises.rename(work, dst);
      });
    } catch (err) {
      try {
        fs.closeSync(wfd);
      } catch {
        /* closed already */
      }
      throw err;
    } finally {
      fs.closeSync(rfd);
      fs.rmSync(work, { force: true });
    }
  }

  private async unlinkObject(file: string): Promise<void> {
    await fs.promises.unlink(file);
    if (file.includes(`/${CT_OBJ}/`)) await pruneEmptyDirs(path.dirname(file), CT_OBJ);
  }

  /** Multipart uploads in progress leave a detached mountpath as whole folders (found on any mountpath). */
  private moveUploads(mp: Mountpath, bucket: string): number {
    const dir = path.join(mp.bucketDir(bucket), CT_MPU);
    let ids: string[];
    try {
      ids = fs.readdirSync(dir);
    } catch {
      return 0;
    }
    let errors = 0;
    for (const id of ids) {
      const to = hrwSelect(this.target.activeMountpaths(), `${bucket}/${id}`)!;
      const dst = path.join(to.bucketDir(bucket), CT_MPU, id);
      try {
        fs.mkdirSync(path.dirname(dst), { recursive: true });
        try {
          fs.renameSync(path.join(dir, id), dst);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          copyUpload(path.join(dir, id), dst);
          fs.rmSync(path.join(dir, id), { recursive: true, force: true });
        }
      } catch (err) {
        errors++;
        log.warn(`resilver: moving upload ${bucket}/${id} off ${mp.path}: ${(err as Error).message}`);
      }
    }
    return errors;
  }

  private async isEmpty(mp: Mountpath): Promise<boolean> {
    for (const bucket of this.node.bmd.names()) {
      for (const walk of walkBucket(mp.bucketDir(bucket), { prefix: '', after: '', delimiter: '' })) {
        for await (const item of walk) if (item.file) return false;
      }
      try {
        if (fs.readdirSync(path.join(mp.bucketDir(bucket), CT_MPU)).length > 0) return false;
      } catch {
        /* no uploads folder */
      }
    }
    return true;
  }
}

/** An upload folder is flat (manifest, part.<n>); each part's LOM xattr must come along. */
function copyUpload(src: string, dst: string): void {
  fs.mkdirSync(dst, { recursive: true });
  for (const name of fs.readdirSync(src)) {
    fs.copyFileSync(path.join(src, name), path.join(dst, name));
    const lom = getxattr(path.join(src, name), LOM_XATTR);
    if (!lom) continue;
    const fd = fs.openSync(path.join(dst, name), 'r+');
    try {
      fsetxattr(fd, LOM_XATTR, lom);
    } finally {
      fs.closeSync(fd);
    }
  }
}
