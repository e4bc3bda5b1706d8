// `npm start` as a user runs it: the playground cluster (one proxy, three targets with two mountpaths
// each) in the foreground on consecutive ports, data under TAIS_DATA; `npm stop` stops every node; a
// second start brings the same cluster and its objects back.
import test from 'ava';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, request, sleep, random, md5 } from './helpers/node';
import { parseSmap } from './helpers/cluster';

const START = path.join(ROOT, 'dist', 'src', 'cmd', 'playground.js');
const STOP = path.join(ROOT, 'dist', 'src', 'cmd', 'playground-stop.js');

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

/** A base port with the next `n` ports free too. */
async function freeRange(n: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
}

function start(env: NodeJS.ProcessEnv): { proc: ChildProcess; out: () => string; ready: Promise<void> } {
  const proc = spawn(process.execPath, [START], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve, reject) => {
    const on = (b: Buffer): void => {
      out += b.toString();
      if (out.includes('`npm stop` stops it')) resolve();
    };
    proc.stdout!.on('data', on);
    proc.stderr!.on('data', on);
    proc.once('exit', (code) => reject(new Error(`playground exited (${code}) before it was ready:\n${out}`)));
  });
  return { proc, out: () => out, ready };
}

function pids(dataDir: string): number[] {
  // The playground's nodes: aisnode processes whose arguments name the data dir.
  const lines = execFileSync('ps', ['-eo', 'pid,args']).toString().split('\n');
  return lines.filter((l) => l.includes('aisnode.js') && l.includes(dataDir)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

test('npm start: 1 proxy + 3 targets with 2 mountpaths each; npm stop stops them all; a restart keeps the data', async (t) => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-playground-'));
  const port = await freeRange(4);
  const env = { TAIS_DATA: data, TAIS_PORT: String(port) };
  const url = `http://127.0.0.1:${port}`;
  let run = start(env);
  try {
    await run.ready;
    t.regex(run.out(), new RegExp(`S3 endpoint: +http://localhost:${port}/s3`));
    const smap = parseSmap((await request(url, { method: 'GET', path: '/v1/cluster?what=smap' })).body.toString());
    t.is(Object.keys(smap.pmap).length, 1);
    t.deepEqual(Object.values(smap.tmap).map((s) => Number(s.public_net.daemon_port)).sort(), [port + 1, port + 2, port + 3]);
    for (let i = 1; i <= 3; i++) for (const mp of ['mp1', 'mp2']) t.true(fs.existsSync(path.join(data, `t${i}`, mp)));
    t.is(pids(data).length, 4);
    // A second start while running refuses.
    const second = spawn(process.execPath, [START], { env: { ...process.env, ...env }, stdio: 'ignore' });
    t.is(await new Promise<number | null>((r) => second.once('exit', r)), 1);
    t.is((await request(url, { method: 'PUT', path: '/s3/play' })).status, 200);
    const bodies = Array.from({ length: 12 }, (_, i) => random(500 + i * 1000));
    for (let i = 0; i < bodies.length; i++) t.is((await request(url, { method: 'PUT', path: `/s3/play/o${i}`, body: bodies[i] })).status, 200);
    // npm stop: every node exits, the foreground process too.
    // Not execFileSync: the playground is our child, and a blocked parent cannot reap it (a zombie
    // still answers kill(pid, 0), so `npm stop` would wait for it).
    const stopped = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [STOP], { env: { ...process.env, ...env } }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    t.regex(stopped, /playground: stopped/);
    await new Promise((r) => (run.proc.exitCode !== null ? r(undefined) : run.proc.once('exit', r)));
    t.is(run.proc.exitCode, 0);
    for (let i = 0; i < 50 && pids(data).length > 0; i++) await sleep(100);
    t.deepEqual(pids(data), []);
    t.false(fs.existsSync(path.join(data, 'playground.pid')));
    // Again: same cluster (same Smap UUID), same objects.
    run = start(env);
    await run.ready;
    const smap2 = parseSmap((await request(url, { method: 'GET', path: '/v1/cluster?what=smap' })).body.toString());
    t.is(smap2.uuid, smap.uuid);
    t.deepEqual(Object.keys(smap2.tmap).sort(), Object.keys(smap.tmap).sort());
    for (let i = 0; i < bodies.length; i++) {
      const g = await request(url, { method: 'GET', path: `/s3/play/o${i}` });
      t.is(g.status, 200);
      t.is(md5(g.body), md5(bodies[i]!));
    }
    // Ctrl-C (SIGINT to the foreground process) stops it cleanly as well.
    run.proc.kill('SIGINT');
    await new Promise((r) => (run.proc.exitCode !== null ? r(undefined) : run.proc.once('exit', r)));
    t.is(run.proc.exitCode, 0);
    for (let i = 0; i < 50 && pids(data).length > 0; i++) await sleep(100);
    t.deepEqual(pids(data), []);
  } finally {
    if (run.proc.exitCode === null) run.proc.kill('SIGKILL');
    for (const p of pids(data)) process.kill(p, 'SIGKILL');
    fs.rmSync(data, { recursive: true, force: true });
  }
});
