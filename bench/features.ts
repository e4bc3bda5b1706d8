// What the features around the data path cost, each against the plain data path of the same node in
// the same run (one target, its own gateway, temp dirs on one disk):
//   npm run bench:features [-- --out FILE.json]
//   - TLS: GET and PUT of 64 MiB (one connection) and GET of 1 MiB (8 connections) on the node's
//     HTTPS port against its plain intra-cluster port (the same process, the same objects);
//   - copy-bck: a bucket of 256 × 1 MiB copied by the job, against the client's PUT of the same bytes;
//   - inline ETL: GET of 1 MiB objects through an echo transformer, ws:// and hpush://, against plain GET;
//   - archpath: GET of 10 KiB files out of a 1,000-file shard, against GET of 10 KiB objects.
// The client is node:http(s) in this process (keep-alive), on the same two cores as the node.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startTais, tempDir, cleanupAll, freePort, ROOT } from './lib/servers';
import { alignTable } from '../src/loader/report';

const MiB = 1 << 20;
const EXAMPLE = path.join(ROOT, 'dist', 'src', 'etl', 'example-transformer.js');

interface Row {
  case: string;
  unit: string;
  feature: number;
  plain: number;
}

let caPem: Buffer;
const plainAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
let tlsAgent: https.Agent;

