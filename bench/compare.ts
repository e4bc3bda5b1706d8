// tais against the machine and a peer, in one run (issue 7):
//   npm run bench:compare [-- --seconds 8 --conc 1,8,32 --only 'GET 4KiB' --repeat 2 --wait-idle 60 --profile --out FILE.json]
// Starts nginx from the distribution (sendfile, 2 workers, WebDAV PUT) and a tais node on loopback,
// with temp dirs on the same file system; writes the same objects (same names, sizes and bytes: one
// aisloader seed) to both; runs aisloader against both for GET and PUT of 4 KiB, 1 MiB and 64 MiB at
// each concurrency and range GETs of 64 KiB out of 1 GiB objects; measures one core's MD5 and XXH64
// and the disk's direct-I/O throughput; samples the tais node's RSS; prints ratios tais / nginx and
// tais / ceiling next to the goals of issue 7. With --profile it then runs a GET 4 KiB and a PUT
// 64 MiB case on a node started with --cpu-prof and summarizes where the time goes.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx, startTais, tempDir, cleanupAll, NginxMissing, RssSampler, CpuMeter, withChildren, systemBusySeconds, syncDisks, type Server } from './lib/servers';
import { aisloader, type LoadArgs } from './lib/load';
import { hashCeilings, diskCeilings, diskWriteNow, type HashCeilings, type DiskCeilings } from './lib/ceilings';
import { summarizeProfile, formatProfile } from './lib/cpuprof';
import { objectName } from '../src/loader/payload';
import { alignTable, fmtBytes, fmtRate } from '../src/loader/report';
import type { RunResult } from '../src/loader/run';

const SEED = 20_251_125;
const BUCKET = 'bench';
const BUCKET_XX = 'benchxx';
const XX_PROPS = '{"checksum":{"md5_etag":false}}';
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const RANGE_OFF = 512 * MiB + 12_345; // an unaligned offset in the middle of the object
const RANGE_LEN = 64 * KiB;

interface Dataset {
  id: string;
  size: number;
  count: number;
  subdir: string;
}

const DATASETS: Dataset[] = [
  { id: '4KiB', size: 4 * KiB, count: 2000, subdir: 'g4k' },
  { id: '1MiB', size: MiB, count: 256, subdir: 'g1m' },
  { id: '64MiB', size: 64 * MiB, count: 12, subdir: 'g64m' },
  { id: '1GiB', size: GiB, count: 2, subdir: 'g1g' },
];

/** PUT-XX: a bucket without MD5 ETags; PUT-XX-NOSYNC: the same with tais's io.fsync_put off for the run, like nginx's DAV PUT (and AIStore without Fsync-PUT). */
type Kind = 'GET' | 'RANGE' | 'PUT' | 'PUT-XX' | 'PUT-XX-NOSYNC';

interface Case {
  id: string;
  kind: Kind;
  ds: Dataset;
  conc: number;
  /** aisloader threads (2 where one loader thread caps the peer: see loaderThreads). */
  threads: number;
  /** ops/s for small objects and ranges, MiB/s otherwise. */
  unit: 'ops/s' | 'MiB/s';
  goal?: { text: string; vs: 'nginx' | 'ceiling'; ratio: number; onlyConc?: number };
  ceiling?: (c: Ceilings) => { value: number; what: string } | undefined;
}

interface Ceilings {
  hash: HashCeilings;
  disk: DiskCeilings;
}

interface Row {
  c: Case;
  nginx?: RunResult;
  tais?: RunResult;
  /** CPU cores the server used during its (best) run; for tais also its main (uWS) thread alone. */
  cpu: { nginx?: number; tais?: number; taisMain?: number };
  /** CPU (cores) used by anything but the server and the loader during the runs kept: other load on the box. */
  other: { nginx?: number; tais?: number };
  rssPeak: number;
  /** PUT rows: the disk's durable write rate (MiB/s) probed right before the tais run kept. */
  diskNow?: number;
}

