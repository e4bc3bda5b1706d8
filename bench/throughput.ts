// How much load can aisloader generate? Against the same nginx (sendfile, 2 workers) serving one 4 KiB
// and one 1 MiB file, run wrk and aisloader with the same connections and threads and print the
// ratio aisloader / wrk. A ratio near 1 means the loader is not what limits a measurement; on this
// 2-core box both compete with nginx for the CPUs, so this is the loader's ceiling, not nginx's.
//   npm run bench:throughput [-- --seconds 6 --conns 8,32 --threads 1,2 --repeat 2]
// Each pair runs `repeat` times, alternating wrk and aisloader, and the best of each is kept.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startNginx, tempDir, cleanupAll, NginxMissing } from './lib/servers';
import { aisloader, wrk, haveWrk, type WrkResult } from './lib/load';
import type { RunResult } from '../src/loader/run';
import { makePayload, objectBytes } from '../src/loader/payload';
import { alignTable, fmtRate } from '../src/loader/report';

const FILES = [
  { name: 'f4k', size: 4096, label: '4 KiB' },
  { name: 'f1m', size: 1 << 20, label: '1 MiB' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '6' },
      conns: { type: 'string', default: '8,32' },
      threads: { type: 'string', default: '1,2' },
      repeat: { type: 'string', default: '2' },
    },
  });
  const seconds = Number(values.seconds);
  const conns = values.conns.split(',').map(Number);
  const threadsList = values.threads.split(',').map(Number);
  const repeat = Math.max(1, Number(values.repeat));
  if (!haveWrk()) throw new Error('wrk not found: apt-get install -y wrk');
  const dir = tempDir('throughput');
  const ngx = await startNginx(dir);
  const bdir = path.join(ngx.www, 's3', 'bench');
  fs.mkdirSync(bdir, { recursive: true });
  const ring = makePayload(1, 2 << 20).buf;
  for (const f of FILES) {
    fs.writeFileSync(path.join(bdir, f.name), objectBytes(ring, 0, f.size));
    fs.writeFileSync(path.join(dir, `${f.name}.list`), `${f.name}\n`);
  }
  const rows: string[][] = [['file', 'conns', 'threads', 'wrk req/s', 'aisloader req/s', 'ratio', 'wrk MiB/s (body)', 'aisloader MiB/s']];
  console.log(`nginx ${ngx.url} (2 workers, sendfile); ${seconds}s per run; ${process.platform} ${require('node:os').cpus().length} CPUs`);
  for (const f of FILES) {
    for (const c of conns) {
      for (const t of threadsList) {
        // Alternate the two tools and keep the best run of each: other load on the box only ever
        // lowers a figure, so the best of a few is the closest to each tool's ceiling.
        let w: WrkResult | undefined;
        let a: RunResult | undefined;
        for (let r = 0; r < repeat; r++) {
          const wr = await wrk(`${ngx.url}/s3/bench/${f.name}`, t, c, seconds);
          const ar = await aisloader({
            endpoint: ngx.url,
            bucket: 'bench',
            pctput: 0,
            filelist: path.join(dir, `${f.name}.list`),
            numworkers: c,
            threads: t,
            duration: `${seconds}s`,
          });
          if (ar.get.errors || wr.errors) console.log(`  errors: aisloader ${ar.get.errors}, wrk ${wr.errors}`);
          if (!w || wr.requestsPerSec > w.requestsPerSec) w = wr;
          if (!a || ar.get.opsPerSec > a.get.opsPerSec) a = ar;
        }
        const ratio = a!.get.opsPerSec / w!.requestsPerSec;
        rows.push([f.label, String(c), String(t), fmtRate(w!.requestsPerSec), fmtRate(a!.get.opsPerSec), ratio.toFixed(2), fmtRate(f.size * w!.requestsPerSec / 2 ** 20), fmtRate(a!.get.mibPerSec)]);
        console.log(alignTable([rows[0], rows[rows.length - 1]], 1).slice(-1)[0]);
      }
    }
  }
  console.log('\n' + alignTable(rows, 1).join('\n'));
}

main()
  .catch((err: Error) => {
    process.stderr.write(`${err instanceof NginxMissing ? '' : 'bench:throughput: '}${err.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
