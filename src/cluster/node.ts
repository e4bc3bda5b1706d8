// One running node: its role (proxy or target), its configuration, the cluster metadata it holds and —
// on the primary — the primary's duties. A node started without a primary to join is the primary of its
// own cluster; a target started that way is a one-node cluster that is also its own gateway.
import path from 'node:path';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Piscina } from 'piscina';
import { Bmd, type BmdData } from './bmd';
import { defaultClusterConfig, mergeConfig, type ClusterConfig, httpThreads } from './config';
import { Smap, type SmapData } from './smap';
import { loadDaemonId, nodeUrl, type DaemonType, type Snode } from './snode';
import { loadMeta, saveMeta, versionsOf, META_TAGS, type MetaSet, type MetaTag, type MetaVersions, type RmdData, type EtlMdData } from './meta';
import { reconcileEtls } from '../etl/reconcile';
import { intraMsg, packMsg } from './intra';
import { authnConfigError } from '../authn/authn';
import { Primary } from './primary';
import { Keepalive } from './keepalive';
import { initMountpaths, Mountpath } from '../fs/mountpath';
import { Target, putSlots, type TargetShared } from '../target/target';
import { PutSlab } from '../target/slab';
import { mpuStore } from '../target/mpu';
import { newStatsTable } from '../target/stats';
import { PUT_BUDGET_BYTES } from '../target/put-budget';
import { FrontendLimiter, RATE_LIMIT_BYTES } from '../proxy/ratelimit';
import { Rebalance } from '../target/rebalance';
import { Resilver, startMountpaths } from '../target/resilver';
import { log } from '../util/log';

export interface NodeOptions {
  role: DaemonType;
  confDir: string;
  /** Target only: the directories objects live in. */
  mountpaths: string[];
  /** Overrides laid onto the cluster config (on the primary they become the cluster's; elsewhere they hold until join). */
  config?: Partial<ClusterConfig>;
  /** Piscina threads for hashing and writing (default: one per core). Targets only. */
  workers?: number;
  /** URL of the primary to join; none: this node is the primary. */
  primaryUrl?: string;
  /**
   * Set in a node's extra HTTP threads (api/http-threads.ts): this Node is a replica of the main
   * thread's — it takes the main thread's mountpaths as probed, its shared counters and PUT budget,
   * never persists metadata nor touches the disk at start, and has no primary duties.
   */
  replica?: ReplicaInit;
}

export interface ReplicaInit {
  mountpaths: { path: string; direct: boolean }[];
  shared: TargetShared;
}

class FatalJoinError extends Error {}

export interface JoinReply {
  meta: MetaSet;
  secret: string;
}

export class Node {
  readonly type: DaemonType;
  readonly confDir: string;
  readonly config: ClusterConfig;
  readonly bmd: Bmd;
  smap!: Smap;
  rmd: RmdData;
  etlmd: EtlMdData;
  self!: Snode;
  /** Shared by all nodes of the cluster: required on intra-cluster routes. */
  secret = '';
  primary?: Primary;
  readonly pool?: Piscina;
  /** What HeadBucket and GetBucketLocation report; SDKs need some region. */
  readonly region = 'us-east-1';
  readonly startedAt = Date.now();
  /** True once the node is in a cluster map (its own or the primary's) and all its HTTP threads listen. */
  ready = false;
  /** Called on a target when a newer RMD arrives (the rebalance plugs in here). */
  onRmd?: (rmd: RmdData) => void;
  /** Called on a target (main thread) when a newer EtlMD arrives: its ETLs follow it (etl/reconcile.ts). */
  onEtlmd?: (etlmd: EtlMdData) => void;
  /** HTTP threads serving this node's port, the main one included (set when they are started). */
  httpThreads = 1;
  /** In an extra HTTP thread: the main thread's private listener (see api/http-threads.ts). */
  mainAddr?: { host: string; port: number };
  /** Called after every change of the metadata this node holds (the HTTP threads take it from here). */
  onMetaChanged?: () => void;
  /**
   * Counters and PUT budget of all the node's HTTP threads (made here, in the main thread, for as many
   * threads as `net.http_threads` will start; see api/http-threads.ts).
   */
  readonly shared: TargetShared;
  /** Frontend rate limiting of requests that reach the cluster here (shared by the node's HTTP threads). */
  readonly limiter: FrontendLimiter;
  /**
   * Targets, main thread only: moving objects between targets (rebalance) and between this target's
   * mountpaths (resilver).
   */
  readonly reb?: Rebalance;
  readonly resilver?: Resilver;
  private readonly tgt?: Target;
  private keepalive?: Keepalive;
  private readonly joinUrl?: string;

