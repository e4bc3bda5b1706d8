// BMD: bucket metadata, versioned. Every change makes a new version that is persisted (msgpack, written
// to a temp file, fsynced and renamed) before it is acknowledged; the primary pushes it to all nodes.
import fs from 'node:fs';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import type { BucketProps } from './config';

export interface BmdData {
  version: number;
  buckets: Record<string, BucketProps>;
}

export class Bmd {
  private data: BmdData;

  constructor(private readonly file: string) {
    this.data = { version: 0, buckets: {} };
    if (fs.existsSync(file)) this.data = unpack(fs.readFileSync(file)) as BmdData;
  }

  get version(): number {
    return this.data.version;
  }

  /** The whole BMD, as metasync sends it. */
  get snapshot(): BmdData {
    return this.data;
  }

  /**
   * Takes a newer BMD from the primary (persisted first); returns the one it replaced, or undefined if
   * not newer. `force` (at join): the primary's wins even if ours claims a higher version. `persist`
   * false: a node's extra HTTP thread, whose main thread has written it.
   */
  replace(next: BmdData, force = false, persist = true): BmdData | undefined {
    if (next.version <= this.data.version && !force) return undefined;
    if (persist) writeFileAtomic(this.file, pack(next));
    const prev = this.data;
    this.data = next;
    return prev;
  }

  get(bucket: string): BucketProps | undefined {
    return Object.hasOwn(this.data.buckets, bucket) ? this.data.buckets[bucket] : undefined;
  }

  names(): string[] {
    return Object.keys(this.data.buckets).sort();
  }

  /** Applies `change` to a copy and persists it as the next version; the change may throw to refuse. */
  modify(change: (buckets: Record<string, BucketProps>) => void): void {
    const buckets = structuredClone(this.data.buckets);
    change(buckets);
    const next: BmdData = { version: this.data.version + 1, buckets };
    writeFileAtomic(this.file, pack(next));
    this.data = next;
  }
}

export function writeFileAtomic(file: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
