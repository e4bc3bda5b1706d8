// A real cluster for end-to-end tests: a primary proxy, more proxies and targets, each its own aisnode
// process on a free loopback port, joined through the primary. Also what cluster tests check against:
// where HRW puts an object (computed here from the Smap, independently of the nodes' own placement),
// which objects are not where HRW puts them, and the nodes' logs when a test fails. The cluster and
// rebalance tests start the same way: a cluster with one bucket of objects (startClusterWithObjects).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { digestOf, objectUname, xoshiroHash } from '../../src/cluster/hrw';
import { objectNameOf } from '../../src/fs/fqn';
import type { ClusterRebStatus } from '../../src/api/rebalance';
import { startNode, s3Client, request, sleep, mapLimit, walkFiles, runScript, ROOT, type AisNode, type NodeOptions, type ScriptRun } from './node';

/** Keepalive quick enough that a killed node leaves the Smap within seconds. */
export const FAST_KEEPALIVE = { keepalive: { interval_ms: 300, timeout_ms: 2000 } };

export interface ClusterOptions {
  proxies?: number;
  targets?: number;
  mountpaths?: number;
  /** Cluster config given to the primary (it becomes the cluster's). */
  config?: Record<string, unknown>;
  name?: string;
  /** Extra environment of every node (e.g. AWS credentials for remote buckets). */
  env?: Record<string, string>;
  /** Bearer token for the helper's own calls (a cluster with auth.enabled). */
  token?: string;
  /** Every node serves HTTPS with this certificate and key. */
  tls?: { cert: string; key: string };
}

export interface Cluster {
  readonly primary: AisNode;
  readonly proxies: AisNode[];
  readonly targets: AisNode[];
  /** Starts one more target that joins the cluster. */
  addTarget(opts?: NodeOptions): Promise<AisNode>;
  addProxy(): Promise<AisNode>;
  /** GET /v1/cluster?what=smap from `node` (default: the primary), parsed (id_digest as text). */
  smap(node?: AisNode): Promise<SmapView>;
  /** Waits until every running node holds the primary's Smap version and it has `targets` targets. */
  settle(targets?: number, timeoutMs?: number): Promise<SmapView>;
  stop(): Promise<void>;
}

export interface SnodeView {
  daemon_id: string;
  daemon_type: string;
  public_net: { node_ip_addr: string; daemon_port: string; direct_url: string };
  id_digest: string;
  flags: number;
}

export interface SmapView {
  version: string;
  uuid: string;
  tmap: Record<string, SnodeView>;
  pmap: Record<string, SnodeView>;
  proxy_si: SnodeView;
}

export function parseSmap(text: string): SmapView {
  // id_digest is an exact uint64: keep its digits as a string.
  return JSON.parse(text.replace(/"id_digest":(\d+)/g, '"id_digest":"$1"')) as SmapView;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const name = opts.name ?? 'clu';
  const env = { ...(opts.env ? { env: opts.env } : {}), ...(opts.tls ? { tls: opts.tls } : {}) };
  const primary = await startNode({ role: 'proxy', name: `${name}-p0`, config: opts.config, ...env });
  const proxies = [primary];
  const targets: AisNode[] = [];
  let seq = 0;
  const all = (): AisNode[] => [...proxies, ...targets].filter((n) => n.pid !== undefined);
  const c: Cluster = {
    primary,
    proxies,
    targets,
    async addTarget(o: NodeOptions = {}) {
      const t = await startNode({ mountpaths: opts.mountpaths, name: `${name}-t${seq++}`, ...env, ...o, role: 'target', primary: primary.url });
      targets.push(t);
      return t;
    },
    async addProxy() {
      const p = await startNode({ role: 'proxy', name: `${name}-p${proxies.length}`, primary: primary.url, ...env });
      proxies.push(p);
      return p;
    },
    async smap(node = primary) {
      const headers = opts.token ? { Authorization: `Bearer ${opts.token}` } : undefined;
      const r = await request(node.url, { method: 'GET', path: '/v1/cluster?what=smap', headers });
      if (r.status !== 200) throw new Error(`smap from ${node.url}: ${r.status} ${r.body.toString()}`);
      return parseSmap(r.body.toString());
    },
    async settle(n = targets.filter((t) => t.pid !== undefined).length, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const want = await c.smap();
        if (Object.keys(want.tmap).length === n) {
          const views = await Promise.all(all().map((x) => c.smap(x).catch(() => undefined)));
          if (views.every((v) => v?.version === want.version)) return want;
        }
        if (Date.now() > deadline) throw new Error(`cluster did not settle at ${n} targets: primary Smap v${want.version} has ${Object.keys(want.tmap).length}`);
        await sleep(100);
      }
    },
    async stop() {
      await Promise.all([...targets, ...proxies.slice(1)].map((n) => n.stop()));
      await primary.stop();
    },
  };
  try {
    for (let i = 1; i < (opts.proxies ?? 1); i++) await c.addProxy();
    await Promise.all(Array.from({ length: opts.targets ?? 3 }, () => c.addTarget()));
    await c.settle(opts.targets ?? 3);
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}

