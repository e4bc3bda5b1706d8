// Global rebalance on one target. The primary makes a new RMD version whenever the set of targets
// changes; every target that applies an RMD with `running` and an id it has not finished walks its own
// mountpaths bucket by bucket and sends each object whose HRW owner (under the newest Smap) is another
// target there (reb-send.ts), deleting its copy only after the receiver confirmed. Then it reports
// done to the primary, which ends the rebalance (RMD `running: false`) when every target has.
// A newer RMD aborts the running walk and starts over under the newest Smap: objects always go to
// their owners under the latest map, and an object is never deleted before its new owner has it.
// Multipart uploads in progress (%mp) stay where they are: their IDs name their target and gateways
// send their requests there; a completion on a target that is not the object's owner sends the object
// to its owner before it answers (moveToOwner; see docs/architecture.md).
import fs from 'node:fs';
import path from 'node:path';
import type { Node } from '../cluster/node';
import type { RmdData } from '../cluster/meta';
import { intraMsg, packMsg } from '../cluster/intra';
import { walkBucket, type WalkItem } from '../fs/walk';
import { CT_OBJ } from '../fs/fqn';
import { NotOwnerError, sendObject, type SendResult } from './reb-send';
import { pruneEmptyDirs } from './target';
import { idleStats, Limiter, type XactStats } from './xaction';
import { log } from '../util/log';

const PARALLEL_SENDS = 4;
const SEND_TRIES = 3;
const NOT_OWNER_TRIES = 25;

interface Run {
  id: number;
  aborted: boolean;
  finished: boolean;
  done: Promise<void>;
}

export class Rebalance {
  stats: XactStats = idleStats('rebalance');
  private run: Run | undefined;
  /** The last rebalance id this target finished. */
  private finishedId = 0;
  /** Objects received from other targets, across runs (a target may receive before its own walk starts). */
  private recvObjs = 0;
  private recvBytes = 0;

  constructor(private readonly node: Node) {}

  /**
   * Objects deleted while a rebalance runs (bucket/name -> time): a copy of one still on its way from
   * its previous owner must not bring it back. Forgotten when the rebalance ends.
   */
  private readonly tombstones = new Map<string, number>();

  deleted(bucket: string, name: string): void {
    this.tombstones.set(`${bucket}/${name}`, Date.now());
  }

  /** True when bucket/name was deleted here after `mtime` (the incoming copy is older than the delete). */
  deletedSince(bucket: string, name: string, mtime: number): boolean {
    const t = this.tombstones.get(`${bucket}/${name}`);
    return t !== undefined && t >= mtime;
  }

  /** Called for every RMD the node applies. */
  onRmd(rmd: RmdData): void {
    if (!rmd.running) this.tombstones.clear();
    if (!rmd.running || rmd.id <= this.finishedId || this.run?.id === rmd.id) return;
    if (this.run && this.run.id > rmd.id) return;
    const prev = this.run;
    if (prev && !prev.finished) {
      prev.aborted = true;
      log.info(`rebalance g${prev.id}: aborted by g${rmd.id}`);
    }
    const run: Run = { id: rmd.id, aborted: false, finished: false, done: Promise.resolve() };
    run.done = (prev?.done ?? Promise.resolve()).then(() => this.execute(run)).catch((err: Error) => log.error(`rebalance g${run.id}: ${err.message}`));
    this.run = run;
  }

  /**
   * An object another target moved here. If the Smap changed while it was on its way, it may belong to
   * a third target now, and this target's walk may have passed its name already: it moves on at once.
   */
  received(bucket: string, name: string, size: number): void {
    this.recvObjs++;
    this.recvBytes += size;
    this.stats.recvObjs = this.recvObjs;
    this.stats.recvBytes = this.recvBytes;
    const owner = this.node.smap.owner(bucket, name, this.node.bmd.get(bucket)?.provider ?? 'ais');
    const run = this.run;
    if (!run || !owner || owner.id === this.node.self.id) return;
    const h = this.node.target.openObject(bucket, name);
    if (!h) return;
    fs.closeSync(h.fd);
    void this.moveOne(run, this.stats, bucket, { name, file: h.path });
  }

