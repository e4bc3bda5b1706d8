// One aisloader run: prepare (bucket, properties, the objects to read), drive the engines (in this
// thread, or in worker threads that share the payload, the control block and their stats through
// SharedArrayBuffers), print periodic lines, and clean up.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { Engine, newControl, requestStop, type Control, type EngineResult } from './engine';
import { LoadStats, OP_GET, OP_PUT, OPS, type OpSummary } from './stats';
import { makePayload, type Payload } from './payload';
import { ensureBucket, setBucketProps, listObjects, deleteObjects } from './api';
import { prepareEtl } from './etl';
import { periodicHeader, periodicLine, summaryTable, fmtBytes } from './report';
import type { LoaderConfig } from './flags';

export interface ThreadData {
  cfg: LoaderConfig;
  ring: SharedArrayBuffer;
  seed: number;
  stats: SharedArrayBuffer;
  controlInts: SharedArrayBuffer;
  controlBytes: SharedArrayBuffer;
  names: string[];
  numWorkers: number;
  threadIdx: number;
}

export interface RunResult {
  config: {
    endpoint: string;
    bucket: string;
    api: 's3' | 'native';
    duration: string;
    numworkers: number;
    threads: number;
    pctput: number;
    minsize: number;
    maxsize: number;
    readoff: number;
    readlen: number;
    seed: number;
    /** -etl / -etlspec: the ETL the GETs went through. */
    etl?: string;
  };
  /** Wall time from the first request to the last response. */
  elapsedSec: number;
  put: OpSummary;
  get: OpSummary;
  /** Error message → count (first seen wins the wording). */
  errors: Record<string, number>;
  /** CPU the loader itself used during the run (all its threads), in cores: near 1 per thread means it is the limit. */
  loaderCpuCores: number;
  /** Objects the run wrote (their names, for -cleanup and for tests). */
  written: number;
  /** Objects available for GET at the start. */
  getPool: number;
  cleanup?: { deleted: number; errors: number; firstError?: string };
}

export interface RunHooks {
  /** Progress lines (stdout, or stderr with -json). */
  log(line: string): void;
}

export async function runLoad(cfg: LoaderConfig, hooks: RunHooks): Promise<RunResult> {
  const seed = cfg.seed || randomInt(1, 2 ** 32 - 1);
  await ensureBucket(cfg);
  if (cfg.bprops) await setBucketProps(cfg, cfg.bprops);
  const etl = await prepareEtl(cfg);
  if (!etl) return runPrepared(cfg, hooks, seed);
  try {
    return await runPrepared({ ...cfg, etlName: etl.name }, hooks, seed);
  } finally {
    await etl.remove?.();
  }
}