function buildCases(concs: number[]): Case[] {
  const cases: Case[] = [];
  const add = (c: Omit<Case, 'threads'>): void => {
    const threads = loaderThreads(c);
    cases.push({ ...c, threads, id: threads > 1 ? `${c.id} ${threads}thr` : c.id });
  };
  const ds = (id: string): Dataset => DATASETS.find((d) => d.id === id)!;
  const xxCeil = (c: Ceilings) => ({ value: c.hash.xxhash, what: 'XXH64 1 core' });
  for (const c of concs) add({ id: `GET 4KiB c=${c}`, kind: 'GET', ds: ds('4KiB'), conc: c, unit: 'ops/s', goal: { text: '≥0.7× nginx', vs: 'nginx', ratio: 0.7 } });
  for (const c of concs) add({ id: `GET 1MiB c=${c}`, kind: 'GET', ds: ds('1MiB'), conc: c, unit: 'MiB/s', goal: { text: '≥0.8× nginx', vs: 'nginx', ratio: 0.8 }, ceiling: xxCeil });
  for (const c of concs) add({ id: `GET 64MiB c=${c}`, kind: 'GET', ds: ds('64MiB'), conc: c, unit: 'MiB/s', goal: { text: '≥0.9× nginx', vs: 'nginx', ratio: 0.9 }, ceiling: xxCeil });
  for (const c of concs) add({ id: `RANGE 64KiB/1GiB c=${c}`, kind: 'RANGE', ds: ds('1GiB'), conc: c, unit: 'ops/s', goal: { text: '≥0.7× nginx', vs: 'nginx', ratio: 0.7 } });
  for (const c of concs) add({ id: `PUT 4KiB c=${c}`, kind: 'PUT', ds: ds('4KiB'), conc: c, unit: 'ops/s' });
  for (const c of concs) {
    add({
      id: `PUT 1MiB c=${c}`,
      kind: 'PUT',
      ds: ds('1MiB'),
      conc: c,
      unit: 'MiB/s',
      ceiling: (k) => (k.hash.md5 < k.disk.write ? { value: k.hash.md5, what: 'MD5 1 core' } : { value: k.disk.write, what: 'disk write' }),
    });
  }
  for (const c of concs) {
    add({
      id: `PUT 64MiB c=${c}`,
      kind: 'PUT',
      ds: ds('64MiB'),
      conc: c,
      unit: 'MiB/s',
      goal: { text: '≥0.8× MD5 core (c=1)', vs: 'ceiling', ratio: 0.8, onlyConc: 1 },
      ceiling: (k) => ({ value: k.hash.md5, what: 'MD5 1 core' }),
    });
  }
  for (const c of concs) {
    add({
      id: `PUT 64MiB xxhash-only c=${c}`,
      kind: 'PUT-XX',
      ds: ds('64MiB'),
      conc: c,
      unit: 'MiB/s',
      goal: { text: '≥0.8× nginx DAV', vs: 'nginx', ratio: 0.8 },
      ceiling: (k) => (k.hash.xxhash < k.disk.write ? { value: k.hash.xxhash, what: 'XXH64 1 core' } : { value: k.disk.write, what: 'disk write' }),
    });
  }
  // Like for like with nginx, whose DAV PUT does not fsync: one connection, the node's fsync off.
  add({
    id: 'PUT 64MiB xxhash-only no-fsync c=1',
    kind: 'PUT-XX-NOSYNC',
    ds: ds('64MiB'),
    conc: 1,
    unit: 'MiB/s',
    goal: { text: '≥0.8× nginx DAV', vs: 'nginx', ratio: 0.8 },
    ceiling: (k) => ({ value: k.disk.write, what: 'disk write' }),
  });
  return cases;
}

/**
 * On loopback the receiver makes the one copy of a GET's bytes out of memory: from nginx (sendfile)
 * that copy reads page-cache pages cold and costs aisloader about 3× the CPU per byte it costs when
 * reading from tais (whose own read just pulled the bytes through the shared cache). One loader thread
 * then caps nginx at 1.5–2.7 GB/s; whole-object GETs of 1 MiB and more at c ≥ 8 use 2 loader threads,
 * for both servers alike.
 */
function loaderThreads(c: Omit<Case, 'threads'>): number {
  return c.kind === 'GET' && c.ds.size >= MiB && c.conc >= 8 ? 2 : 1;
}

function metric(c: Case, r: RunResult | undefined): number | undefined {
  if (!r) return undefined;
  const s = c.kind.startsWith('PUT') ? r.put : r.get;
  return c.unit === 'ops/s' ? s.opsPerSec : s.mibPerSec;
}

function listFile(dir: string, ds: Dataset): string {
  return path.join(dir, `${ds.subdir}.list`);
}

