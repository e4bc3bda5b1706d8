// The cluster against a single target on the same machine (issue 5's bench):
//   npm run bench:cluster [-- --seconds 8 --conc 1,16 --only 'GET 64MiB' --out FILE.json]
// Starts the playground (`npm start`'s script: 1 proxy + 3 targets, 2 mountpaths each) and a single
// target (2 mountpaths, its own gateway), all on loopback with temp dirs on one file system, and runs
// aisloader through the S3 API for GET and PUT of 1 MiB and 64 MiB objects against
//   - the single target;
//   - the playground's proxy in forward mode (the default: the proxy streams each request to the
//     owner target and the answer back);
//   - the playground's proxy in redirect mode (proxy.s3_redirect=true: 307 to the owner, which
//     aisloader follows, re-sending a PUT's body).
// On one machine the cluster cannot be faster than one target (same cores, same disk): what it shows is
// what each request mode costs on top of the data path.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startTais, tempDir, cleanupAll, onCleanup, freePort, syncDisks, sleep, withChildren, CpuMeter, systemBusySeconds, ROOT, type Server } from './lib/servers';
import { aisloader, type LoadArgs } from './lib/load';
import { objectName } from '../src/loader/payload';
import { alignTable } from '../src/loader/report';
import type { RunResult } from '../src/loader/run';

const SEED = 20_251_204;
const BUCKET = 'benchc';
const MiB = 1024 * 1024;
const PLAYGROUND = path.join(ROOT, 'dist', 'src', 'cmd', 'playground.js');

interface Dataset {
  id: string;
  size: number;
  count: number;
  subdir: string;
}

const DATASETS: Dataset[] = [
  // What a dataloader reads sample by sample (an image, a tokenized record).
  { id: '128KiB', size: 128 * 1024, count: 1000, subdir: 'g128k' },
  { id: '1MiB', size: MiB, count: 256, subdir: 'g1m' },
  { id: '64MiB', size: 64 * MiB, count: 12, subdir: 'g64m' },
];

type Mode = 'single' | 'forward' | 'redirect';

interface Row {
  id: string;
  results: Partial<Record<Mode, RunResult>>;
  /** CPU (cores) used by anything but the servers and the loader during each run: foreign load on the box. */
  other: Partial<Record<Mode, number>>;
}

function log(msg: string): void {
  process.stderr.write(`${new Date().toTimeString().slice(0, 8)} ${msg}\n`);
}

/** Four free consecutive ports (the playground takes its base port and the next ones). */
async function freeBase(n: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ok = await Promise.all(Array.from({ length: n }, (_, i) => portFree(base + i)));
    if (ok.every(Boolean)) return base;
  }
  return freePort();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', timeout: 500 }, (r) => {
      r.resume();
      resolve(false);
    });
    req.on('error', () => resolve(true));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
  });
}

