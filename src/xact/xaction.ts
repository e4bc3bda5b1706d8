// Xactions (AIStore's batch jobs) as a target runs them: one per job ID on every target, each with its
// own counters; the gateway asks every target for its snap and adds them up (`ais show job ID`), and
// stops a job by telling every target. Kept in memory: a restarted target forgets its jobs (AIStore's
// are not persisted either).
import { randomBytes } from 'node:crypto';

/** One target's view of a job, in AIStore's Snap shape (core/xaction_wire.go): stats as strings. */
export interface XactSnap {
  id: string;
  kind: string;
  bck: { name: string; provider: string };
  'start-time': string;
  'end-time': string;
  stats: { 'loc-objs': string; 'loc-bytes': string; 'err-objs': string };
  aborted: boolean;
  'abort-err'?: string;
  err?: string;
  is_idle: boolean;
}

/** Go's zero time, which AIStore writes for "not ended". */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

export class Xaction {
  objs = 0;
  bytes = 0;
  errs = 0;
  /** Set by stop(): the job's loop checks it before each object. */
  aborted = false;
  lastErr: string | undefined;
  readonly started = Date.now();
  ended = 0;

  constructor(
    readonly id: string,
    readonly kind: string,
    readonly bucket: string,
    readonly provider: string,
  ) {}

  stop(): void {
    if (!this.ended) this.aborted = true;
  }

  finish(): void {
    this.ended = Date.now();
  }

  snap(): XactSnap {
    return {
      id: this.id,
      kind: this.kind,
      bck: { name: this.bucket, provider: this.provider },
      'start-time': new Date(this.started).toISOString(),
      'end-time': this.ended ? new Date(this.ended).toISOString() : ZERO_TIME,
      stats: { 'loc-objs': String(this.objs), 'loc-bytes': String(this.bytes), 'err-objs': String(this.errs) },
      aborted: this.aborted,
      ...(this.aborted ? { 'abort-err': 'stopped by user' } : {}),
      ...(this.lastErr ? { err: this.lastErr } : {}),
      is_idle: this.ended !== 0,
    };
  }
}

/** AIStore-style short IDs ("MV4ex8u6h"): 9 characters of base62-ish randomness. */
export function newXactId(): string {
  return randomBytes(7).toString('base64url').replace(/[-_]/g, 'x').slice(0, 9);
}

/** The jobs of this process (a target). Finished ones are kept for `ais show job` (the last 100). */
export class XactRegistry {
  private readonly all = new Map<string, Xaction>();

  add(x: Xaction): void {
    this.all.set(x.id, x);
    if (this.all.size > 100) {
      for (const [id, old] of this.all) {
        if (old.ended) {
          this.all.delete(id);
          break;
        }
      }
    }
  }

  get(id: string): Xaction | undefined {
    return this.all.get(id);
  }

  list(): Xaction[] {
    return [...this.all.values()];
  }
}

export const xactRegistry = new XactRegistry();