/** MD5 of an object fetched over HTTP (to check that both servers hold the same bytes). */
function md5Url(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`GET ${url}: ${res.statusCode}`));
        }
        const h = createHash('md5');
        res.on('data', (d: Buffer) => h.update(d));
        res.on('end', () => resolve(h.digest('hex')));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toTimeString().slice(0, 8)} ${msg}\n`);
}

async function prepare(servers: Server[], ds: Dataset, dir: string): Promise<void> {
  for (const s of servers) {
    const t0 = Date.now();
    // uWS (20.30) resets a request whose Content-Length has 10 digits: objects of 10^9 bytes and more
    // go chunked (to both servers alike; only the GETs are measured).
    const chunked = ds.size >= 1e9;
    const r = await aisloader({ endpoint: s.url, bucket: BUCKET, pctput: 100, maxputs: ds.count, minsize: ds.size, maxsize: ds.size, subdir: ds.subdir, seed: SEED, numworkers: Math.min(8, ds.count), chunked });
    if (r.put.count !== ds.count || r.put.errors) throw new Error(`preparing ${ds.id} on ${s.name}: ${r.put.count}/${ds.count} written, errors ${JSON.stringify(r.errors)}`);
    log(`  ${s.name}: ${ds.count} × ${ds.id} written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const names = Array.from({ length: ds.count }, (_, i) => objectName(ds.subdir, SEED, i));
  fs.writeFileSync(listFile(dir, ds), `${names.join('\n')}\n`);
  const sums = await Promise.all(servers.map((s) => md5Url(`${s.url}/s3/${BUCKET}/${names[0]}`)));
  if (new Set(sums).size !== 1) throw new Error(`${ds.id}: servers hold different bytes for ${names[0]}: ${sums.join(' ')}`);
  syncDisks();
}

async function runCase(c: Case, server: Server, dir: string, seconds: number, k: number): Promise<RunResult> {
  const base: LoadArgs = { endpoint: server.url, bucket: BUCKET, numworkers: c.conc, threads: c.threads, duration: `${seconds}s` };
  let args: LoadArgs;
  switch (c.kind) {
    case 'GET':
      args = { ...base, pctput: 0, filelist: listFile(dir, c.ds) };
      break;
    case 'RANGE':
      args = { ...base, pctput: 0, filelist: listFile(dir, c.ds), readoff: RANGE_OFF, readlen: RANGE_LEN };
      break;
    case 'PUT':
    case 'PUT-XX':
    case 'PUT-XX-NOSYNC':
      args = { ...base, pctput: 100, minsize: c.ds.size, maxsize: c.ds.size, cleanup: true, subdir: `p${k}`, seed: SEED + k };
      if (c.kind !== 'PUT' && server.name === 'tais') Object.assign(args, { bucket: BUCKET_XX, bprops: XX_PROPS });
      break;
  }
  const nosync = c.kind === 'PUT-XX-NOSYNC' && server.name === 'tais';
  if (nosync) await setConfig(server, 'io.fsync_put', 'false');
  const r = await aisloader(args).finally(() => (nosync ? setConfig(server, 'io.fsync_put', 'true') : undefined));
  if (c.kind.startsWith('PUT')) syncDisks();
  return r;
}

async function setConfig(server: Server, key: string, value: string): Promise<void> {
  const r = await fetch(`${server.url}/v1/cluster/set-config?${key}=${value}`, { method: 'PUT' });
  if (r.status !== 200) throw new Error(`set ${key}=${value} on ${server.name}: ${r.status} ${await r.text()}`);
}

function ratioText(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(2);
}