async function runPrepared(cfg: LoaderConfig, hooks: RunHooks, seed: number): Promise<RunResult> {
  let names: string[] = [];
  if (cfg.pctPut < 100) {
    if (cfg.fileList) names = readNames(cfg.fileList);
    else names = await listObjects(cfg, cfg.subdir ? `${cfg.subdir}/` : '');
    if (names.length === 0 && cfg.pctPut === 0) {
      throw new Error(
        `nothing to GET: ${cfg.fileList ? `${cfg.fileList} is empty` : `bucket ${cfg.bucket}${cfg.subdir ? ` (under ${cfg.subdir}/)` : ''} has no objects`}; ` +
          `write some first, e.g. -pctput 100 -maxputs 1000 -minsize ${cfg.minSize} -maxsize ${cfg.maxSize}`,
      );
    }
  }
  const payload: Payload = makePayload(seed, cfg.pctPut > 0 ? cfg.maxSize : 0);
  const control = newControl();
  const threads = Math.min(cfg.threads, cfg.numWorkers);
  const stats: LoadStats[] = [];
  for (let t = 0; t < threads; t++) stats.push(LoadStats.shared());

  const durationText = cfg.durationMs ? `${cfg.durationMs / 1000}s` : 'until done';
  const limits = [cfg.maxPuts ? `maxputs ${cfg.maxPuts}` : '', cfg.totalPutSize ? `totalputsize ${fmtBytes(cfg.totalPutSize)}` : ''].filter(Boolean).join(', ');
  if (!cfg.quiet) {
    hooks.log(
      `aisloader: ${cfg.endpoint}${cfg.apiPrefix}/${cfg.bucket} (${cfg.s3 ? 'S3' : 'native'}${cfg.provider === 'aws' ? ', s3://' : ''}), ${cfg.numWorkers} workers${threads > 1 ? ` on ${threads} threads` : ''}, ` +
        `${cfg.pctPut}% PUT, size ${fmtBytes(cfg.minSize)}${cfg.maxSize !== cfg.minSize ? `..${fmtBytes(cfg.maxSize)}` : ''}, ` +
        `duration ${durationText}${limits ? ` (${limits})` : ''}${cfg.readLen || cfg.readOff ? `, range ${cfg.readOff}+${cfg.readLen || 'end'}` : ''}${cfg.etlName ? `, through ETL ${cfg.etlName}` : ''}, ` +
        `seed ${seed}${cfg.pctPut < 100 ? `, ${names.length} objects to read` : ''}`,
    );
  }

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let lastTick = t0;
  let prev = new LoadStats();
  const merged = (): LoadStats => {
    const m = new LoadStats();
    for (const s of stats) m.merge(s);
    return m;
  };
  const tick = (): void => {
    const now = performance.now();
    const ivs = stats.map((s) => s.takeInterval());
    const cur = merged();
    for (let op = 0; op < OPS.length; op++) {
      const iv = { min: Math.min(...ivs.map((x) => x[op].min)), max: Math.max(...ivs.map((x) => x[op].max)) };
      const ivSum = cur.summary(op, (now - lastTick) / 1000, prev, iv);
      if (cur.count(op) === 0 && cur.errors(op) === 0) continue;
      hooks.log(periodicLine(new Date(), ivSum, cur.summary(op, (now - t0) / 1000)));
    }
    prev = cur;
    lastTick = now;
  };
  let periodic: NodeJS.Timeout | undefined;
  if (cfg.statsIntervalSec > 0 && !cfg.quiet) {
    hooks.log(periodicHeader());
    periodic = setInterval(tick, cfg.statsIntervalSec * 1000);
  }
  const deadline = cfg.durationMs > 0 ? setTimeout(() => requestStop(control), cfg.durationMs) : undefined;
  const onSigint = (): void => {
    hooks.log('interrupted: finishing the requests in flight');
    requestStop(control);
  };
  process.once('SIGINT', onSigint);

  let results: EngineResult[];
  try {
    results = await Promise.all(
      stats.map((s, t) => {
        const share = Math.floor(cfg.numWorkers / threads) + (t < cfg.numWorkers % threads ? 1 : 0);
        if (threads === 1) return new Engine(cfg, payload, s, control, names, share, t).run();
        return runThread({
          cfg,
          ring: payload.buf.buffer as SharedArrayBuffer,
          seed,
          stats: s.a.buffer as SharedArrayBuffer,
          controlInts: control.ints.buffer as SharedArrayBuffer,
          controlBytes: control.bytes.buffer as SharedArrayBuffer,
          names,
          numWorkers: share,
          threadIdx: t,
        }, control);
      }),
    );
  } finally {
    if (deadline) clearTimeout(deadline);
    if (periodic) clearInterval(periodic);
    process.removeListener('SIGINT', onSigint);
  }
  const elapsedSec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const total = merged();
  const errors: Record<string, number> = {};
  const written: string[] = [];
  for (const r of results) {
    for (const n of r.written) written.push(n);
    for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  }
  const result: RunResult = {
    config: {
      endpoint: cfg.endpoint,
      bucket: cfg.bucket,
      api: cfg.s3 ? 's3' : 'native',
      duration: durationText,
      numworkers: cfg.numWorkers,
      threads,
      pctput: cfg.pctPut,
      minsize: cfg.minSize,
      maxsize: cfg.maxSize,
      readoff: cfg.readOff,
      readlen: cfg.readLen,
      ...(cfg.etlName ? { etl: cfg.etlName } : {}),
      seed,
    },
    elapsedSec,
    put: total.summary(OP_PUT, elapsedSec),
    get: total.summary(OP_GET, elapsedSec),
    errors,
    loaderCpuCores: (cpu.user + cpu.system) / 1e6 / elapsedSec,
    written: written.length,
    getPool: names.length,
  };
  if (cfg.cleanup && written.length > 0) {
    result.cleanup = await deleteObjects(cfg, written, cfg.numWorkers);
  }
  return result;
}

/** Human summary lines of a finished run. */
export function summaryLines(r: RunResult): string[] {
  const ops = [r.put, r.get].filter((s) => s.count > 0 || s.errors > 0);
  const lines = [
    `--- ${r.elapsedSec.toFixed(1)}s, ${r.config.numworkers} workers${r.config.threads > 1 ? `, ${r.config.threads} threads` : ''}, loader CPU ${r.loaderCpuCores.toFixed(2)} cores ---`,
  ];
  lines.push(...(ops.length ? summaryTable(ops) : ['no requests completed']));
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  if (errs.length) {
    lines.push('errors:');
    for (const [msg, n] of errs.slice(0, 10)) lines.push(`  ${n} × ${msg}`);
    if (errs.length > 10) lines.push(`  ... and ${errs.length - 10} more kinds`);
  }
  if (r.cleanup) {
    lines.push(`cleanup: deleted ${r.cleanup.deleted} of ${r.written} objects${r.cleanup.errors ? `, ${r.cleanup.errors} errors (${r.cleanup.firstError})` : ''}`);
  }
  return lines;
}

function readNames(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

function runThread(data: ThreadData, control: Control): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(path.join(__dirname, 'thread.js'), { workerData: data });
    let result: EngineResult | undefined;
    w.once('message', (r: EngineResult) => (result = r));
    w.once('error', (err) => {
      requestStop(control);
      reject(err);
    });
    w.once('exit', (code) => {
      if (result) resolve(result);
      else reject(new Error(`loader thread ${data.threadIdx} exited (${code}) without a result`));
    });
  });
}