  constructor(private readonly opts: NodeOptions) {
    this.type = opts.role;
    this.confDir = opts.confDir;
    this.joinUrl = opts.primaryUrl?.replace(/\/+$/, '');
    const persisted = loadMeta<ClusterConfig>(this.confDir, 'conf');
    this.config = mergeConfig(mergeConfig(defaultClusterConfig(), persisted ?? {}), opts.config ?? {});
    const authErr = authnConfigError(this.config);
    if (authErr) throw new Error(authErr);
    this.bmd = new Bmd(path.join(this.confDir, '.ais.bmd'));
    this.rmd = loadMeta<RmdData>(this.confDir, 'rmd') ?? { version: 0, id: 0, smapVersion: 0, running: false, done: [] };
    this.etlmd = loadMeta<EtlMdData>(this.confDir, 'etlmd') ?? { version: 0, etls: {} };
    this.shared = opts.replica?.shared ?? { stats: newStatsTable(httpThreads(this.config)), statsRow: 0, putBudget: new SharedArrayBuffer(PUT_BUDGET_BYTES), rateLimits: new SharedArrayBuffer(RATE_LIMIT_BYTES) };
    if (opts.role === 'target' && !opts.replica) this.shared.putSlab = new SharedArrayBuffer(PutSlab.bytes(this.config.io.buffer_size, putSlots(this.config)));
    this.limiter = new FrontendLimiter(this.shared.rateLimits);
    if (opts.role === 'target') {
      const rep = opts.replica;
      const mps = rep
        ? rep.mountpaths.map((m) => new Mountpath(m.path, m.direct))
        : initMountpaths(startMountpaths(this.confDir, opts.mountpaths), this.config.io.direct, this.config.mpu.abandoned_age_s * 1000);
      const threads = opts.workers ?? Math.max(1, os.availableParallelism());
      this.pool = new Piscina({
        filename: path.join(__dirname, '..', 'workers', 'pool-worker.js'),
        minThreads: threads,
        maxThreads: threads,
        // Tasks are short (one buffer); a deep queue only adds latency, back-pressure lives in the PUT stream.
        idleTimeout: 60_000,
      });
      this.tgt = new Target(mps, this.config, this.pool, rep?.shared ?? this.shared, !rep);
      // Buckets in the BMD must have their folders (a restart after a crash between BMD write and mkdir).
      if (!rep) {
        for (const b of this.bmd.names()) this.tgt.createBucket(b);
        // The abandoned-upload sweep runs here, in the main thread, whichever HTTP thread takes the uploads.
        mpuStore(this.tgt);
        const reb = new Rebalance(this);
        this.reb = reb;
        this.resilver = new Resilver(this);
        this.onRmd = (rmd) => reb.onRmd(rmd);
        this.onEtlmd = (md) => reconcileEtls(this, md);
      }
    } else if (opts.mountpaths.length) {
      throw new Error('a proxy has no mountpaths');
    }
  }

  get isTarget(): boolean {
    return this.tgt !== undefined;
  }

  /** The storage side of this node; only targets have one (the gateway never calls it on a proxy). */
  get target(): Target {
    if (!this.tgt) throw new Error(`${this.self.id} is a proxy: it stores no objects`);
    return this.tgt;
  }

  get isPrimary(): boolean {
    return this.primary !== undefined;
  }

  get primaryUrl(): string {
    const p = this.smap?.primary;
    return p ? nodeUrl(p) : this.joinUrl!;
  }

  /** After the HTTP listener is up (its port known): become primary or join the one given. `net`: a node
   *  serving HTTPS says so, with the plain port the other nodes use (Snode). */
  async start(host: string, port: number, net: { tls?: boolean; intraPort?: number; intraTls?: boolean } = {}): Promise<void> {
    const id = loadDaemonId(this.confDir, this.type, port);
    this.self = { id, type: this.type, host, port, flags: 0, ...(net.tls ? { tls: true, intraPort: net.intraPort, ...(net.intraTls ? { intraTls: true } : {}) } : {}) };
    log.setNode(id);
    const saved = loadMeta<SmapData>(this.confDir, 'smap');
    if (!this.joinUrl) {
      this.secret = this.loadSecret();
      this.primary = new Primary(this);
      await this.primary.init(saved ? new Smap(saved) : undefined, this.opts.config ?? {});
    } else {
      if (saved) this.smap = new Smap(saved);
      await this.join();
      this.keepalive = new Keepalive(this);
      this.keepalive.start();
    }
  }

  /** Everything is up (the HTTP threads too): /v1/health answers 200 from now on, on every thread. */
  markReady(): void {
    this.ready = true;
    this.metaChanged();
  }