function printTable(rows: Row[], ceil: Ceilings | undefined): string[] {
  const out: string[][] = [['case', 'unit', 'nginx', 'tais', 'tais/nginx', 'ceiling', 'tais/ceil', 'goal', 'met', 'p99 nginx', 'p99 tais', 'CPU nginx', 'CPU tais (main)', 'loader', 'other', 'RSS tais']];
  for (const r of rows) {
    const n = metric(r.c, r.nginx);
    const t = metric(r.c, r.tais);
    const rowCeil = ceil && r.diskNow !== undefined ? { ...ceil, disk: { ...ceil.disk, write: r.diskNow } } : ceil;
    const cl = rowCeil && r.c.ceiling ? r.c.ceiling(rowCeil) : undefined;
    const vsN = n && t !== undefined ? t / n : undefined;
    const vsC = cl && t !== undefined ? t / cl.value : undefined;
    let met = '';
    const g = r.c.goal;
    if (g && (g.onlyConc === undefined || g.onlyConc === r.c.conc)) {
      const v = g.vs === 'nginx' ? vsN : vsC;
      met = v === undefined ? '?' : v >= g.ratio ? 'yes' : 'NO';
    }
    const st = (x: RunResult | undefined) => (x ? (r.c.kind.startsWith('PUT') ? x.put : x.get) : undefined);
    const errs = (st(r.nginx)?.errors ?? 0) + (st(r.tais)?.errors ?? 0);
    out.push([
      r.c.id + (errs ? ` (${errs} errors!)` : ''),
      r.c.unit,
      n === undefined ? '-' : fmtRate(n),
      t === undefined ? '-' : fmtRate(t),
      ratioText(vsN),
      cl ? `${fmtRate(cl.value)} ${cl.what}` : '-',
      ratioText(vsC),
      g && (g.onlyConc === undefined || g.onlyConc === r.c.conc) ? g.text : '',
      met,
      lat(st(r.nginx)?.latencyMs.p99),
      lat(st(r.tais)?.latencyMs.p99),
      r.cpu.nginx === undefined ? '-' : r.cpu.nginx.toFixed(2),
      r.cpu.tais === undefined ? '-' : `${r.cpu.tais.toFixed(2)} (${(r.cpu.taisMain ?? 0).toFixed(2)})`,
      [r.nginx, r.tais].map((x) => (x ? x.loaderCpuCores.toFixed(2) : '-')).join('/'),
      [r.other.nginx, r.other.tais].map((x) => (x === undefined ? '-' : x.toFixed(2))).join('/'),
      r.rssPeak ? fmtBytes(r.rssPeak) : '-',
    ]);
  }
  return alignTable(out, 1);
}

function lat(ms: number | undefined): string {
  if (ms === undefined || ms <= 0) return '-';
  return ms < 1 ? `${(ms * 1000).toFixed(0)}µs` : ms < 100 ? `${ms.toFixed(1)}ms` : `${ms.toFixed(0)}ms`;
}

/** On a shared box: waits (up to `maxSec`) until the machine's busy CPU is below 0.25 cores for 2 s. */
async function untilIdle(maxSec: number): Promise<void> {
  const until = Date.now() + maxSec * 1000;
  let waited = false;
  for (;;) {
    const b0 = systemBusySeconds();
    await new Promise((r) => setTimeout(r, 2000));
    const busy = (systemBusySeconds() - b0) / 2;
    if (busy < 0.25) break;
    if (Date.now() > until) {
      log(`  machine still busy (${busy.toFixed(2)} cores) after ${maxSec} s: running anyway`);
      return;
    }
    if (!waited) log(`  machine busy (${busy.toFixed(2)} cores of other load): waiting up to ${maxSec} s`);
    waited = true;
  }
  if (waited) log('  machine idle again');
}

