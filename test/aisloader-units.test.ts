// aisloader's pure parts: flags (sizes, durations, AIStore spellings), the latency histogram, the
// seeded payload, and the HTTP response parser against a server that splits and frames its bytes
// every way HTTP/1.1 allows.
import test from 'ava';
import net from 'node:net';
import { parseFlags, parseSize, parseDuration, FlagError, type LoaderConfig } from '../src/loader/flags';
import { LoadStats, OP_GET, OP_PUT, bucketOf, bucketValue, HIST_BUCKETS } from '../src/loader/stats';
import { makePayload, objectBytes, objectName, objectOffset, objectSize, bodyViews } from '../src/loader/payload';
import { Conn } from '../src/loader/http';
import { rangeHeaderOf, describeStatus, chunkedBody } from '../src/loader/engine';

test('sizes: binary single letters and IEC, decimal SI', (t) => {
  t.is(parseSize('4096'), 4096);
  t.is(parseSize('4KiB'), 4096);
  t.is(parseSize('4k'), 4096);
  t.is(parseSize('1M'), 1 << 20);
  t.is(parseSize('1MiB'), 1 << 20);
  t.is(parseSize('1MB'), 1_000_000);
  t.is(parseSize('1G'), 1 << 30);
  t.is(parseSize('1.5GiB'), 1.5 * 2 ** 30);
  t.throws(() => parseSize('4 KQ'), { instanceOf: FlagError, message: /unit/ });
  t.throws(() => parseSize('lots'), { instanceOf: FlagError });
});

test('durations', (t) => {
  t.is(parseDuration('30s'), 30_000);
  t.is(parseDuration('1m'), 60_000);
  t.is(parseDuration('1h30m'), 5_400_000);
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('10'), 10_000);
  t.throws(() => parseDuration('10x'), { instanceOf: FlagError });
});

test('flags in AIStore spellings', (t) => {
  const c = parseFlags(['-ip', '127.0.0.1', '-port=9090', '-bucket', 'ais://b1', '-duration', '30s', '-numworkers', '16', '-pctput=100', '-minsize', '4KiB', '-maxsize', '1MiB', '-cleanup', '-json', '-seed', '5']) as LoaderConfig;
  t.is(c.endpoint, 'http://127.0.0.1:9090');
  t.is(c.bucket, 'b1');
  t.is(c.durationMs, 30_000);
  t.is(c.numWorkers, 16);
  t.is(c.pctPut, 100);
  t.is(c.minSize, 4096);
  t.is(c.maxSize, 1 << 20);
  t.true(c.cleanup && c.json);
  t.false(c.s3, 'the native API unless -s3');
  t.is(c.apiPrefix, '/v1/objects');
  t.is(c.providerQuery, '');
  t.is(c.seed, 5);
  const e = parseFlags(['-endpoint', 'http://localhost:51080', '-bucket', 'b', '-cleanup=false', '-objnames', '/tmp/x']) as LoaderConfig;
  t.is(e.port, 51080);
  t.false(e.cleanup);
  t.is(e.fileList, '/tmp/x');
  const env = parseFlags(['-bucket', 'b'], { AIS_ENDPOINT: 'http://10.0.0.1:8080' }) as LoaderConfig;
  t.is(env.host, '10.0.0.1');
  t.is(parseFlags(['-h']), 'help');
});

test('-maxputs without -duration runs until done; mistakes name the flag', (t) => {
  const c = parseFlags(['-bucket', 'b', '-pctput', '100', '-maxputs', '10']) as LoaderConfig;
  t.is(c.durationMs, 0);
  t.throws(() => parseFlags(['-bucket', 'b', '-pctput', '101']), { message: /-pctput/ });
  t.throws(() => parseFlags(['-bucket', 'b', '-minsize', '2M', '-maxsize', '1M']), { message: /-minsize/ });
  t.throws(() => parseFlags(['-bucket', 'b', '-bogus', '1']), { message: /unknown flag -bogus/ });
  t.throws(() => parseFlags(['-duration', '1s']), { message: /-bucket is required/ });
  t.throws(() => parseFlags(['-bucket', 'gs://b']), { message: /provider/ });
  const s3 = parseFlags(['-bucket', 'b', '-s3']) as LoaderConfig;
  t.true(s3.s3);
  t.is(s3.apiPrefix, '/s3');
  const remote = parseFlags(['-bucket', 's3://b']) as LoaderConfig;
  t.is(remote.provider, 'aws');
  t.is(remote.providerQuery, '?provider=aws', 'native requests name the remote provider');
  t.is((parseFlags(['-bucket', 'aws://b', '-s3']) as LoaderConfig).providerQuery, '', 'through /s3 the name is enough');
});