  private async execute(run: Run): Promise<void> {
    if (run.aborted) return;
    const s: XactStats = { ...idleStats('rebalance'), id: run.id, state: 'running', started: Date.now(), recvObjs: this.recvObjs, recvBytes: this.recvBytes };
    this.stats = s;
    log.info(`rebalance g${run.id}: started (Smap v${this.node.smap.version}, ${this.node.smap.targets().length} targets)`);
    const limiter = new Limiter(PARALLEL_SENDS);
    for (const bucket of this.node.bmd.names()) {
      for (const mp of [...this.node.target.mountpaths]) {
        for (const walk of walkBucket(mp.bucketDir(bucket), { prefix: '', after: '', delimiter: '' })) {
          try {
            for await (const item of walk) {
              if (run.aborted) break;
              s.scanned++;
              await limiter.run(() => this.moveOne(run, s, bucket, item));
            }
          } catch (err) {
            // A bucket destroyed meanwhile, or an unreadable folder: counted, the rest goes on.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
              s.errors++;
              log.warn(`rebalance g${run.id}: walking ${bucket} on ${mp.path}: ${(err as Error).message}`);
            }
          }
          if (run.aborted) break;
        }
        if (run.aborted) break;
      }
      if (run.aborted) break;
    }
    await limiter.drain();
    s.ended = Date.now();
    if (run.aborted) {
      s.state = 'aborted';
      return;
    }
    s.state = 'finished';
    run.finished = true;
    this.finishedId = Math.max(this.finishedId, run.id);
    log.info(`rebalance g${run.id}: done here: ${s.movedObjs} object(s), ${s.movedBytes} bytes sent; ${s.scanned} scanned, ${s.errors} error(s)`);
    await this.reportDone(run);
  }

  private async moveOne(run: Run, s: XactStats, bucket: string, item: WalkItem): Promise<void> {
    const file = item.file;
    if (!file) return;
    // The newest Smap, not the one the run started with: a map change aborts this run anyway.
    for (let attempt = 1; ; attempt++) {
      try {
        const r = await moveToOwner(this.node, bucket, item.name, file, this.node.config.rebalance.bandwidth ?? 0);
        if (r) {
          s.movedObjs++;
          s.movedBytes += r.lom.size;
        }
        return;
      } catch (err) {
        // A receiver with another Smap version: both maps converge within a metasync; wait for it longer.
        const tries = err instanceof NotOwnerError ? NOT_OWNER_TRIES : SEND_TRIES;
        if (attempt >= tries || run.aborted) {
          s.errors++;
          log.warn(`rebalance g${run.id}: ${bucket}/${item.name}: ${(err as Error).message}; the object stays here`);
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(500, 200 * attempt)));
      }
    }
  }

  private async reportDone(run: Run): Promise<void> {
    for (let attempt = 1; attempt <= 20 && !run.aborted; attempt++) {
      try {
        await intraMsg(this.node.primaryUrl, '/v1/cluster/rebalance-done', {
          method: 'POST',
          secret: this.node.secret,
          body: packMsg({ target: this.node.self.id, id: run.id }),
          timeoutMs: 10_000,
        });
        return;
      } catch (err) {
        if (attempt === 1 || attempt % 5 === 0) log.warn(`rebalance g${run.id}: reporting done: ${(err as Error).message} (retrying)`);
        await new Promise((r) => setTimeout(r, Math.min(2000, 200 * attempt)));
      }
    }
  }
}

/**
 * Sends object file `file` (bucket/name) to its HRW owner under the newest Smap (within `rate` bytes/s,
 * the rebalance bandwidth; a completing multipart upload, which a client waits on, passes none) and
 * deletes it here once the owner confirmed. Undefined when this target is the owner or the file is gone; throws when
 * the owner did not take it (NotOwnerError: its Smap differs for a moment).
 */
export async function moveToOwner(node: Node, bucket: string, name: string, file: string, rate = 0): Promise<SendResult | undefined> {
  const owner = node.smap.owner(bucket, name, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner || owner.id === node.self.id) return undefined;
  const r = await sendObject(owner, node.secret, bucket, name, file, rate);
  if (!r) return undefined; // gone meanwhile
  // Only the file that was sent is deleted (not a newer one a late PUT put in its place).
  const st = await fs.promises.stat(file).catch(() => undefined);
  if (st && st.ino === r.ino && st.mtimeMs === r.mtimeMs) {
    // Two senders of one file (a rebalance walk and a multipart completion, mpu-place.ts): one unlinks.
    if (!(await fs.promises.unlink(file).then(() => true, (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? false : Promise.reject(err))))) return r;
    await pruneEmptyDirs(path.dirname(file), file.includes(`/${CT_OBJ}/`) ? CT_OBJ : path.basename(path.dirname(file)));
  }
  return r;
}