/**
 * What the cluster-wide tests start from: a cluster, an SDK client on its primary, and `bucket` created
 * there holding `objects` (PUT 8 at a time). The cluster is stopped if any of it fails.
 */
export async function startClusterWithObjects(
  opts: ClusterOptions,
  bucket: string,
  objects: Iterable<readonly [string, Buffer]>,
): Promise<{ cluster: Cluster; s3: S3Client }> {
  const cluster = await startCluster(opts);
  const s3 = s3Client(cluster.primary.url);
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await mapLimit([...objects], 8, ([key, body]) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
  } catch (err) {
    s3.destroy();
    await cluster.stop();
    throw err;
  }
  return { cluster, s3 };
}

/** Every object file of an ais:// bucket on `node` (default: on all its mountpaths), as key -> [files]. */
export function objectsOnDisk(node: AisNode, bucket: string, mountpaths: readonly string[] = node.dirs.mountpaths): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const mp of mountpaths) {
    const root = path.join(mp, '@ais', bucket, '%ob');
    for (const f of walkFiles(root)) {
      const key = objectNameOf(path.relative(root, f));
      out.set(key, [...(out.get(key) ?? []), f]);
    }
  }
  return out;
}

/**
 * The keys that are not stored exactly once in the cluster, on their HRW owner among the running
 * targets and its HRW mountpath (under the primary's current Smap), each with where it was found.
 */
export async function misplacedObjects(c: Cluster, bucket: string, keys: Iterable<string>): Promise<string[]> {
  const smap = await c.smap();
  const live = c.targets.filter((n) => n.pid !== undefined);
  const disk = live.map((n) => objectsOnDisk(n, bucket));
  const out: string[] = [];
  for (const key of keys) {
    const want = hrwPlacement(smap, live, bucket, key).file;
    const copies = disk.flatMap((d) => d.get(key) ?? []);
    if (copies.length !== 1 || copies[0] !== want) out.push(`${key}: want ${want}, found ${JSON.stringify(copies)}`);
  }
  return out;
}

/** The HRW winner among `cands` (value, digest) for `uname`: AIStore's formula, ties to the later (Go's `>=`). */
export function hrwWinner<T>(cands: readonly (readonly [T, bigint])[], uname: string): T {
  const h = digestOf(uname);
  let best: T | undefined;
  let bw = -1n;
  for (const [v, d] of cands) {
    const w = xoshiroHash(d ^ h);
    if (w >= bw) {
      bw = w;
      best = v;
    }
  }
  if (best === undefined) throw new Error(`no candidates for ${uname}`);
  return best;
}

/** The HRW mountpath of `uname` among `mountpaths` (digest: XXH64 of the path, as a target computes it). */
export function hrwMountpath(mountpaths: readonly string[], uname: string): string {
  return hrwWinner(
    mountpaths.map((m) => [m, digestOf(m)] as const),
    uname,
  );
}

