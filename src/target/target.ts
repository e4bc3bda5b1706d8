// The target: owns mountpaths and the objects HRW assigns to it. This file holds placement and the
// object/bucket primitives; the streaming data path is in put.ts and get.ts.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Piscina } from 'piscina';
import { hrwSelect, objectUname } from '../cluster/hrw';
import { httpThreads, type ClusterConfig } from '../cluster/config';
import { Mountpath } from '../fs/mountpath';
import { objectPath, CT_OBJ, CT_WORK, CT_LONG } from '../fs/fqn';
import { loadLomFd, LomError, type Lom } from '../fs/lom';
import { BufferPool, LargeGetBuffers, TRIM_MS } from './bufpool';
import { PutSlab } from './slab';
import { TargetStats } from './stats';
import { PutBudget } from './put-budget';
import { OpenCache, openCacheSize, type CachedObject } from './open-cache';
import { log } from '../util/log';

export interface ObjectHandle {
  fd: number;
  lom: Lom;
  path: string;
  /** Set when the fd belongs to the open-object cache (openForRead): give it back with closeObject. */
  cached?: CachedObject;
}

/** What the HTTP threads of one node share (made by the main thread, posted to the others). */
export interface TargetShared {
  /** The counters table (stats.ts) and this thread's row in it. */
  stats: SharedArrayBuffer;
  statsRow: number;
  /** The PUT buffer budget's count (put-budget.ts). */
  putBudget: SharedArrayBuffer;
  /** Frontend rate limiters of the node's gateway (proxy/ratelimit.ts). */
  rateLimits: SharedArrayBuffer;
  /** Targets: the PUT buffers (slab.ts), made once by the main thread. */
  putSlab?: SharedArrayBuffer;
}

/** PUT buffers of a node: its budget, and half as many again for uploads each filling one while paused. */
export function putSlots(config: ClusterConfig): number {
  return Math.ceil(Math.max(1, config.io.put_buffers_max ?? 64) * 1.5);
}

export class Target {
  readonly putBufs: PutSlab;
  readonly getBufs: BufferPool;
  /** Larger buffers for a few large GET streams (whole objects and ranges) at a time (get.ts, LargeGetBuffers). */
  readonly largeGetBufs: LargeGetBuffers;
  readonly stats: TargetStats;
  readonly putBudget: PutBudget;
  readonly openCache: OpenCache;
  /** The public port this thread's App listens on (set once it listens): where large GETs may use sendfile (get.ts). */
  servePort = -1;

  constructor(
    /** Every attached mountpath (also one being detached: objects are read from it until resilver has moved them). */
    readonly mountpaths: Mountpath[],
    readonly config: ClusterConfig,
    readonly pool: Piscina,
    shared?: TargetShared,
    /** False in the extra HTTP threads: node-wide housekeeping (the multipart sweep) runs once, in the main thread. */
    readonly housekeeping = true,
  ) {
    this.putBufs = new PutSlab(config.io.buffer_size, putSlots(config), shared?.putSlab);
    this.getBufs = new BufferPool(config.io.buffer_size, 64);
    this.largeGetBufs = new LargeGetBuffers(config.io.buffer_size);
    setInterval(() => this.trimBuffers(), TRIM_MS).unref();
    this.stats = new TargetStats(shared?.stats, shared?.statsRow);
    this.putBudget = new PutBudget(Math.max(1, config.io.put_buffers_max ?? 64), shared?.putBudget);
    this.openCache = new OpenCache(openCacheSize(config.io.open_cache_max ?? 4096, httpThreads(config)));
  }

  /** Lets go of pooled GET buffers the last period did not need (bufpool.ts; PUT buffers are the slab). */
  trimBuffers(): void {
    this.getBufs.trim();
    this.largeGetBufs.trim();
  }

  /** Where HRW places an object: among the mountpaths not being detached. */
  mountpathFor(bucket: string, objName: string): Mountpath {
    return hrwSelect(this.activeMountpaths(), objectUname('ais', bucket, objName))!;
  }

  activeMountpaths(): Mountpath[] {
    return this.mountpaths.some((mp) => mp.detaching) ? this.mountpaths.filter((mp) => !mp.detaching) : this.mountpaths;
  }

  objectFile(mp: Mountpath, bucket: string, objName: string): string {
    return path.join(mp.bucketDir(bucket), objectPath(objName).rel);
  }

  workFile(mp: Mountpath, bucket: string, tag: string): string {
    return path.join(mp.bucketDir(bucket), CT_WORK, `${tag}.${process.pid.toString(16)}.${randomBytes(8).toString('hex')}`);
  }

  createBucket(bucket: string): void {
    for (const mp of this.mountpaths) {
      for (const ct of [CT_OBJ, CT_WORK, CT_LONG]) fs.mkdirSync(path.join(mp.bucketDir(bucket), ct), { recursive: true });
    }
  }

