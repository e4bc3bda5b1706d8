// Open-object cache: the fds and decoded LOMs of objects read recently by this HTTP thread. A small GET
// is mostly syscalls (open, fgetxattr, pread, close: on this 2-vCPU VM each costs several µs of kernel
// entry and exit, and open's path walk the most), so a repeat GET that skips open, fgetxattr and close
// does about half the work. nginx has the same idea (open_file_cache); AIStore caches LOMs.
//
// Nothing is trusted without a check on every use: one fstat (fdCtime) must show the fd still linked
// (a PUT's rename over the name or a DELETE drops the old inode's link count to 0) and its ctime
// unchanged (any write, xattr change or rename of the inode moves it; once queried, the kernel makes
// the next change visible at nanosecond grain). The bytes are still hashed on every whole-object GET.
//
// An fd of a deleted file holds its blocks: unused entries are closed after at most two sweeps
// (`SWEEP_MS`), and an entry found stale is closed as soon as no read uses it.
import fs from 'node:fs';
import { fdCtime } from '../native';
import type { Lom } from '../fs/lom';
import type { ObjectHandle } from './target';

const SWEEP_MS = 2_000;

export interface CachedObject {
  readonly fd: number;
  readonly lom: Lom;
  readonly path: string;
  /** The handle every user of this entry gets (made once, not per GET). */
  readonly handle: ObjectHandle;
  /** ctime when cached (s, ns). */
  readonly sec: number;
  readonly nsec: number;
  /** Reads in progress on this fd: it is closed only when they are done. */
  refs: number;
  /** Out of the cache (stale or swept): close at the last release. */
  dead: boolean;
  /** Used since the last sweep. */
  used: boolean;
}

export class OpenCache {
  private readonly map = new Map<string, CachedObject>();
  private readonly st = new Float64Array(2);
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The cached object at `path` if it is still the live, unchanged file, with a reference taken. */
  acquire(path: string): CachedObject | undefined {
    const e = this.map.get(path);
    if (!e) return undefined;
    let nlink = 0;
    try {
      nlink = fdCtime(e.fd, this.st);
    } catch {
      // an fd we cannot stat is dropped like a stale one
    }
    if (nlink === 0 || this.st[0] !== e.sec || this.st[1] !== e.nsec) {
      this.drop(e);
      return undefined;
    }
    e.refs++;
    e.used = true;
    this.map.delete(path); // to the end: Map order is then least recently used first
    this.map.set(path, e);
    return e;
  }

  /**
   * Takes over a freshly opened object (fd and LOM read from it): cached with one reference held by
   * the caller, or undefined when the cache is off or full of objects in use (the caller keeps the fd).
   */
  adopt(path: string, fd: number, lom: Lom): CachedObject | undefined {
    if (this.max <= 0) return undefined;
    if (this.map.size >= this.max && !this.evictOne()) return undefined;
    let nlink = 0;
    try {
      nlink = fdCtime(fd, this.st);
    } catch {
      return undefined;
    }
    if (nlink === 0) return undefined;
    const old = this.map.get(path);
    if (old) this.drop(old);
    const handle: ObjectHandle = { fd, lom, path };
    const e: CachedObject = { fd, lom, path, handle, sec: this.st[0]!, nsec: this.st[1]!, refs: 1, dead: false, used: true };
    handle.cached = e;
    this.map.set(path, e);
    this.timer ??= setInterval(() => this.sweep(), SWEEP_MS).unref();
    return e;
  }

  release(e: CachedObject): void {
    e.refs--;
    if (e.dead && e.refs === 0) closeQuietly(e.fd);
  }

  /** Closes every entry not in use (out of fds, or shutting down). */
  clear(): void {
    for (const e of [...this.map.values()]) this.drop(e);
  }

  private drop(e: CachedObject): void {
    if (this.map.get(e.path) === e) this.map.delete(e.path);
    if (e.dead) return;
    e.dead = true;
    if (e.refs === 0) closeQuietly(e.fd);
  }

  /** The least recently used entry not in use goes. */
  private evictOne(): boolean {
    for (const e of this.map.values()) {
      if (e.refs === 0) {
        this.drop(e);
        return true;
      }
    }
    return false;
  }

  private sweep(): void {
    for (const e of [...this.map.values()]) {
      if (!e.used) this.drop(e);
      else e.used = false;
    }
    if (this.map.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/**
 * How many objects one HTTP thread may keep open: the configured number, but at most a quarter of the
 * process's soft fd limit shared by its HTTP threads, so that sockets, work files and the pool never
 * run short because of the cache.
 */
export function openCacheSize(configured: number, threads: number): number {
  let soft = Number.POSITIVE_INFINITY;
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m && m[1] !== 'unlimited') soft = Number(m[1]);
  } catch {
    // no /proc: the configured size stands (EMFILE still empties the cache)
  }
  return Math.max(0, Math.min(configured, Math.floor(soft / 4 / Math.max(1, threads))));
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed: nothing to release
  }
}
