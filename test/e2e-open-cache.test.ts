// End to end: the open-object cache (target/open-cache.ts). Every GET here goes over keep-alive
// connections, so repeat reads land on a thread that already holds the object open; what the cache
// must never do is serve a replaced, deleted, retagged or corrupted object, or keep a deleted object's
// blocks for long.
import test from 'ava';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startNode, random, md5, sleep, walkFiles, type AisNode } from './helpers/node';

const B = 'ocache';
let node: AisNode;
let off: AisNode;
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

test.before(async () => {
  [node, off] = await Promise.all([
    startNode({ name: 'ocache', mountpaths: 1, config: { net: { http_threads: 2 } } }),
    startNode({ name: 'ocache-off', mountpaths: 1, config: { net: { http_threads: 2 }, io: { open_cache_max: 0 } } }),
  ]);
  for (const n of [node, off]) if ((await call(n, 'PUT', `/s3/${B}`)).status !== 200) throw new Error('create bucket');
});

test.after.always(async () => {
  agent.destroy();
  await Promise.all([node?.stop(), off?.stop()]);
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The server cut the body short (how a streamed GET fails once its 200 is out). */
  cut?: boolean;
}

function call(n: AisNode, method: string, p: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> {
  const u = new URL(n.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), cut: true }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads the object several times at once, so every pooled connection (and both threads) has it cached. */
async function warm(n: AisNode, key: string, times = 8): Promise<Reply[]> {
  return Promise.all(Array.from({ length: times }, () => call(n, 'GET', `/s3/${B}/${key}`)));
}

/** Open fds of the node that point at deleted files under its mountpaths. */
function deletedOpen(n: AisNode): string[] {
  const dir = `/proc/${n.pid}/fd`;
  const out: string[] = [];
  for (const fd of fs.readdirSync(dir)) {
    try {
      const target = fs.readlinkSync(path.join(dir, fd));
      if (target.endsWith(' (deleted)') && n.dirs.mountpaths.some((m) => target.startsWith(m))) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

for (const which of ['on', 'off'] as const) {
  const pick = (): AisNode => (which === 'on' ? node : off);

  test.serial(`cache ${which}: every overwrite is seen by the next GET, whole and ranged, small and large`, async (t) => {
    const n = pick();
    for (const size of [4096, 3 << 20]) {
      const key = `over-${size}`;
      for (let v = 0; v < 12; v++) {
        const data = random(size + v);
        t.is((await call(n, 'PUT', `/s3/${B}/${key}`, data)).status, 200);
        const got = await warm(n, key, 6);
        const bad = got.findIndex((r) => r.status !== 200 || !r.body.equals(data) || r.headers.etag !== `"${md5(data)}"`);
        t.is(bad, -1, `version ${v} of ${size} bytes`);
        const ranged = await call(n, 'GET', `/s3/${B}/${key}`, undefined, { range: 'bytes=100-199' });
        t.is(ranged.status, 206);
        t.true(ranged.body.equals(data.subarray(100, 200)), `range of version ${v}`);
      }
    }
  });
}

test.serial('a deleted object is 404 at once and its blocks are not held open for long', async (t) => {
  const data = random(1 << 20);
  t.is((await call(node, 'PUT', `/s3/${B}/gone`, data)).status, 200);
  t.true((await warm(node, 'gone')).every((r) => r.status === 200));
  t.is((await call(node, 'DELETE', `/s3/${B}/gone`)).status, 204);
  const after = await warm(node, 'gone', 4);
  t.deepEqual(after.map((r) => r.status), [404, 404, 404, 404]);

  // Overwritten, then never read again: the old inode's fd goes within two sweeps (2 s each).
  const v1 = random(2 << 20);
  t.is((await call(node, 'PUT', `/s3/${B}/idle`, v1)).status, 200);
  t.true((await warm(node, 'idle')).every((r) => r.status === 200 && r.body.equals(v1)));
  t.is((await call(node, 'PUT', `/s3/${B}/idle`, random(10))).status, 200);
  let held = deletedOpen(node);
  for (let i = 0; i < 30 && held.length > 0; i++) {
    await sleep(250);
    held = deletedOpen(node);
  }
  t.deepEqual(held, [], 'fds of replaced objects are closed by the sweep');
});

test.serial('tags, user metadata and conditional GETs follow changes to a cached object', async (t) => {
  const data = random(5000);
  t.is((await call(node, 'PUT', `/s3/${B}/tagged`, data, { 'x-amz-meta-color': 'red' })).status, 200);
  t.true((await warm(node, 'tagged')).every((r) => r.headers['x-amz-meta-color'] === 'red' && r.headers['x-amz-tagging-count'] === undefined));
  const tagging = '<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k2</Key><Value>v2</Value></Tag></TagSet></Tagging>';
  t.is((await call(node, 'PUT', `/s3/${B}/tagged?tagging`, tagging)).status, 200);
  t.true((await warm(node, 'tagged')).every((r) => r.headers['x-amz-tagging-count'] === '2'), 'tag count after PutObjectTagging');
  const etag = `"${md5(data)}"`;
  t.true((await warm(node, 'tagged', 4)).every((r) => r.headers.etag === etag));
  t.is((await call(node, 'GET', `/s3/${B}/tagged`, undefined, { 'if-none-match': etag })).status, 304);
  const next = random(5001);
  t.is((await call(node, 'PUT', `/s3/${B}/tagged`, next)).status, 200);
  const r = await call(node, 'GET', `/s3/${B}/tagged`, undefined, { 'if-none-match': etag });
  t.is(r.status, 200, 'the old ETag no longer matches');
  t.true(r.body.equals(next));
  t.is(r.headers['x-amz-meta-color'], undefined);
});

test.serial('a cached object corrupted on disk is never served as good', async (t) => {
  for (const size of [4096, 3 << 20]) {
    const key = `rot-${size}`;
    const data = random(size);
    t.is((await call(node, 'PUT', `/s3/${B}/${key}`, data)).status, 200);
    t.true((await warm(node, key)).every((r) => r.status === 200 && r.body.equals(data)));
    const file = walkFiles(node.dirs.mountpaths[0]!).find((f) => f.endsWith(`/${key}`));
    t.truthy(file, 'object file on disk');
    const fd = fs.openSync(file!, 'r+');
    fs.writeSync(fd, Buffer.from([data[size >> 1]! ^ 0xff]), 0, 1, size >> 1);
    fs.closeSync(fd);
    const got = await warm(node, key, 6);
    const served = got.filter((g) => g.status === 200 && !g.cut && g.body.length === size);
    t.is(served.length, 0, `the corrupted ${size}-byte object completed as a 200 ${served.length} time(s)`);
    t.true(got.every((g) => g.status === 500 || g.cut), `statuses ${got.map((g) => `${g.status}${g.cut ? ' cut' : ''}`).join(',')}`);
  }
});
