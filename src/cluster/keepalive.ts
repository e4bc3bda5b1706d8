// Keepalive, the non-primary side: every node reports to the primary every `keepalive.interval_ms`. The
// answer carries the primary's metadata versions: a node that is behind fetches the newer set, and a
// node the primary no longer knows (it was removed while unreachable) registers again.
import type { Node } from './node';
import { intraCall } from './intra';
import { unpack } from 'msgpackr';
import { META_TAGS, type MetaVersions } from './meta';
import { log } from '../util/log';

export class Keepalive {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private failing = 0;

  constructor(private readonly node: Node) {}

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat().finally(() => this.schedule()), this.node.config.keepalive.interval_ms);
    this.timer.unref();
  }

  private async beat(): Promise<void> {
    const node = this.node;
    try {
      const r = await intraCall(node.primaryUrl, `/v1/cluster/keepalive/${encodeURIComponent(node.self.id)}`, {
        method: 'POST',
        secret: node.secret,
        timeoutMs: Math.max(1000, node.config.keepalive.timeout_ms / 2),
      });
      if (this.failing) log.info(`keepalive: primary reachable again after ${this.failing} failure(s)`);
      this.failing = 0;
      if (r.status === 404) {
        log.warn('keepalive: the primary does not know this node (removed while unreachable): registering again');
        await node.join();
        return;
      }
      if (r.status !== 200) throw new Error(`status ${r.status}`);
      const theirs = unpack(r.body) as MetaVersions;
      const ours = node.versions();
      if (META_TAGS.some((t) => (theirs[t] ?? 0) > (ours[t] ?? 0))) await node.pull();
    } catch (err) {
      if (this.failing++ % 10 === 0) log.warn(`keepalive to ${node.primaryUrl}: ${(err as Error).message}`);
    }
  }
}
