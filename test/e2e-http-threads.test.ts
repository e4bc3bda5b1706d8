// End to end: a node serving its port from several HTTP threads (net.http_threads; api/http-threads.ts)
// and the node-wide PUT buffer budget (io.put_buffers_max; target/put-budget.ts). Every raw request
// here goes on a fresh connection (the helper's agent has no keep-alive), so the kernel spreads them over
// the threads' listeners: each check holds on whichever thread answers.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startNode, request, xmlCode, md5, random, type AisNode } from './helpers/node';

const THREADS = 3;
let node: AisNode;

test.before(async () => {
  node = await startNode({ name: 'threads', config: { net: { http_threads: THREADS }, io: { put_buffers_max: 4 } } });
});

test.after.always(async () => {
  await node?.stop();
});

async function status(): Promise<{ http_threads: number; counters: Record<string, number>; put_buffers: { in_flight: number; peak: number; max: number } }> {
  const r = await request(node.url, { method: 'GET', path: '/v1/daemon?what=node_status' });
  if (r.status !== 200) throw new Error(`node_status: ${r.status} ${r.body.toString()}`);
  return JSON.parse(r.body.toString());
}

/** Listening TCP sockets on `port` (from /proc/net/tcp: state 0A). */
function listeners(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[1]?.endsWith(`:${hex}`) && f[3] === '0A';
    }).length;
}

test.serial('the node listens on its port from every HTTP thread and says how many', async (t) => {
  t.is(listeners(node.port), THREADS);
  t.regex(node.log(), new RegExp(`${THREADS} HTTP thread\\(s\\)`));
  t.is((await status()).http_threads, THREADS);
});

test.serial('bucket changes reach every thread before the reply: fresh connections see them at once', async (t) => {
  const B = 'threads-meta';
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}` })).status, 200);
  const bodies = Array.from({ length: 24 }, (_, i) => random(1000 + i));
  const puts = await Promise.all(bodies.map((b, i) => request(node.url, { method: 'PUT', path: `/s3/${B}/o${i}`, body: b })));
  t.deepEqual(puts.map((r) => r.status), bodies.map(() => 200));
  const gets = await Promise.all(bodies.map((_, i) => request(node.url, { method: 'GET', path: `/s3/${B}/o${i}` })));
  gets.forEach((r, i) => t.true(r.status === 200 && r.body.equals(bodies[i]!), `o${i}`));
  t.is(gets[0]!.headers.etag, `"${md5(bodies[0]!)}"`);

  // Props: MD5 ETags off; every thread's next PUT must follow.
  const set = await request(node.url, {
    method: 'PATCH',
    path: `/v1/buckets/${B}`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'set-bprops', value: { checksum: { md5_etag: false } } }),
  });
  t.is(set.status, 200, set.body.toString());
  const again = await Promise.all(bodies.map((b, i) => request(node.url, { method: 'PUT', path: `/s3/${B}/p${i}`, body: b })));
  for (const r of again) t.regex(String(r.headers.etag), /^"v1-/);

  // Cluster config: S3 at the root, on any thread.
  const cfg = await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?features=S3-API-via-Root' });
  t.is(cfg.status, 200, cfg.body.toString());
  const roots = await Promise.all(bodies.map((_, i) => request(node.url, { method: 'GET', path: `/${B}/o${i}` })));
  roots.forEach((r, i) => t.true(r.status === 200 && r.body.equals(bodies[i]!), `root o${i}`));
  t.is((await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?features=none' })).status, 200);
  const off = await Promise.all(bodies.map((_, i) => request(node.url, { method: 'GET', path: `/${B}/o${i}` })));
  t.deepEqual(off.map((r) => r.status), bodies.map(() => 404));

  // Gone: every thread answers NoSuchBucket right after the delete.
  for (let i = 0; i < bodies.length; i++) {
    for (const k of [`o${i}`, `p${i}`]) t.is((await request(node.url, { method: 'DELETE', path: `/s3/${B}/${k}` })).status, 204);
  }
  t.is((await request(node.url, { method: 'DELETE', path: `/s3/${B}` })).status, 204);
  const gone = await Promise.all(bodies.map((_, i) => request(node.url, { method: 'GET', path: `/s3/${B}/o${i}` })));
  t.deepEqual(gone.map((r) => xmlCode(r.body)), bodies.map(() => 'NoSuchBucket'));
});

test.serial('counters of all threads add up in /metrics and node status', async (t) => {
  const B = 'threads-stats';
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}` })).status, 200);
  const before = (await status()).counters;
  const body = random(4096);
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}/x`, body })).status, 200);
  const N = 30;
  const gets = await Promise.all(Array.from({ length: N }, () => request(node.url, { method: 'GET', path: `/s3/${B}/x` })));
  t.true(gets.every((r) => r.status === 200 && r.body.equals(body)));
  const after = (await status()).counters;
  t.is(after.getCount! - before.getCount!, N);
  t.is(after.getBytes! - before.getBytes!, N * body.length);
  t.is(after.putCount! - before.putCount!, 1);
  const metrics = (await request(node.url, { method: 'GET', path: '/metrics' })).body.toString();
  t.regex(metrics, new RegExp(`ais_target_get_count\\{[^}]*\\} ${after.getCount}\\n`));
});

/** PUT `body` streamed in 256 KiB writes (a real upload: uWS sees many chunks, pauses apply). */
function streamPut(path: string, body: Buffer): Promise<{ status: number; etag: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(node.url);
    const req = http.request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: { 'content-length': body.length }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: String(res.headers.etag) }));
    });
    req.on('error', reject);
    writeInPieces(req, body, () => req.end());
  });
}

/** Writes `body` in 256 KiB pieces, honouring back-pressure, then calls `then`. */
function writeInPieces(out: NodeJS.WritableStream, body: Buffer, then: () => void): void {
  let off = 0;
  const next = (): void => {
    while (off < body.length) {
      const piece = body.subarray(off, off + 256 * 1024);
      off += piece.length;
      if (!out.write(piece)) return void out.once('drain', next);
    }
    then();
  };
  next();
}

test.serial('PUT buffer budget: many concurrent uploads stay within it, all stored intact', async (t) => {
  const B = 'threads-budget';
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}` })).status, 200);
  const UPLOADS = 12;
  const bodies = Array.from({ length: UPLOADS }, (_, i) => random(8 * 1024 * 1024 + i * 4097));
  const res = await Promise.all(bodies.map((b, i) => streamPut(`/s3/${B}/big${i}`, b))).catch((err: Error) => {
    throw new Error(`${err.message}; node log:\n${node.log().slice(-3000)}`);
  });
  res.forEach((r, i) => t.deepEqual(r, { status: 200, etag: `"${md5(bodies[i]!)}"` }, `big${i}`));
  const st = (await status()).put_buffers;
  t.is(st.max, 4);
  t.is(st.in_flight, 0);
  // Reached (uploads did wait) and held: one over per upload at most (a buffer taken before its socket paused).
  t.true(st.peak >= st.max, `peak ${st.peak}`);
  t.true(st.peak <= st.max + UPLOADS, `peak ${st.peak}`);
  for (let i = 0; i < UPLOADS; i++) {
    const r = await request(node.url, { method: 'GET', path: `/s3/${B}/big${i}` });
    t.true(r.status === 200 && r.body.equals(bodies[i]!), `big${i}`);
  }
});