function call(base: string, method: string, p: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  const u = new URL(p, base);
  const tls = u.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(u, { method, agent: tls ? tlsAgent : plainAgent, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      // Bodies of 200s are counted, not kept (the client is on the node's cores); others are kept.
      const parts: Buffer[] = [];
      let n = 0;
      res.on('data', (b: Buffer) => {
        n += b.length;
        if (res.statusCode !== 200 || n <= 64 << 10) parts.push(b);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function must(p: Promise<{ status: number; body: Buffer }>, what: string): Promise<Buffer> {
  const r = await p;
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return r.body;
}

/** Runs `n` requests with `conc` in flight; requests per second. */
async function rate(n: number, conc: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) await one(next++);
    }),
  );
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

async function waitJob(base: string, id: string): Promise<void> {
  for (;;) {
    const snaps = JSON.parse((await must(call(base, 'GET', `/v1/cluster?what=qryxstats&id=${id}`), 'job')).toString()) as Record<string, { 'end-time': string; stats: { 'err-objs': string } }[]>;
    const all = Object.values(snaps).flat();
    if (all.every((s) => s['end-time'] !== '0001-01-01T00:00:00Z')) {
      if (all.some((s) => s.stats['err-objs'] !== '0')) throw new Error(`job ${id} had errors`);
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const action = (base: string, method: string, p: string, json: unknown): Promise<Buffer> => must(call(base, method, p, JSON.stringify(json), { 'content-type': 'application/json' }), `${method} ${p}`);

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const dir = tempDir('features');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '2', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  caPem = fs.readFileSync(path.join(dir, 'cert.pem'));
  tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: caPem });
  const intraPort = await freePort();
  process.env.AIS_ETL_COMMANDS = 'true'; // the node (which inherits it) starts the example transformers
  const node = await startTais(path.join(dir, 'node'), { tls: { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem'), intraPort } });
  const pub = node.url;
  const plain = `http://127.0.0.1:${intraPort}`;
  const rows: Row[] = [];
  const log = (s: string): void => console.log(`${new Date().toISOString().slice(11, 19)} ${s}`);

  for (const b of ['big', 'small', 'src', 'tiny', 'shards']) await action(plain, 'POST', `/v1/buckets/${b}`, { action: 'create-bck' });

  log('TLS: 64 MiB and 1 MiB objects');
  const big = Buffer.alloc(64 * MiB, 7);
  for (let i = 0; i < 4; i++) await must(call(plain, 'PUT', `/v1/objects/big/o${i}`, big), 'put');
  const oneMiB = Buffer.alloc(MiB, 3);
  for (let i = 0; i < 64; i++) await must(call(plain, 'PUT', `/v1/objects/small/o${i}`, oneMiB), 'put');
  for (const [label, fn] of [
    ['GET 64 MiB, 1 conn', (base: string) => rate(16, 1, (i) => must(call(base, 'GET', `/v1/objects/big/o${i % 4}`), 'get')).then((r) => r * 64)],
    ['PUT 64 MiB, 1 conn', (base: string) => rate(8, 1, (i) => must(call(base, 'PUT', `/v1/objects/big/p${i % 4}`, big), 'put')).then((r) => r * 64)],
    ['GET 1 MiB, 8 conns', (base: string) => rate(800, 8, (i) => must(call(base, 'GET', `/v1/objects/small/o${i % 64}`), 'get'))],
  ] as const) {
    const f = await fn(pub);
    const p = await fn(plain);
    rows.push({ case: `TLS: ${label}`, unit: label.startsWith('GET 1') ? 'ops/s' : 'MiB/s', feature: f, plain: p });
  }

  log('copy-bck: 256 × 1 MiB');
  const t0 = Date.now();
  await rate(256, 8, (i) => must(call(plain, 'PUT', `/v1/objects/src/o${String(i).padStart(4, '0')}`, oneMiB), 'put'));
  const putRate = 256 / ((Date.now() - t0) / 1000);
  const t1 = Date.now();
  const id = (await action(plain, 'POST', `/v1/buckets/src?bck_to=ais/@%23/dst/`, { action: 'copy-bck', value: {} })).toString();
  await waitJob(plain, id);
  rows.push({ case: 'copy-bck 256 × 1 MiB (vs the client PUT, 8 conns)', unit: 'MiB/s', feature: 256 / ((Date.now() - t1) / 1000), plain: putRate });

  log('inline ETL: echo transformers');
  for (const [name, comm] of [
    ['echo-ws-b', 'ws://'],
    ['echo-hp-b', 'hpush://'],
  ] as const) {
    await action(plain, 'PUT', '/v1/etl', { name, communication: comm, runtime: { command: [process.execPath, EXAMPLE, 'echo'] } });
    const f = await rate(400, 4, (i) => must(call(plain, 'GET', `/v1/objects/small/o${i % 64}?etl_name=${name}`), 'etl get'));
    const p = await rate(400, 4, (i) => must(call(plain, 'GET', `/v1/objects/small/o${i % 64}`), 'get'));
    rows.push({ case: `inline ETL ${comm} echo, GET 1 MiB, 4 conns`, unit: 'ops/s', feature: f, plain: p });
    await must(call(plain, 'DELETE', `/v1/etl/${name}`), 'etl rm');
  }

  log('archpath: 1,000 × 10 KiB');
  const tenK = Buffer.alloc(10 * 1024, 5);
  await rate(1000, 8, (i) => must(call(plain, 'PUT', `/v1/objects/tiny/f${String(i).padStart(4, '0')}.jpg`, tenK), 'put'));
  const aid = (await action(plain, 'PUT', '/v1/buckets/tiny', { action: 'archive', value: { archname: 's.tar', template: 'f{0000..0999}.jpg', tobck: { name: 'shards' } } })).toString();
  await waitJob(plain, aid);
  const f = await rate(4000, 8, (i) => must(call(plain, 'GET', `/v1/objects/shards/s.tar?archpath=f${String(i % 1000).padStart(4, '0')}.jpg`), 'archpath'));
  const p = await rate(4000, 8, (i) => must(call(plain, 'GET', `/v1/objects/tiny/f${String(i % 1000).padStart(4, '0')}.jpg`), 'get'));
  rows.push({ case: 'archpath: GET 10 KiB file of a 1,000-file shard, 8 conns', unit: 'ops/s', feature: f, plain: p });

  const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
  console.log('');
  console.log(alignTable([['case', 'unit', 'feature', 'plain', 'feature/plain'], ...rows.map((r) => [r.case, r.unit, fmt(r.feature), fmt(r.plain), (r.feature / r.plain).toFixed(2)])]).join('\n'));
  console.log('plain = the same node and objects without the feature: its plain-HTTP intra port, the client PUT, plain GETs');
  if (values.out) fs.writeFileSync(values.out, JSON.stringify(rows, null, 2));
  await cleanupAll();
}

main().catch(async (err: Error) => {
  console.error(err.stack ?? err.message);
  await cleanupAll();
  process.exit(1);
});
