// Memory of a tais node over a long mixed run, and against object size (issue 7: "flat over a 10-minute
// run; no growth with object size").
//   npm run build && npm run bench:soak [-- --minutes 10 --conc 16 --out soak.json --config '{"io":{"sendfile":true}}']
// 1. Size sweep: for 4 KiB, 1 MiB, 64 MiB and 1 GiB objects, PUT then GET them (aisloader, 8
//    connections; 4 for 1 GiB), and take the node's peak RSS in each phase.
// 2. Soak: one-minute cycles of mixed load (30 % PUT of 4 KiB–64 MiB, 70 % GET, 16 connections, the
//    cycle's objects deleted at its end) for --minutes; RSS sampled every 200 ms, reported per minute.
// The verdict compares the last third of the soak with the first: flat = its peak within 10 % (+16 MiB).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startTais, tempDir, cleanupAll, RssSampler } from './lib/servers';
import { aisloader } from './lib/load';
import { alignTable, fmtBytes, fmtRate } from '../src/loader/report';
import type { RunResult } from '../src/loader/run';

const MiB = 1 << 20;

function log(msg: string): void {
  process.stderr.write(`${new Date().toTimeString().slice(0, 8)} ${msg}\n`);
}

interface SweepRow {
  size: string;
  put: RunResult;
  get: RunResult;
  rssPeak: number;
}

interface Minute {
  minute: number;
  rssMin: number;
  rssMax: number;
  rssEnd: number;
  ops: number;
  mib: number;
  errors: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      conc: { type: 'string', default: '16' },
      out: { type: 'string' },
      'skip-sweep': { type: 'boolean', default: false },
      // A JSON subset of the cluster config for the node, e.g. '{"io":{"sendfile":true}}'.
      config: { type: 'string' },
    },
  });
  const minutes = Math.max(1, Number(values.minutes));
  const conc = Math.max(1, Number(values.conc));
  const dir = tempDir('soak');
  const tais = await startTais(path.join(dir, 'tais'), { config: values.config ? (JSON.parse(values.config) as Record<string, unknown>) : undefined });
  const rss = new RssSampler(tais.pid, 200);
  const started = Date.now();
  log(`tais ${tais.url} (pid ${tais.pid}); RSS at start ${fmtBytes(rss.first)}`);

  const sweep: SweepRow[] = [];
  if (!values['skip-sweep']) {
    const sizes: [string, number, number, number][] = [
      ['4KiB', 4096, 2000, 8],
      ['1MiB', MiB, 256, 8],
      ['64MiB', 64 * MiB, 24, 8],
      ['1GiB', 1024 * MiB, 4, 4],
    ];
    for (const [id, size, count, c] of sizes) {
      rss.mark();
      const bucket = `sweep${id.toLowerCase()}`;
      // uWS resets a request whose Content-Length has 10 digits: 1 GiB goes chunked.
      const put = await aisloader({ endpoint: tais.url, bucket, pctput: 100, maxputs: count, minsize: size, maxsize: size, numworkers: c, duration: 0, chunked: size >= 1e9 });
      const get = await aisloader({ endpoint: tais.url, bucket, pctput: 0, numworkers: c, duration: '15s' });
      const row = { size: id, put, get, rssPeak: rss.mark() };
      sweep.push(row);
      log(`sweep ${id}: PUT ${fmtRate(put.put.mibPerSec)} MiB/s, GET ${fmtRate(get.get.mibPerSec)} MiB/s, peak RSS ${fmtBytes(row.rssPeak)}`);
    }
  }

  const soak: Minute[] = [];
  let rssMin = Number.POSITIVE_INFINITY;
  const tick = setInterval(() => (rssMin = Math.min(rssMin, rss.last)), 200).unref();
  for (let m = 1; m <= minutes; m++) {
    rss.mark();
    rssMin = rss.last;
    const r = await aisloader({ endpoint: tais.url, bucket: 'soak', pctput: 30, minsize: '4KiB', maxsize: '64MiB', numworkers: conc, duration: '60s', cleanup: true, subdir: `m${m}`, seed: 1000 + m });
    // The first cycle GETs only what it has PUT so far; aisloader lists before it starts.
    const row: Minute = {
      minute: m,
      rssMin,
      rssMax: rss.mark(),
      rssEnd: rss.last,
      ops: r.put.opsPerSec + r.get.opsPerSec,
      mib: r.put.mibPerSec + r.get.mibPerSec,
      errors: r.put.errors + r.get.errors,
    };
    soak.push(row);
    log(`minute ${m}: ${fmtRate(row.ops)} ops/s, ${fmtRate(row.mib)} MiB/s, errors ${row.errors}${row.errors ? ` ${JSON.stringify(r.errors)}` : ''}, RSS ${fmtBytes(row.rssMin)}–${fmtBytes(row.rssMax)}`);
  }
  clearInterval(tick);
  rss.stop();
  await tais.stop();

  const third = Math.max(1, Math.floor(soak.length / 3));
  const firstPeak = Math.max(...soak.slice(0, third).map((r) => r.rssMax));
  const lastPeak = Math.max(...soak.slice(-third).map((r) => r.rssMax));
  const flat = lastPeak <= firstPeak * 1.1 + 16 * MiB;
  const lines = [
    `# tais memory soak — ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
    `machine: ${os.cpus()[0]?.model ?? '?'} × ${os.cpus().length}, ${fmtBytes(os.totalmem())} RAM; Node ${process.version}; one tais node, ${values.config ? `config ${values.config}` : 'default config'}`,
    '',
  ];
  if (sweep.length) {
    lines.push('object size sweep (PUT then 15 s of GET):');
    lines.push(...alignTable([['size', 'PUT MiB/s', 'GET MiB/s', 'errors', 'peak RSS'], ...sweep.map((s) => [s.size, fmtRate(s.put.put.mibPerSec), fmtRate(s.get.get.mibPerSec), String(s.put.put.errors + s.get.get.errors), fmtBytes(s.rssPeak)])]));
    lines.push('');
  }
  lines.push(`soak: ${minutes} × 60 s of 30 % PUT (4 KiB–64 MiB) / 70 % GET, ${conc} connections, each minute's objects deleted at its end:`);
  lines.push(...alignTable([['minute', 'ops/s', 'MiB/s', 'errors', 'RSS min', 'RSS max', 'RSS at end'], ...soak.map((r) => [String(r.minute), fmtRate(r.ops), fmtRate(r.mib), String(r.errors), fmtBytes(r.rssMin), fmtBytes(r.rssMax), fmtBytes(r.rssEnd)])]));
  lines.push('');
  lines.push(`RSS: ${fmtBytes(rss.first)} at start, peak ${fmtBytes(rss.peakAll)}; soak peak in the first third ${fmtBytes(firstPeak)}, in the last third ${fmtBytes(lastPeak)}: ${flat ? 'flat' : 'GROWING'}`);
  lines.push(`total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (values.out) fs.writeFileSync(values.out, JSON.stringify({ sweep: sweep.map((s) => ({ size: s.size, rssPeak: s.rssPeak, put: s.put.put, get: s.get.get })), soak, firstPeak, lastPeak, flat }, null, 2));
  console.log(lines.join('\n'));
}

main()
  .catch((err: Error) => {
    process.stderr.write(`bench:soak: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