test('histogram: buckets are monotonic and within 1.6 % of the value', (t) => {
  let prev = -1;
  for (let ms = 0.0001; ms < 400_000; ms *= 1.013) {
    const b = bucketOf(ms);
    t.true(b >= prev && b < HIST_BUCKETS);
    prev = b;
    if (ms > 0.02) t.true(Math.abs(bucketValue(b) - ms) / ms < 0.016, `${ms} → ${bucketValue(b)}`);
  }
});

test('stats: percentiles, merge, interval diff', (t) => {
  const a = new LoadStats();
  const b = LoadStats.shared();
  for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).ok(OP_GET, 100, i / 10); // 0.1 .. 100 ms
  b.error(OP_PUT);
  const m = new LoadStats();
  m.merge(a);
  m.merge(b);
  const s = m.summary(OP_GET, 2);
  t.is(s.count, 1000);
  t.is(s.bytes, 100_000);
  t.is(s.opsPerSec, 500);
  t.is(s.latencyMs.min, 0.1);
  t.is(s.latencyMs.max, 100);
  t.true(Math.abs(s.latencyMs.p50 - 50) < 1);
  t.true(Math.abs(s.latencyMs.p99 - 99) < 1.5);
  t.true(Math.abs(s.latencyMs.avg - 50.05) < 1e-9);
  t.is(m.summary(OP_PUT, 2).errors, 1);
  const snap = m.snapshot();
  m.ok(OP_GET, 10, 5);
  const iv = m.summary(OP_GET, 1, snap);
  t.is(iv.count, 1);
  t.is(iv.bytes, 10);
});

test('payload: names, sizes and bytes are functions of (seed, i)', (t) => {
  const p1 = makePayload(99, 1 << 20);
  const p2 = makePayload(99, 1 << 20);
  t.true(p1.buf.equals(p2.buf));
  t.false(makePayload(98, 1 << 20).buf.subarray(0, 64).equals(p1.buf.subarray(0, 64)));
  t.is(objectName('d', 255, 10), 'd/000000ff-0000000a');
  t.is(objectName('', 1, 1), '00000001-00000001');
  const sizes = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const s = objectSize(99, i, 1000, 2000);
    t.true(s >= 1000 && s <= 2000);
    sizes.add(s);
    const off = objectOffset(99, i, s, p1.buf.length);
    t.true(off + s <= p1.buf.length, 'fits without wrapping');
  }
  t.true(sizes.size > 150);
  // An object larger than the ring wraps around it.
  const ring = p1.buf;
  const views = bodyViews(ring, ring.length - 10, ring.length * 2 + 5);
  t.deepEqual(views.map((v) => v.length), [10, ring.length, ring.length - 5]);
  t.is(objectBytes(ring, ring.length - 10, 20).length, 20);
});

test('chunked framing of body views', (t) => {
  const body = Buffer.concat(chunkedBody([Buffer.from('hello'), Buffer.alloc(0), Buffer.from('0123456789abcdefg')]));
  t.is(body.toString(), '5\r\nhello\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n');
});

test('range header and error descriptions', (t) => {
  t.is(rangeHeaderOf(0, 0), '');
  t.is(rangeHeaderOf(100, 0), 'Range: bytes=100-\r\n');
  t.is(rangeHeaderOf(100, 50), 'Range: bytes=100-149\r\n');
  t.is(describeStatus(404, '<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>'), '404 NoSuchKey: gone');
  t.is(describeStatus(400, '{"message":"bad","status":400}'), '400 bad');
  t.is(describeStatus(502, '<html><title>502 Bad Gateway</title></html>'), '502 502 Bad Gateway');
});

