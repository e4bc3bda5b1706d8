// The node-to-node HTTP/1.1 client (util/upstream.ts, its framing in util/h1-response.ts) against a raw
// TCP server that frames its answers byte by byte as each case needs: keep-alive reuse, heads and chunk
// lines split over reads, 1xx interim heads, trailers, bodies to the close, truncated and malformed
// answers, a pooled connection the server closed, back-pressure, and a request body framed chunked on
// the way up.
import test from 'ava';
import crypto from 'node:crypto';
import net from 'node:net';
import { UpstreamRequest, type UpstreamHead } from '../src/util/upstream';

interface Got {
  head?: UpstreamHead;
  body: Buffer;
  err?: Error;
  retryable?: boolean;
}

/** A server whose `answer` gets each request's head (and body, read per Content-Length or chunked). */
async function server(answer: (sock: net.Socket, head: string, body: Buffer) => void): Promise<{ port: number; conns: () => number; close: () => void }> {
  let conns = 0;
  const srv = net.createServer((sock) => {
    conns++;
    let buf = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        let rest = buf.subarray(end + 4);
        let body = Buffer.alloc(0);
        const cl = /\r\ncontent-length: (\d+)/i.exec(head);
        if (/\r\ntransfer-encoding: chunked/i.test(head)) {
          const parts: Buffer[] = [];
          let at = 0;
          for (;;) {
            const nl = rest.indexOf('\r\n', at);
            if (nl < 0) return;
            const n = parseInt(rest.toString('latin1', at, nl), 16);
            if (rest.length < nl + 2 + n + 2) return;
            parts.push(rest.subarray(nl + 2, nl + 2 + n));
            at = nl + 2 + n + 2;
            if (n === 0) break;
          }
          body = Buffer.concat(parts);
          rest = rest.subarray(at);
        } else if (cl) {
          const n = Number(cl[1]);
          if (rest.length < n) return;
          body = rest.subarray(0, n);
          rest = rest.subarray(n);
        }
        buf = Buffer.from(rest);
        answer(sock, head, body);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return { port: (srv.address() as net.AddressInfo).port, conns: () => conns, close: () => srv.close() };
}

/** One exchange; `pauseMs` pauses reading for that long after every body piece. */
function exchange(port: number, method: string, path: string, opts: { headers?: Record<string, string>; body?: Buffer[]; pauseMs?: number } = {}): Promise<Got> {
  return new Promise((resolve) => {
    const got: Got = { body: Buffer.alloc(0) };
    const parts: Buffer[] = [];
    // eslint-disable-next-line prefer-const
    let up: UpstreamRequest;
    up = new UpstreamRequest({ host: '127.0.0.1', port }, method, path, opts.headers ?? {}, {
      onHead: (h) => void (got.head = h),
      onBody: (b) => {
        parts.push(Buffer.from(b)); // the view is only valid during the call
        if (!opts.pauseMs) return true;
        setTimeout(() => up.resume(), opts.pauseMs);
        return false;
      },
      onEnd: () => resolve({ ...got, body: Buffer.concat(parts) }),
      onError: (err, retryable) => resolve({ ...got, body: Buffer.concat(parts), err, retryable }),
      onDrain: () => undefined,
    }, 10_000);
    for (const b of opts.body ?? []) up.write(b);
    up.end();
  });
}

const md5 = (b: Buffer): string => crypto.createHash('md5').update(b).digest('hex');

test('Content-Length bodies, HEAD and 204 on one kept-alive connection; bytes intact through the read buffer', async (t) => {
  const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
  const s = await server((sock, head) => {
    if (head.startsWith('HEAD')) sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\nX-A: 1\r\nX-A: 2\r\n\r\n`);
    else if (head.startsWith('DELETE')) sock.write('HTTP/1.1 204 No Content\r\n\r\n');
    else sock.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
  });
  t.teardown(s.close);
  const a = await exchange(s.port, 'GET', '/a');
  t.is(a.err, undefined);
  t.is(a.head!.status, 200);
  t.is(md5(a.body), md5(big));
  const h = await exchange(s.port, 'HEAD', '/a');
  t.is(h.head!.header('content-length'), String(big.length));
  t.is(h.head!.header('x-a'), '1, 2');
  t.deepEqual(h.head!.rawHeaders, ['Content-Length', String(big.length), 'X-A', '1', 'X-A', '2']);
  t.is(h.body.length, 0);
  const d = await exchange(s.port, 'DELETE', '/a');
  t.is(d.head!.status, 204);
  const b = await exchange(s.port, 'GET', '/b', { pauseMs: 2 });
  t.is(md5(b.body), md5(big), 'paused after every piece, resumed later: all bytes in order');
  // That exchange asked to pause at its last piece too: the pooled connection must read the next answer.
  const c = await exchange(s.port, 'GET', '/c');
  t.is(md5(c.body), md5(big));
  t.is(s.conns(), 1, 'every exchange reused the one connection');
});

test('a head and chunk lines split byte by byte, 1xx interim heads, chunk extensions and trailers', async (t) => {
  const pieces = ['hello, ', 'chunked ', 'world'];
  const wire =
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n' +
    'HTTP/1.1 200 Fine\r\nTransfer-Encoding: chunked\r\nX-B: b\r\n\r\n' +
    pieces.map((p) => `${p.length.toString(16)};ext=1\r\n${p}\r\n`).join('') +
    '0\r\nX-Trailer: t\r\n\r\n';
  const s = await server((sock) => {
    let i = 0;
    const next = (): void => {
      if (i < wire.length) sock.write(wire[i++]!, () => setImmediate(next));
    };
    next();
  });
  t.teardown(s.close);
  const r = await exchange(s.port, 'GET', '/');
  t.is(r.err, undefined);
  t.is(r.head!.status, 200);
  t.is(r.head!.statusText, 'Fine');
  t.is(r.head!.header('x-b'), 'b');
  t.is(r.body.toString(), pieces.join(''));
  const again = await exchange(s.port, 'GET', '/');
  t.is(again.body.toString(), pieces.join(''));
  t.is(s.conns(), 1, 'the connection went back to the pool after the trailers');
});

test('a body that runs to the close ends the exchange; that connection is not reused', async (t) => {
  const s = await server((sock) => sock.end('HTTP/1.1 200 OK\r\n\r\nuntil the end'));
  t.teardown(s.close);
  const r = await exchange(s.port, 'GET', '/');
  t.is(r.err, undefined);
  t.is(r.body.toString(), 'until the end');
  await exchange(s.port, 'GET', '/');
  t.is(s.conns(), 2);
});

test('truncated, oversized and malformed answers fail the exchange; a reused connection closed unanswered is retryable', async (t) => {
  const s = await server((sock, head) => {
    const path = head.split(' ')[1];
    if (path === '/short') sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this');
    else if (path === '/huge') sock.write(`HTTP/1.1 200 OK\r\nX-Big: ${'h'.repeat(70 * 1024)}\r\n\r\n`);
    else if (path === '/badchunk') sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    else if (path === '/badstatus') sock.write('HTTX/1.1 200 OK\r\n\r\n');
    else if (path === '/hangup') sock.destroy();
    else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  });
  t.teardown(s.close);
  const short = await exchange(s.port, 'GET', '/short');
  t.regex(short.err!.message, /mid-response/);
  t.is(short.retryable, false, 'bytes of the answer had come');
  t.is(short.body.toString(), 'only this');
  t.regex((await exchange(s.port, 'GET', '/huge')).err!.message, /head over/);
  t.regex((await exchange(s.port, 'GET', '/badchunk')).err!.message, /chunk size/);
  t.regex((await exchange(s.port, 'GET', '/badstatus')).err!.message, /status line/);
  t.is((await exchange(s.port, 'GET', '/ok')).body.toString(), 'ok');
  const reused = await exchange(s.port, 'GET', '/hangup');
  t.truthy(reused.err);
  t.true(reused.retryable, 'a reused connection closed before any byte of the answer');
  const fresh = await exchange(s.port, 'GET', '/hangup');
  t.false(fresh.retryable, 'a new connection that fails is not retried');
  t.throws(() => new UpstreamRequest({ host: '127.0.0.1', port: s.port }, 'GET', '/', { 'x-evil': 'a\r\nx-injected: 1' }, {} as never, 1000), { message: /line break/ });
});

test('a request body of unknown length goes up chunked, in the pieces written', async (t) => {
  const s = await server((sock, head, body) => {
    const chunked = /transfer-encoding: chunked/i.test(head) ? 'chunked' : 'plain';
    sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${32 + 1 + chunked.length}\r\n\r\n${md5(body)} ${chunked}`);
  });
  t.teardown(s.close);
  const pieces = [crypto.randomBytes(70_000), crypto.randomBytes(1), crypto.randomBytes(300_000)];
  const r = await exchange(s.port, 'PUT', '/obj', { headers: { 'transfer-encoding': 'chunked' }, body: pieces });
  t.is(r.body.toString(), `${md5(Buffer.concat(pieces))} chunked`);
  const all = Buffer.concat(pieces);
  const p = await exchange(s.port, 'PUT', '/obj', { headers: { 'content-length': String(all.length) }, body: [all] });
  t.is(p.body.toString(), `${md5(all)} plain`);
});

test('bytes past the end of an answer: the answer stands, the connection is not pooled again', async (t) => {
  const s = await server((sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK'));
  t.teardown(s.close);
  const r = await exchange(s.port, 'GET', '/');
  t.is(r.err, undefined);
  t.is(r.body.toString(), 'ok');
  t.is((await exchange(s.port, 'GET', '/')).body.toString(), 'ok');
  t.is(s.conns(), 2);
});
