#!/usr/bin/env node
// `npm start`: the local playground cluster, in the foreground. One primary proxy on localhost:8080 and
// three targets on the next ports with two mountpaths each, all data under ./data:
//   data/p0/            the proxy's config dir (Smap, BMD, cluster config)
//   data/t1/{conf,mp1,mp2} ... one folder per target
// TAIS_DATA, TAIS_PORT, TAIS_PROXIES, TAIS_TARGETS, TAIS_MOUNTPATHS change it; AIS_TLS_CERT and
// AIS_TLS_KEY (PEM files, the certificate valid for localhost) make every node serve HTTPS. Ctrl-C (or
// `npm stop`) stops every node cleanly; a restart keeps the data and the cluster map.
import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { spawn, type ChildProcess } from 'node:child_process';

const data = path.resolve(process.env.TAIS_DATA ?? 'data');
const port = intEnv('TAIS_PORT', 8080);
const proxies = intEnv('TAIS_PROXIES', 1);
const targets = intEnv('TAIS_TARGETS', 3);
const mountpaths = intEnv('TAIS_MOUNTPATHS', 2);
const aisnode = path.join(__dirname, 'aisnode.js');
const pidFile = path.join(data, 'playground.pid');
const promoteRoot = path.join(data, 'promote');
// The nodes read AIS_TLS_CERT / AIS_TLS_KEY themselves (aisnode --tls-cert/--tls-key).
const tls = Boolean(process.env.AIS_TLS_CERT && process.env.AIS_TLS_KEY);
const scheme = tls ? 'https' : 'http';

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? dflt : Number(v);
  if (!Number.isInteger(n) || n < 0 || (name === 'TAIS_PROXIES' && n < 1)) {
    console.error(`playground: invalid ${name}=${v}`);
    process.exit(2);
  }
  return n;
}

const children: ChildProcess[] = [];
let stopping = false;

function startNode(args: string[]): ChildProcess {
  // Files under data/promote can be promoted (`ais object promote`) unless AIS_PROMOTE_ROOT says otherwise.
  const env = { ...process.env, AIS_PROMOTE_ROOT: process.env.AIS_PROMOTE_ROOT ?? promoteRoot };
  const child = spawn(process.execPath, [aisnode, ...args], { stdio: ['ignore', 'inherit', 'inherit'], env });
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`playground: node ${args.join(' ')} exited (${signal ?? code}); stopping the rest`);
    stop(1);
  });
  children.push(child);
  return child;
}

// Generous: on a loaded 2-core machine a target with its HTTP threads and pool can take tens of seconds.
function waitHealthy(p: number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const probe = (): void => {
      // Up is up: the certificate is checked by the nodes' joins and by clients, not by this probe.
      (tls ? https : http)
        .get({ host: '127.0.0.1', port: p, path: '/v1/health', timeout: 1000, ...(tls ? { rejectUnauthorized: false } : {}) }, (r) => {
          r.resume();
          if (r.statusCode === 200) resolve();
          else retry();
        })
        .on('error', retry);
    };
    const retry = (): void => {
      if (Date.now() > deadline) reject(new Error(`node on port ${p} not ready after ${timeoutMs} ms`));
      else setTimeout(probe, 100);
    };
    probe();
  });
}

function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  // Targets first, then proxies (the primary last), so that nobody reports the others gone.
  const order = [...children].reverse();
  let left = order.filter((c) => c.exitCode === null && c.signalCode === null).length;
  const done = (): void => {
    fs.rmSync(pidFile, { force: true });
    process.exit(code);
  };
  if (left === 0) return done();
  for (const c of order) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.once('exit', () => --left === 0 && done());
    c.kill('SIGTERM');
  }
  setTimeout(() => {
    for (const c of order) c.kill('SIGKILL');
    done();
  }, 10_000).unref();
}

async function main(): Promise<void> {
  fs.mkdirSync(promoteRoot, { recursive: true }); // and data itself
  try {
    const old = Number(fs.readFileSync(pidFile, 'utf8'));
    process.kill(old, 0);
    console.error(`playground: already running (pid ${old}); \`npm stop\` stops it`);
    process.exit(1);
  } catch {
    // not running
  }
  fs.writeFileSync(pidFile, `${process.pid}\n`);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => stop(0));

  console.log(`tais playground: ${proxies} prox${proxies === 1 ? 'y' : 'ies'} and ${targets} target(s) with ${mountpaths} mountpath(s) each, data under ${data}`);
  const primaryUrl = `${scheme}://localhost:${port}`;
  startNode(['--role', 'proxy', '--host', '0.0.0.0', '--port', String(port), '--confdir', path.join(data, 'p0')]);
  await waitHealthy(port);
  let next = port + 1;
  const ports: number[] = [];
  for (let i = 1; i < proxies; i++, next++) {
    startNode(['--role', 'proxy', '--port', String(next), '--confdir', path.join(data, `p${i}`), '--primary', primaryUrl]);
    ports.push(next);
  }
  for (let i = 1; i <= targets; i++, next++) {
    const dir = path.join(data, `t${i}`);
    const mps = Array.from({ length: mountpaths }, (_, j) => path.join(dir, `mp${j + 1}`));
    for (const mp of mps) fs.mkdirSync(mp, { recursive: true });
    startNode(['--role', 'target', '--port', String(next), '--confdir', path.join(dir, 'conf'), '--primary', primaryUrl, ...mps.flatMap((m) => ['--mountpath', m])]);
    ports.push(next);
  }
  await Promise.all(ports.map((p) => waitHealthy(p)));
  console.log(`tais playground ready:`);
  console.log(`  S3 endpoint:   ${scheme}://localhost:${port}/s3   e.g. aws --endpoint-url ${scheme}://localhost:${port}/s3${tls ? ' --ca-bundle CERT' : ''} s3 ls`);
  console.log(`  native API:    ${scheme}://localhost:${port}/v1   e.g. curl${tls ? ' --cacert CERT' : ''} '${scheme}://localhost:${port}/v1/cluster?what=smap'`);
  console.log(`  Ctrl-C or \`npm stop\` stops it`);
}

main().catch((err: Error) => {
  console.error(`playground: ${err.message}`);
  stop(1);
});