/** A raw server that answers each request with the next canned response, written in pieces. */
function rawServer(responses: string[][]): Promise<{ port: number; close(): void; conns: () => number }> {
  return new Promise((resolve) => {
    let i = 0;
    let conns = 0;
    const srv = net.createServer((s) => {
      conns++;
      s.on('error', () => {});
      let buf = '';
      s.on('data', async (d) => {
        buf += d.toString('latin1');
        while (buf.includes('\r\n\r\n')) {
          buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
          const pieces = responses[i++] ?? ['HTTP/1.1 500 X\r\nContent-Length: 0\r\n\r\n'];
          for (const p of pieces) {
            if (p === 'CLOSE') {
              s.end();
              continue;
            }
            s.write(p, 'latin1');
            await new Promise((r) => setTimeout(r, 2));
          }
        }
      });
    });
    srv.listen(0, '127.0.0.1', () => resolve({ port: (srv.address() as net.AddressInfo).port, close: () => srv.close(), conns: () => conns }));
  });
}

test('HTTP parser: split heads, content-length, chunked with extensions and trailers, keep-alive and close', async (t) => {
  const srv = await rawServer([
    ['HTTP/1.1 200 OK\r\nCont', 'ent-Length: 10\r', '\n\r\n0123', '456789'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', '4;ext=1\r\nabcd\r\n', 'A\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n'],
    ['HTTP/1.1 206 Partial Content\r\ncontent-length: 3\r\n\r\nxyz'],
    ['HTTP/1.1 404 Not Found\r\nContent-Length: 57\r\nConnection: close\r\n\r\n<Error><Code>NoSuchKey</Code><Message>m</Message>', '</Error>'],
    ['HTTP/1.0 200 OK\r\n\r\nuntil-close', 'CLOSE'],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n'],
  ]);
  const results: { status: number; bytes: number; err: string; errBody: string }[] = [];
  let resolveOne!: () => void;
  const conn = new Conn('127.0.0.1', srv.port, Buffer.alloc(7), (c, err) => {
    results.push({ status: c.status, bytes: c.bodyBytes, err: err?.message ?? '', errBody: c.errBody });
    resolveOne();
  });
  const req = (): Promise<void> =>
    new Promise((r) => {
      resolveOne = r;
      conn.request('GET /x HTTP/1.1\r\nHost: h\r\n\r\n', null);
    });
  for (let i = 0; i < 6; i++) await req();
  conn.close();
  srv.close();
  t.deepEqual(
    results.map((r) => [r.status, r.bytes, r.err]),
    [
      [200, 10, ''],
      [200, 14, ''],
      [206, 3, ''],
      [404, 57, ''],
      [200, 11, ''],
      [204, 0, ''],
    ],
  );
  t.is(results[3].errBody, '<Error><Code>NoSuchKey</Code><Message>m</Message></Error>');
  t.is(srv.conns(), 3, 'kept alive until "Connection: close" and the HTTP/1.0 response');
});

test('HTTP parser: a server that drops the connection mid-body is an error', async (t) => {
  const srv = await rawServer([['HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort', 'CLOSE']]);
  const err = await new Promise<Error | null>((resolve) => {
    const c = new Conn('127.0.0.1', srv.port, Buffer.alloc(1024), (_c, e) => resolve(e));
    c.request('GET / HTTP/1.1\r\n\r\n', null);
  });
  srv.close();
  t.truthy(err);
  t.regex(err!.message, /closed/);
});

test('HTTP parser: bytes past the end of a response: the response stands, the connection is dropped', async (t) => {
  const srv = await rawServer([['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA'], ['HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc']]);
  const results: [number, number, string][] = [];
  let resolveOne!: () => void;
  const conn = new Conn('127.0.0.1', srv.port, Buffer.alloc(1024), (c, err) => {
    results.push([c.status, c.bodyBytes, err?.message ?? '']);
    resolveOne();
  });
  for (let i = 0; i < 2; i++) {
    await new Promise<void>((r) => {
      resolveOne = r;
      conn.request('GET /x HTTP/1.1\r\nHost: h\r\n\r\n', null);
    });
  }
  conn.close();
  srv.close();
  t.deepEqual(results, [
    [200, 2, ''],
    [200, 3, ''],
  ]);
  t.is(srv.conns(), 2, 'the second request went on a new connection');
});