  /** Moves the bucket's folders aside at once (the name is free again), then deletes them in the background. */
  destroyBucket(bucket: string): void {
    for (const mp of this.mountpaths) {
      const dir = mp.bucketDir(bucket);
      if (!fs.existsSync(dir)) continue;
      const trash = path.join(mp.path, '.trash', `${bucket}.${Date.now()}.${randomBytes(4).toString('hex')}`);
      fs.mkdirSync(path.dirname(trash), { recursive: true });
      fs.renameSync(dir, trash);
      fs.promises.rm(trash, { recursive: true, force: true }).catch((err: Error) => log.warn(`removing ${trash}: ${err.message}`));
    }
  }

  /**
   * Opens an object and loads its metadata, or undefined when it does not exist. Looks on the HRW
   * mountpath first and then on the others (an object may sit elsewhere after a mountpath change).
   * A file without valid metadata is reported, counted and treated as absent: never served.
   */
  openObject(bucket: string, objName: string): ObjectHandle | undefined {
    const first = this.mountpathFor(bucket, objName);
    const h = this.openOn(first, bucket, objName);
    if (h || this.mountpaths.length === 1) return h;
    for (const mp of this.mountpaths) {
      if (mp === first) continue;
      const other = this.openOn(mp, bucket, objName);
      if (other) return other;
    }
    return undefined;
  }

  /**
   * openObject for GET and HEAD: through the open-object cache (open-cache.ts), which keeps objects
   * found on their HRW mountpath. Give the handle back with closeObject, never by closing its fd.
   */
  openForRead(bucket: string, objName: string): ObjectHandle | undefined {
    const file = this.objectFile(this.mountpathFor(bucket, objName), bucket, objName);
    const c = this.openCache.acquire(file);
    if (c) {
      if (c.lom.name === undefined || c.lom.name === objName) return c.handle;
      this.openCache.release(c); // another object under the same hashed long name
    }
    const h = this.openObject(bucket, objName);
    if (!h || h.path !== file) return h;
    return this.openCache.adopt(file, h.fd, h.lom)?.handle ?? h;
  }

  /** Ends the use of a handle: back to the open-object cache, or closed. */
  closeObject(h: ObjectHandle): void {
    if (h.cached) {
      this.openCache.release(h.cached);
      return;
    }
    try {
      fs.closeSync(h.fd);
    } catch {
      // already closed
    }
  }

  private openOn(mp: Mountpath, bucket: string, objName: string, retry = true): ObjectHandle | undefined {
    const file = this.objectFile(mp, bucket, objName);
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOATIME);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'EMFILE' || code === 'ENFILE') && retry && this.openCache.size > 0) {
        this.openCache.clear(); // out of fds: the cache gives back what it holds
        return this.openOn(mp, bucket, objName, false);
      }
      if (code === 'EPERM') return this.openPlain(file, bucket, objName);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return undefined;
      throw err;
    }
    return this.withLom(fd, file, bucket, objName);
  }

  // O_NOATIME is refused for files we do not own; fall back to a plain open.
  private openPlain(file: string, bucket: string, objName: string): ObjectHandle | undefined {
    try {
      return this.withLom(fs.openSync(file, 'r'), file, bucket, objName);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private withLom(fd: number, file: string, bucket: string, objName: string): ObjectHandle | undefined {
    try {
      const lom = loadLomFd(fd);
      if (!lom || (lom.name !== undefined && lom.name !== objName)) {
        fs.closeSync(fd);
        return undefined; // a folder (EISDIR-like: no xattr) or a hashed-name collision
      }
      return { fd, lom, path: file };
    } catch (err) {
      fs.closeSync(fd);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENODATA' || code === 'EISDIR') return undefined;
      if (err instanceof LomError) {
        this.stats.errCksum++;
        log.error(`${bucket}/${objName}: ${err.message} (${file}); not served`);
        return undefined;
      }
      throw err;
    }
  }

  /** True when the object is stored here (with valid metadata). */
  hasObject(bucket: string, objName: string): boolean {
    const h = this.openObject(bucket, objName);
    if (h) fs.closeSync(h.fd);
    return h !== undefined;
  }

  /**
   * Deletes an object; false when it did not exist (or, with `ino`, is no longer that file: a PUT
   * replaced it). Empty folders above it are pruned.
   */
  async deleteObject(bucket: string, objName: string, ino?: number): Promise<boolean> {
    const h = this.openObject(bucket, objName);
    if (!h) return false;
    const same = ino === undefined || fs.fstatSync(h.fd).ino === ino;
    fs.closeSync(h.fd);
    if (!same) return false;
    try {
      await fs.promises.unlink(h.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    await pruneEmptyDirs(path.dirname(h.path), CT_OBJ);
    return true;
  }
}

/** Removes empty folders from `dir` upwards, stopping at the content-type folder (%ob). */
export async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  while (path.basename(dir) !== stopAt) {
    try {
      await fs.promises.rmdir(dir);
    } catch {
      return; // not empty, or already gone: either way, done
    }
    dir = path.dirname(dir);
  }
}