/** The daemon id the Smap gives the target listening on `node.port`; undefined when it is not in the Smap. */
export function targetIdOf(smap: SmapView, node: AisNode): string | undefined {
  return Object.values(smap.tmap).find((s) => Number(s.public_net.daemon_port) === node.port)?.daemon_id;
}

export interface Placement {
  owner: AisNode;
  /** The owner's daemon id. */
  id: string;
  mountpath: string;
  /** The object's file: `<mountpath>/@ais/<bucket>/%ob/<key>` (for keys stored under their own name). */
  file: string;
}

/**
 * Where bucket/key (an ais:// bucket) belongs under `smap`: the HRW owner among `targets` (by the Smap's
 * exact id_digest) and the HRW mountpath among the owner's.
 */
export function hrwPlacement(smap: SmapView, targets: readonly AisNode[], bucket: string, key: string): Placement {
  const uname = objectUname('ais', bucket, key);
  const cands = targets.map((n) => {
    const id = targetIdOf(smap, n);
    if (id === undefined) throw new Error(`target on port ${n.port} not in the Smap`);
    return [{ node: n, id }, BigInt(smap.tmap[id]!.id_digest)] as const;
  });
  const { node, id } = hrwWinner(cands, uname);
  const mountpath = hrwMountpath(node.dirs.mountpaths, uname);
  return { owner: node, id, mountpath, file: path.join(mountpath, '@ais', bucket, '%ob', ...key.split('/')) };
}

/** For `test.afterEach.always`: a failed test logs the tail of every node's log when TAIS_TEST_LOGS is set. */
export function logNodesOnFailure(t: ExecutionContext, c: Cluster | undefined, chars = 3000): void {
  if (t.passed || !process.env.TAIS_TEST_LOGS || !c) return;
  for (const n of [...c.proxies, ...c.targets]) t.log(`--- ${n.url}\n${n.log().slice(-chars)}`);
}

/** A cluster for one test file: an S3 client on its gateway, a work dir, and `ais` run there against it. */
export interface ClusterRig {
  c: Cluster;
  s3: S3Client;
  work: string;
  ais: (...args: string[]) => Promise<ScriptRun>;
}

const AIS_CLI = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

/** Starts a proxy and `targets` targets and creates the ais:// `buckets` with `ais bucket create`. */
export async function startClusterRig(name: string, targets: number, buckets: readonly string[]): Promise<ClusterRig> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `tais-${name}-`));
  const c = await startCluster({ name, targets });
  const ais = (...args: string[]): Promise<ScriptRun> => runScript(AIS_CLI, args, { cwd: work, env: { AIS_ENDPOINT: c.primary.url } });
  const rig = { c, s3: s3Client(c.primary.url), work, ais };
  try {
    for (const b of buckets) {
      const r = await ais('bucket', 'create', `ais://${b}`);
      if (r.code !== 0) throw new Error(r.stderr);
    }
  } catch (err) {
    await stopClusterRig(rig);
    throw err;
  }
  return rig;
}

export async function stopClusterRig(rig: ClusterRig | undefined): Promise<void> {
  if (!rig) return;
  rig.s3.destroy();
  await rig.c.stop();
  fs.rmSync(rig.work, { recursive: true, force: true });
}

/** Waits until the RMD says the newest rebalance finished on every target; returns the status. */
export async function waitRebalanced(c: Cluster, timeoutMs = 60_000): Promise<ClusterRebStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await request(c.primary.url, { method: 'GET', path: '/v1/cluster?what=rebalance' });
    const st = JSON.parse(r.body.toString()) as ClusterRebStatus;
    const all = Object.values(st.targets);
    // A target restarted after the rebalance ended has no counters of it (they live in memory): the RMD's done list counts.
    const finished = (x: (typeof all)[number]): boolean => (x.rebalance?.id === st.rmd.id && x.rebalance.state === 'finished') || (x.rebalance?.state === 'idle' && st.rmd.done.includes(x.daemon_id));
    if (!st.running && all.every(finished)) return st;
    if (Date.now() > deadline) throw new Error(`rebalance not finished: ${JSON.stringify(st)}`);
    await sleep(100);
  }
}