test.serial('keep-alive connections stay usable after uploads the budget paused (no hang, no reset)', async (t) => {
  // A paused upload whose last bytes arrive while paused must leave the socket reading again: left
  // paused, the next request on that connection hangs until uWS's idle timeout resets it (seen as
  // ECONNRESET after ~10 s under mixed-size PUTs). Four keep-alive connections, sizes not multiples of
  // the buffer, a budget of 4 buffers: pauses are the rule here.
  const B = 'threads-keepalive';
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}` })).status, 200);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const u = new URL(node.url);
  const put = (key: string, body: Buffer): Promise<{ status: number | string; ms: number }> =>
    new Promise((resolve) => {
      const t0 = Date.now();
      const req = http.request({ host: u.hostname, port: u.port, method: 'PUT', path: `/s3/${B}/${key}`, agent, headers: { 'content-length': body.length }, timeout: 8000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - t0 }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? err.message, ms: Date.now() - t0 }));
      req.end(body);
    });
  const pool = random(24 << 20);
  const bad: string[] = [];
  let n = 0;
  try {
    await Promise.all(
      [0, 1, 2, 3].map(async (w) => {
        for (let i = 0; i < 12; i++) {
          const size = 1 + ((w * 7919 + i * 104_729 + 12_345) * 2_654_435_761) % (24 << 20);
          const r = await put(`w${w}/o${i}`, pool.subarray(0, size));
          n++;
          if (r.status !== 200) bad.push(`w${w}/o${i} (${size} B): ${r.status} after ${r.ms} ms`);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  t.is(n, 48);
  t.deepEqual(bad, []);
});

/** Sends the headers of a PUT of `declared` bytes and `body` (shorter), then cuts the connection. */
function cutPut(path: string, declared: number, body: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const u = new URL(node.url);
    const sock = net.connect(Number(u.port), u.hostname, () => {
      sock.write(`PUT ${path} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: ${declared}\r\n\r\n`);
      // Let the node take in what was sent (and queue its writes) before the cut.
      writeInPieces(sock, body, () => setTimeout(() => sock.destroy(), 100));
    });
    sock.on('close', () => resolve());
    sock.on('error', () => {});
  });
}

test.serial('uploads cut off mid-body while their buffers wait to be written: buffers come back, no work files, old objects intact', async (t) => {
  // Six uploads paused by the budget (4 here) and then cut: whatever each had in flight or queued for
  // its one write at a time (put.ts pumpWrites) must come back, or the budget leaks and every later PUT
  // waits forever. The exact moments (cut while the work file opens, or with a write in flight and
  // buffers queued behind it) are pinned in put-stream.test.ts.
  const B = 'threads-cut';
  t.is((await request(node.url, { method: 'PUT', path: `/s3/${B}` })).status, 200);
  const old = random(3 * 1024 * 1024 + 5);
  t.is((await streamPut(`/s3/${B}/k0`, old)).status, 200);
  const partial = random(12 * 1024 * 1024);
  await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cutPut(`/s3/${B}/k${i}`, 32 * 1024 * 1024, partial)));
  let st = (await status()).put_buffers;
  for (let i = 0; i < 50 && st.in_flight !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    st = (await status()).put_buffers;
  }
  t.is(st.in_flight, 0);
  const wk = node.dirs.mountpaths.map((mp) => `${mp}/@ais/${B}/%wk`).filter((d) => fs.existsSync(d));
  let left: string[] = [];
  for (let i = 0; i < 50; i++) {
    left = wk.flatMap((d) => fs.readdirSync(d));
    if (left.length === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  t.deepEqual(left, []);
  const get = await request(node.url, { method: 'GET', path: `/s3/${B}/k0` });
  t.true(get.status === 200 && get.body.equals(old), 'the old k0 is served');
  t.is((await request(node.url, { method: 'HEAD', path: `/s3/${B}/k3` })).status, 404);
  const again = random(9 * 1024 * 1024 + 1);
  t.deepEqual(await streamPut(`/s3/${B}/k3`, again), { status: 200, etag: `"${md5(again)}"` });
});
