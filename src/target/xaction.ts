// Progress of a target's background jobs that move objects (AIStore calls them xactions): rebalance
// (between targets) and resilver (between this target's mountpaths). What `/v1/daemon?what=rebalance`
// reports and `ais show rebalance` prints.
export type XactState = 'idle' | 'running' | 'finished' | 'aborted';

export interface XactStats {
  kind: 'rebalance' | 'resilver';
  /** Rebalance: the RMD id (g<id>); resilver: a per-target sequence number. */
  id: number;
  state: XactState;
  /** ms since epoch. */
  started?: number;
  ended?: number;
  /** Object files looked at. */
  scanned: number;
  /** Objects moved away (to another target, or to another mountpath). */
  movedObjs: number;
  movedBytes: number;
  /** Rebalance: objects received from other targets (in this or an earlier run). */
  recvObjs: number;
  recvBytes: number;
  errors: number;
  /** Resilver: what started it (e.g. "attach /data/mp3"). */
  reason?: string;
}

export function idleStats(kind: XactStats['kind']): XactStats {
  return { kind, id: 0, state: 'idle', scanned: 0, movedObjs: 0, movedBytes: 0, recvObjs: 0, recvBytes: 0, errors: 0 };
}

/** Runs `fn` over items with at most `limit` of them in flight. */
export class Limiter {
  private readonly inflight = new Set<Promise<void>>();
  constructor(private readonly limit: number) {}

  async run(fn: () => Promise<void>): Promise<void> {
    while (this.inflight.size >= this.limit) await Promise.race(this.inflight);
    const p = fn().finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inflight);
  }
}