  /** Registers with the primary until it answers (it may start after us), then takes the whole metadata set. */
  async join(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const url = attempt % 2 === 1 || !this.smap?.primary ? this.joinUrl! : this.primaryUrl;
      try {
        // First the buckets and config without joining: once the primary puts this node in the Smap,
        // gateways send it requests at once, and it must know the buckets by then.
        const pre = await intraMsg<JoinReply>(url, '/v1/cluster/autoreg?prepare=true', { method: 'POST', body: packMsg({ snode: this.self }), timeoutMs: 5000 });
        this.checkCluster(pre, url);
        this.secret = pre.secret;
        // The Smap too (without this node yet): get-from-neighbour needs the other targets from the start.
        this.applyMeta({ smap: pre.meta.smap, bmd: pre.meta.bmd, conf: pre.meta.conf });
        const r = await intraMsg<JoinReply>(url, '/v1/cluster/autoreg', { method: 'POST', body: packMsg({ snode: this.self }), timeoutMs: 5000 });
        this.checkCluster(r, url);
        this.secret = r.secret;
        this.applyMeta(r.meta, true);
        log.info(`joined the cluster at ${url}: Smap v${this.smap.version}, ${this.smap.targets().length} target(s)`);
        return;
      } catch (err) {
        if (err instanceof FatalJoinError) throw err;
        if (attempt === 1 || attempt % 10 === 0) log.warn(`joining ${url}: ${(err as Error).message} (retrying)`);
        await new Promise((r) => setTimeout(r, Math.min(1000, 100 * attempt)));
      }
    }
  }

  private checkCluster(r: JoinReply, url: string): void {
    if (this.smap && r.meta.smap && this.smap.data.uuid !== r.meta.smap.uuid && this.bmd.names().length > 0) {
      // Taking another cluster's BMD would destroy our buckets: refuse, as AIStore does.
      throw new FatalJoinError(`this node belongs to cluster ${this.smap.data.uuid}, not ${r.meta.smap.uuid} (at ${url}); start it with a fresh config dir to join`);
    }
  }

  /** Fetches the primary's whole metadata set (after a keepalive showed ours is behind). */
  async pull(): Promise<void> {
    const set = await intraMsg<MetaSet>(this.primaryUrl, '/v1/metasync', { secret: this.secret, timeoutMs: 5000 });
    this.applyMeta(set);
  }

  metaSet(): MetaSet {
    return { smap: this.smap.data, bmd: this.bmd.snapshot, conf: this.config, rmd: this.rmd, etlmd: this.etlmd };
  }

  versions(): MetaVersions {
    return versionsOf(this.metaSet());
  }

  /**
   * Applies every part of `set` newer than what this node holds (all of it with `force`, at join):
   * persisted first, then in memory, then the side effects (bucket folders, rebalance).
   */
  applyMeta(set: MetaSet, force = false): MetaTag[] {
    const applied: MetaTag[] = [];
    const held = this.smap ? this.versions() : {};
    for (const tag of META_TAGS) {
      const v = set[tag];
      if (!v || (!force && v.version <= (held[tag] ?? -1))) continue;
      switch (tag) {
        case 'smap':
          if (!this.replica) saveMeta(this.confDir, 'smap', v);
          this.smap = new Smap(v as SmapData);
          break;
        case 'bmd': {
          const prev = this.bmd.replace(v as BmdData, force, !this.replica);
          if (prev) this.bucketsChanged(prev, v as BmdData);
          break;
        }
        case 'conf':
          if (!this.replica) saveMeta(this.confDir, 'conf', v);
          // In place: the target and the handlers hold this object.
          Object.assign(this.config, structuredClone(v as ClusterConfig));
          break;
        case 'rmd':
          if (!this.replica) saveMeta(this.confDir, 'rmd', v);
          this.rmd = v as RmdData;
          if (this.tgt) this.onRmd?.(this.rmd);
          break;
        case 'etlmd':
          if (!this.replica) saveMeta(this.confDir, 'etlmd', v);
          this.etlmd = v as EtlMdData;
          this.onEtlmd?.(this.etlmd);
          break;
      }
      applied.push(tag);
    }
    if (applied.length > 0) this.metaChanged();
    return applied;
  }

  /** Every change of Smap, BMD, config or RMD ends here (also the primary's own, which skip applyMeta). */
  metaChanged(): void {
    this.onMetaChanged?.();
  }

  get replica(): boolean {
    return this.opts.replica !== undefined;
  }

  /** Bucket folders follow the BMD: a bucket destroyed (or destroyed and created again) loses its objects. */
  bucketsChanged(prev: BmdData, next: BmdData): void {
    if (!this.tgt || this.replica) return; // the main thread makes and removes the folders
    const same = (b: string): boolean => Object.hasOwn(prev.buckets, b) && Object.hasOwn(next.buckets, b) && prev.buckets[b].created === next.buckets[b].created;
    for (const b of Object.keys(prev.buckets)) if (!same(b)) this.tgt.destroyBucket(b);
    for (const b of Object.keys(next.buckets)) if (!same(b)) this.tgt.createBucket(b);
  }

  private loadSecret(): string {
    const file = path.join(this.confDir, '.ais.secret');
    try {
      return fs.readFileSync(file, 'utf8').trim();
    } catch {
      const s = randomBytes(24).toString('base64url');
      fs.mkdirSync(this.confDir, { recursive: true });
      fs.writeFileSync(file, `${s}\n`, { mode: 0o600 });
      return s;
    }
  }

  async close(): Promise<void> {
    this.keepalive?.stop();
    this.primary?.stop();
    await this.pool?.destroy();
  }
}

