// The primary proxy's duties, kept in one module so that etcd can back them later: the only writer of
// cluster metadata (Smap, BMD, config, RMD), it registers joining nodes, tracks keepalives, removes
// nodes that stop reporting, starts a rebalance whenever the set of targets changes, and pushes every
// new version to every node (metasync).
import type { Node } from './node';
import { Smap } from './smap';
import { mergeConfig, type BucketProps, type ClusterConfig } from './config';
import { saveMeta, type EtlMdData, type MetaSet, type MetaVersions, type RmdData } from './meta';
import { intraCall, packMsg } from './intra';
import { nodeUrl, type Snode } from './snode';
import { log } from '../util/log';

const PUSH_TRIES = 3;

export class Primary {
  private readonly lastSeen = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  /** Serializes metadata changes: each one reads the latest version and makes the next. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly node: Node) {}

  /** Takes over the saved Smap (restart) or makes a new one, and the config given at start. */
  async init(saved: Smap | undefined, overrides: Partial<ClusterConfig>): Promise<void> {
    const node = this.node;
    const self = node.self;
    if (saved) {
      node.smap = saved.next((d) => {
        delete d.pmap[self.id];
        delete d.tmap[self.id];
        (self.type === 'proxy' ? d.pmap : d.tmap)[self.id] = self;
        d.primary = self.id;
      });
    } else {
      node.smap = Smap.create(self);
    }
    saveMeta(node.confDir, 'smap', node.smap.data);
    // The config given at start wins over the saved one: a new version when that changes anything.
    const before = JSON.stringify(node.config);
    const merged = mergeConfig(node.config, overrides);
    if (JSON.stringify(merged) !== before || node.config.version === 0) merged.version = node.config.version + 1;
    Object.assign(node.config, merged);
    saveMeta(node.confDir, 'conf', node.config);
    const now = Date.now();
    for (const n of node.smap.nodes(self.id)) this.lastSeen.set(n.id, now);
    const every = node.config.keepalive.interval_ms;
    this.timer = setInterval(() => this.checkAlive(), Math.max(100, Math.floor(every / 2)));
    this.timer.unref();
    // Nodes still running from before our restart learn the new Smap; the rest will be removed by keepalive.
    void this.push({ smap: node.smap.data, conf: node.config });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** A node registers (first start or restart): added or updated in the Smap; gets the whole metadata set. */
  join(snode: Snode): Promise<MetaSet> {
    return this.serialize(async () => {
      const smap = this.node.smap;
      const have = smap.get(snode.id);
      this.lastSeen.set(snode.id, Date.now());
      if (have && have.type !== snode.type) throw new Error(`node ${snode.id} is a ${have.type}, not a ${snode.type}`);
      if (!have || have.host !== snode.host || have.port !== snode.port || have.flags !== snode.flags || have.intraPort !== snode.intraPort || have.tls !== snode.tls || have.intraTls !== snode.intraTls) {
        log.info(`${have ? 'rejoin' : 'join'}: ${snode.type} ${snode.id} at ${nodeUrl(snode)}`);
        await this.setSmap(smap.next((d) => ((snode.type === 'proxy' ? d.pmap : d.tmap)[snode.id] = snode)), snode.id);
      }
      return this.node.metaSet();
    });
  }

  /** Keepalive from a node: false when the node is not in the Smap (it must register again). */
  keepalive(id: string): MetaVersions | undefined {
    if (!this.node.smap.get(id)) return undefined;
    this.lastSeen.set(id, Date.now());
    return this.node.versions();
  }

  private checkAlive(): void {
    const now = Date.now();
    const timeout = this.node.config.keepalive.timeout_ms;
    const dead = this.node.smap.nodes(this.node.self.id).filter((n) => now - (this.lastSeen.get(n.id) ?? 0) > timeout);
    if (dead.length === 0) return;
    void this.serialize(async () => {
      const gone = dead.filter((n) => this.node.smap.get(n.id) && now - (this.lastSeen.get(n.id) ?? 0) > timeout);
      if (gone.length === 0) return;
      for (const n of gone) {
        log.warn(`keepalive: ${n.type} ${n.id} silent for over ${timeout} ms: removed from the cluster map`);
        this.lastSeen.delete(n.id);
      }
      await this.setSmap(
        this.node.smap.next((d) => {
          for (const n of gone) {
            delete d.pmap[n.id];
            delete d.tmap[n.id];
          }
        }),
      );
    }).catch((err: Error) => log.error(`removing nodes: ${err.message}`));
  }

  /** Installs a new Smap; when the targets changed, a new RMD starts a rebalance on all of them. */
  private async setSmap(next: Smap, joiner?: string): Promise<void> {
    const node = this.node;
    const targetsChanged = !node.smap.sameTargets(next);
    const set: MetaSet = { smap: next.data };
    if (targetsChanged && node.config.rebalance.enabled && next.targets().length > 0) {
      const v = node.rmd.version + 1;
      set.rmd = { version: v, id: v, smapVersion: next.version, running: true, done: [] };
      log.info(`rebalance g${v}: targets ${next.targets().map((t) => t.id).join(', ')}`);
    }
    node.applyMeta(set);
    await this.push(set, joiner);
  }

  /** Changes the BMD (the change may throw to refuse) and waits until every node has it. */
  modifyBmd(change: (buckets: Record<string, BucketProps>) => void): Promise<void> {
    return this.serialize(async () => {
      const node = this.node;
      const before = node.bmd.snapshot;
      node.bmd.modify(change);
      node.bucketsChanged(before, node.bmd.snapshot);
      node.metaChanged();
      await this.push({ bmd: node.bmd.snapshot });
    });
  }

  /** Changes the EtlMD and waits until every node has it (targets start or drop ETLs on it). */
  modifyEtlmd(change: (etls: EtlMdData['etls']) => void): Promise<void> {
    return this.serialize(async () => {
      const cur = this.node.etlmd;
      const etls = structuredClone(cur.etls);
      change(etls);
      const next: EtlMdData = { version: cur.version + 1, etls };
      this.node.applyMeta({ etlmd: next });
      await this.push({ etlmd: next });
    });
  }

  /** Changes the cluster config (the change may throw to refuse) and waits until every node has it. */
  modifyConfig(change: (conf: ClusterConfig) => void): Promise<void> {
    return this.serialize(async () => {
      const next = structuredClone(this.node.config);
      change(next);
      next.version = this.node.config.version + 1;
      this.node.applyMeta({ conf: next });
      await this.push({ conf: next });
    });
  }

  /**
   * A rebalance started by hand (`ais start rebalance`): a new RMD over the targets as they are, which
   * every target takes as a rebalance to run (target/rebalance.ts onRmd), one still running included
   * (it is aborted and the new one walks everything again). Objects that are not where HRW puts them —
   * put there by hand, left by a rebalance that was aborted or disabled — move to their owners.
   */
  startRebalance(): Promise<number> {
    return this.serialize(async () => {
      const node = this.node;
      if (!node.config.rebalance.enabled) throw new Error('rebalance is disabled (rebalance.enabled=false)');
      if (node.smap.targets().length === 0) throw new Error('the cluster has no storage targets');
      const v = node.rmd.version + 1;
      const rmd: RmdData = { version: v, id: v, smapVersion: node.smap.version, running: true, done: [] };
      log.info(`rebalance g${v}: started by hand; targets ${node.smap.targets().map((t) => t.id).join(', ')}`);
      node.applyMeta({ rmd });
      await this.push({ rmd });
      return v;
    });
  }

  /** A target finished rebalance `id`; when all have, the RMD says so (targets stop looking at neighbours). */
  rebalanceDone(targetId: string, id: number): Promise<void> {
    return this.serialize(async () => {
      const rmd = this.node.rmd;
      if (rmd.id !== id || !rmd.running || rmd.done.includes(targetId)) return;
      const done = [...rmd.done, targetId];
      const all = this.node.smap.targets().every((t) => done.includes(t.id));
      const next: RmdData = { ...rmd, version: rmd.version + 1, done, running: !all };
      if (all) log.info(`rebalance g${id}: finished on all ${done.length} target(s)`);
      this.node.applyMeta({ rmd: next });
      await this.push({ rmd: next });
    });
  }

  /** Sends `set` to every other node (and its full set to `joiner`, who has it already from the reply). */
  async push(set: MetaSet, skip?: string): Promise<void> {
    const node = this.node;
    const body = packMsg(set);
    const full = node.smap.nodes(node.self.id).filter((n) => n.id !== skip);
    await Promise.all(full.map((n) => this.pushOne(n, body)));
  }

  private async pushOne(n: Snode, body: Buffer): Promise<void> {
    for (let i = 1; i <= PUSH_TRIES; i++) {
      try {
        const r = await intraCall(nodeUrl(n), '/v1/metasync', { method: 'PUT', body, secret: this.node.secret, timeoutMs: 5000 });
        if (r.status === 200) return;
        throw new Error(`status ${r.status}: ${r.body.toString().slice(0, 200)}`);
      } catch (err) {
        if (!this.node.smap.get(n.id)) return; // removed meanwhile
        if (i === PUSH_TRIES) log.warn(`metasync to ${n.id}: ${(err as Error).message}`);
        else await new Promise((r) => setTimeout(r, 100 * i));
      }
    }
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