async function startPlayground(dir: string): Promise<Server & { base: number }> {
  const base = await freeBase(4);
  const proc = spawn(process.execPath, [PLAYGROUND], {
    env: { ...process.env, TAIS_DATA: dir, TAIS_PORT: String(base), TAIS_PROXIES: '1', TAIS_TARGETS: '3', TAIS_MOUNTPATHS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-50_000)));
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  onCleanup(stop);
  const deadline = Date.now() + 60_000;
  while (!out.includes('playground ready')) {
    if (proc.exitCode !== null) throw new Error(`playground exited (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`playground not ready after 60 s:\n${out}`);
    await sleep(200);
  }
  return { name: 'cluster', url: `http://127.0.0.1:${base}`, port: base, pid: proc.pid!, stop, base };
}

function call(url: string, method: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function setRedirect(proxy: Server, on: boolean): Promise<void> {
  const r = await call(proxy.url, 'PUT', `/v1/cluster/set-config?proxy.s3_redirect=${on}`);
  if (r.status !== 200) throw new Error(`set proxy.s3_redirect=${on}: ${r.status} ${r.body}`);
}

async function prepare(s: Server, ds: Dataset, dir: string, tag: string): Promise<string> {
  const t0 = Date.now();
  const r = await aisloader({ endpoint: s.url, bucket: BUCKET, pctput: 100, maxputs: ds.count, minsize: ds.size, maxsize: ds.size, subdir: ds.subdir, seed: SEED, numworkers: Math.min(8, ds.count) });
  if (r.put.count !== ds.count || r.put.errors) throw new Error(`preparing ${ds.id} on ${tag}: ${r.put.count}/${ds.count} written, errors ${JSON.stringify(r.errors)}`);
  log(`  ${tag}: ${ds.count} × ${ds.id} written in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const file = path.join(dir, `${tag}-${ds.subdir}.list`);
  fs.writeFileSync(file, `${Array.from({ length: ds.count }, (_, i) => objectName(ds.subdir, SEED, i)).join('\n')}\n`);
  syncDisks();
  return file;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '8' },
      conc: { type: 'string', default: '1,16' },
      only: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const concs = values.conc.split(',').map(Number);
  const only = values.only ? new RegExp(values.only) : undefined;
  const t0 = Date.now();
  log(`machine: ${os.cpus()[0]?.model ?? '?'} × ${os.availableParallelism()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}`);

  const single = await startTais(tempDir('single'), { mountpaths: 2 });
  const cluster = await startPlayground(tempDir('playground'));
  log(`single target ${single.url}; playground proxy ${cluster.url} (targets on the next 3 ports)`);

  const lists: Record<string, Record<'single' | 'cluster', string>> = {};
  const dir = tempDir('bench-lists');
  for (const ds of DATASETS) {
    if (only && !concs.some((c) => only.test(`GET ${ds.id} c=${c}`))) continue;
    log(`dataset ${ds.count} × ${ds.id}`);
    lists[ds.id] = { single: await prepare(single, ds, dir, 'single'), cluster: await prepare(cluster, ds, dir, 'cluster') };
  }

  const rows: Row[] = [];
  let k = 0;
  for (const kind of ['GET', 'PUT'] as const) {
    for (const ds of DATASETS) {
      for (const c of concs) {
        const id = `${kind} ${ds.id} c=${c}`;
        if (only && !only.test(id)) continue;
        const row: Row = { id, results: {}, other: {} };
        for (const mode of ['single', 'forward', 'redirect'] as Mode[]) {
          const server = mode === 'single' ? single : cluster;
          if (mode !== 'single') await setRedirect(cluster, mode === 'redirect');
          // Two loader threads where one would cap large GETs (see bench/README.md, loader notes).
          const threads = kind === 'GET' && c >= 8 ? 2 : 1;
          const base: LoadArgs = { endpoint: server.url, bucket: BUCKET, numworkers: c, threads, duration: `${seconds}s` };
          const args: LoadArgs =
            kind === 'GET'
              ? { ...base, pctput: 0, filelist: lists[ds.id]![mode === 'single' ? 'single' : 'cluster'] }
              : // (-cleanup deletes through the endpoint, which in redirect mode answers 307: those stay until the end.)
                { ...base, pctput: 100, minsize: ds.size, maxsize: ds.size, subdir: `p${++k}`, seed: SEED + k, cleanup: mode !== 'redirect' };
          const meter = new CpuMeter(() => withChildren(server.pid));
          const busy0 = systemBusySeconds();
          const t1 = Date.now();
          meter.start();
          const r = await aisloader(args);
          const serverCores = meter.stop().cores;
          const busyCores = (systemBusySeconds() - busy0) / ((Date.now() - t1) / 1000);
          row.other[mode] = Math.max(0, busyCores - serverCores - r.loaderCpuCores);
          const s = kind === 'GET' ? r.get : r.put;
          if (s.errors) throw new Error(`${id} ${mode}: ${s.errors} errors: ${JSON.stringify(r.errors)}`);
          row.results[mode] = r;
          log(`${id} ${mode}: ${s.mibPerSec.toFixed(1)} MiB/s, p99 ${s.latencyMs.p99.toFixed(1)} ms`);
          if (kind === 'PUT') syncDisks();
        }
        rows.push(row);
      }
    }
  }
  await setRedirect(cluster, false);

  const table: string[][] = [['case', 'single MiB/s', 'forward MiB/s', 'fwd/single', 'redirect MiB/s', 'redir/single', 'p99 single', 'p99 forward', 'p99 redirect', 'other (s/f/r)']];
  for (const r of rows) {
    const kind = r.id.startsWith('GET') ? 'get' : 'put';
    const v = (m: Mode): number | undefined => r.results[m]?.[kind].mibPerSec;
    const p = (m: Mode): string => {
      const x = r.results[m]?.[kind].latencyMs.p99;
      return x === undefined ? '-' : x >= 10 ? `${x.toFixed(0)}ms` : `${x.toFixed(1)}ms`;
    };
    const ratio = (m: Mode): string => (v(m) && v('single') ? (v(m)! / v('single')!).toFixed(2) : '-');
    const f = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1));
    const o = (['single', 'forward', 'redirect'] as Mode[]).map((m) => r.other[m]?.toFixed(2) ?? '-').join('/');
    table.push([r.id, f(v('single')), f(v('forward')), ratio('forward'), f(v('redirect')), ratio('redirect'), p('single'), p('forward'), p('redirect'), o]);
  }
  const lines = alignTable(table, 1);
  process.stdout.write(`\n${lines.join('\n')}\n\nother: CPU cores used by other processes during the runs (single/forward/redirect); above ~0.2 the row is disturbed\ntotal time ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(rows, null, 1));
}

main()
  .catch((err: Error) => {
    process.stderr.write(`bench:cluster: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