async function profileRuns(dir: string, seconds: number): Promise<string[]> {
  const lines: string[] = [];
  const scenarios: { label: string; ds: Dataset; kind: Kind; conc: number }[] = [
    { label: 'GET 4KiB c=32', ds: DATASETS[0], kind: 'GET', conc: 32 },
    { label: 'PUT 64MiB c=1 (MD5 ETag)', ds: DATASETS[2], kind: 'PUT', conc: 1 },
  ];
  for (const sc of scenarios) {
    const pdir = path.join(dir, `prof-${sc.kind}`);
    const ndir = path.join(dir, `tais-prof-${sc.kind}`);
    fs.mkdirSync(pdir, { recursive: true });
    if (sc.kind === 'GET') {
      // Write the objects on an unprofiled node, then profile a fresh node on the same dirs: only the GETs.
      const prep = await startTais(ndir);
      await prepare([prep], sc.ds, dir);
      await prep.stop();
    }
    const node = await startTais(ndir, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', pdir] });
    log(`profile: ${sc.label} on a node with --cpu-prof (pid ${node.pid})`);
    const c: Case = { id: sc.label, kind: sc.kind, ds: sc.ds, conc: sc.conc, threads: 1, unit: 'MiB/s' };
    const r = await runCase(c, node, dir, seconds, 900);
    const s = sc.kind === 'GET' ? r.get : r.put;
    await node.stop();
    lines.push('', `## ${sc.label}: ${fmtRate(s.opsPerSec)} ops/s, ${fmtRate(s.mibPerSec)} MiB/s under the profiler`);
    const files = fs.readdirSync(pdir).filter((f) => f.endsWith('.cpuprofile'));
    // The main (uWS) thread first, then the pool threads, busiest first.
    const sums = files
      .map((f) => summarizeProfile(path.join(pdir, f)))
      .sort((a, b) => (a.threadId === 0 ? -1 : b.threadId === 0 ? 1 : b.busyPct - a.busyPct));
    if (sums.length === 0) lines.push('  (no profile written: did the node exit cleanly?)');
    for (const p of sums.slice(0, 3)) lines.push(...formatProfile(p, p.threadId === 0 ? 'main (uWS) thread' : `pool thread ${p.threadId}`));
    if (sums.length > 3) lines.push(`  (${sums.length - 3} more thread profiles)`);
  }
  return lines;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      conc: { type: 'string', default: '1,8,32' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      'profile-only': { type: 'boolean', default: false },
      out: { type: 'string' },
      'wait-idle': { type: 'string', default: '0' },
      // A JSON subset of the cluster config for the tais node, e.g. '{"io":{"sendfile":true}}'.
      config: { type: 'string' },
    },
  });
  const taisConfig = values.config ? (JSON.parse(values.config) as Record<string, unknown>) : undefined;
  const seconds = Number(values.seconds);
  const repeat = Math.max(1, Number(values.repeat));
  const waitIdle = Number(values['wait-idle']);
  const concs = values.conc.split(',').map(Number);
  const only = values.only ? new RegExp(values.only, 'i') : undefined;
  const cases = values['profile-only'] ? [] : buildCases(concs).filter((c) => !only || only.test(c.id));
  const started = Date.now();

  const dir = tempDir('compare');
  const header = [
    `# tais vs nginx vs the machine — ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    `machine: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, ${fmtBytes(os.totalmem())} RAM, ${os.type()} ${os.release()}; Node ${process.version}`,
    `each run ${seconds} s, aisloader (S3 API, keep-alive, 1 thread; "2thr": 2 threads); ${repeat > 1 ? `best of ${repeat} per server; ` : ''}temp dirs in ${os.tmpdir()}`,
  ];
  const lines: string[] = [];
  if (cases.length) {
    let ngx: (Server & { www: string }) | undefined;
    try {
      ngx = await startNginx(path.join(dir, 'nginx'));
      fs.mkdirSync(path.join(ngx.www, 's3', BUCKET), { recursive: true });
    } catch (err) {
      if (!(err instanceof NginxMissing)) throw err;
      log(`${err.message}\n  continuing without the peer: tais figures and ratios to the ceilings only`);
      header.push('nginx: not installed — no peer figures in this run');
    }
    const tais = await startTais(path.join(dir, 'tais'), { config: taisConfig });
    if (taisConfig) header.push(`tais config: ${values.config}`);
    const servers: Server[] = ngx ? [ngx, tais] : [tais];
    log(`${ngx ? `nginx ${ngx.url} (pid ${ngx.pid}), ` : ''}tais ${tais.url} (pid ${tais.pid}); temp ${dir}`);
    const rss = new RssSampler(tais.pid);
    const taisCpu = new CpuMeter(() => [tais.pid]);
    const ngxCpu = new CpuMeter(() => (ngx ? withChildren(ngx.pid) : []));

    log('ceilings: MD5 and XXH64 on one core, disk direct I/O');
    const hash = hashCeilings();
    const disk = await diskCeilings(dir);
    const ceil: Ceilings = { hash, disk };
    log(`  MD5 ${fmtRate(hash.md5)} MiB/s, XXH64 ${fmtRate(hash.xxhash)} MiB/s; disk ${disk.tool}: write ${fmtRate(disk.write)} MiB/s, read ${fmtRate(disk.read)} MiB/s`);

    const needed = new Set(cases.filter((c) => c.kind === 'GET' || c.kind === 'RANGE').map((c) => c.ds));
    for (const ds of DATASETS.filter((d) => needed.has(d))) {
      log(`dataset ${ds.count} × ${ds.id} (seed ${SEED}) on both servers`);
      await prepare(servers, ds, dir);
    }
    const rssAfterPrep = rss.mark();
    const rows: Row[] = [];
    for (const [k, c] of cases.entries()) {
      const row: Row = { c, cpu: {}, other: {}, rssPeak: 0 };
      if (waitIdle > 0) await untilIdle(waitIdle);
      rss.mark();
      // Alternate who goes first, so that drift (page cache, other load) does not favour one side.
      const order: Server[] = k % 2 === 0 ? servers : [...servers].reverse();
      for (let rep = 0; rep < repeat; rep++) {
        for (const s of order) {
          const meter = s === ngx ? ngxCpu : taisCpu;
          meter.start();
          const sys0 = systemBusySeconds();
          const diskNow = s === tais && c.kind.startsWith('PUT') ? diskWriteNow(dir) : undefined;
          const t0 = Date.now();
          const r = await runCase(c, s, dir, seconds, k * 10 + rep);
          const used = meter.stop();
          const sysCores = (systemBusySeconds() - sys0) / ((Date.now() - t0) / 1000);
          const key = s === ngx ? 'nginx' : 'tais';
          if (!row[key] || (metric(c, r) ?? 0) > (metric(c, row[key]) ?? 0)) {
            row[key] = r;
            row.cpu[key] = used.cores;
            row.other[key] = Math.max(0, sysCores - used.cores - r.loaderCpuCores);
            if (key === 'tais') row.cpu.taisMain = used.mainThread;
            if (key === 'tais') row.diskNow = diskNow;
          }
        }
      }
      row.rssPeak = rss.mark();
      rows.push(row);
      const n = metric(c, row.nginx) ?? 0;
      const t = metric(c, row.tais) ?? 0;
      log(`${c.id}: ${ngx ? `nginx ${fmtRate(n)} ${c.unit}, ` : ''}tais ${fmtRate(t)} ${c.unit}${ngx ? ` (${(t / n).toFixed(2)}×)` : ''}${row.diskNow ? `; disk ${fmtRate(row.diskNow)} MiB/s just before` : ''}`);
    }
    rss.stop();
    lines.push(...printTable(rows, ceil));
    lines.push(
      '',
      `ceilings (this run): MD5 (node:crypto/OpenSSL) ${fmtRate(hash.md5)} MiB/s and XXH64 (addon) ${fmtRate(hash.xxhash)} MiB/s on one core, 1 MiB buffers; ` +
        `disk ${disk.tool}: write ${fmtRate(disk.write)} MiB/s, read ${fmtRate(disk.read)} MiB/s`,
      'CPU: cores used by the server process(es) during the run (of 2 on this box); tais (main) = its uWS thread alone; loader = aisloader\'s own CPU (nginx run/tais run);',
      '  other = the rest of the machine\'s busy CPU (other load on a shared box: above ~0.2 the figure is suspect). p99: request latency at the loader.',
      `tais RSS: ${fmtBytes(rss.first)} at start, ${fmtBytes(rssAfterPrep)} peak while writing the datasets, ${fmtBytes(rss.peakAll)} peak overall, ${fmtBytes(rss.last)} at the end`,
      'nginx: GET = sendfile from the page cache, no checksum; PUT = WebDAV (body to a temp file, rename), no fsync, no hashing.',
      'tais: GET verifies XXH64 as it streams (validate_warm_get); PUT hashes XXH64 (+ MD5 for the ETag unless md5_etag=false), writes O_DIRECT and fsyncs before the rename',
      '  (flushing behind the writes as the body arrives); "no-fsync" = io.fsync_put off for that run, as nginx. disk write = direct writes + fsync: the durable ceiling;',
      '  in PUT rows it is probed (256 MiB) right before the tais run shown, since it swings from minute to minute on a VM.',
    );
    if (values.out) fs.writeFileSync(values.out, JSON.stringify({ header, ceilings: ceil, rows: rows.map((r) => ({ id: r.c.id, unit: r.c.unit, nginx: r.nginx, tais: r.tais, rssPeak: r.rssPeak, diskNow: r.diskNow })) }, null, 2));
    await tais.stop();
    await ngx?.stop();
  }
  if (values.profile || values['profile-only']) lines.push(...(await profileRuns(dir, seconds)));
  console.log([...header, '', ...lines, '', `total time ${((Date.now() - started) / 1000).toFixed(0)} s`].join('\n'));
}

main()
  .catch((err: Error) => {
    process.stderr.write(err instanceof NginxMissing ? `bench:compare: ${err.message}\n` : `bench:compare: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
