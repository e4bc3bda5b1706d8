#!/usr/bin/env node
// An ETL transformer to start from, speaking what a target speaks to it (AIStore's protocols):
//   GET /health         200 once it can work
//   WebSocket /ws       per object two binary messages, a control JSON {"path","etl_args"} and the bytes;
//                       the answer is one binary message with the result, in the order objects came
//   PUT /BUCKET/OBJECT  (hpush://) the bytes in, the result out; ?etl_args=...
// It listens on $PORT (a target that starts it sets one), or --port. Transforms:
//   upper    ASCII letters to upper case (the default)
//   md5      the object's MD5, as 32 hex characters (AIStore's "md5" example)
//   echo     the bytes unchanged
// etl_args, when given, is put in front of the result followed by ':'. --delay MS answers each object
// that much later (to see a target's obj_timeout at work).
//   node dist/src/etl/example-transformer.js md5 --port 8000
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { uws } from '../util/uws';

const { values, positionals } = parseArgs({ options: { port: { type: 'string' }, delay: { type: 'string' } }, allowPositionals: true });
const mode = positionals[0] ?? 'upper';
if (!['upper', 'md5', 'echo'].includes(mode)) {
  process.stderr.write(`unknown transform "${mode}" (upper, md5, echo)\n`);
  process.exit(2);
}
const port = Number(values.port ?? process.env.PORT ?? 8000);
const delay = Number(values.delay ?? 0);

function transform(data: Buffer, args: string | undefined): Buffer {
  let out: Buffer;
  if (mode === 'md5') out = Buffer.from(createHash('md5').update(data).digest('hex'));
  else if (mode === 'echo') out = data;
  else {
    out = Buffer.from(data);
    for (let i = 0; i < out.length; i++) if (out[i]! >= 0x61 && out[i]! <= 0x7a) out[i]! -= 0x20;
  }
  return args ? Buffer.concat([Buffer.from(`${args}:`), out]) : out;
}

const later = (fn: () => void): void => {
  if (delay > 0) setTimeout(fn, delay);
  else fn();
};

interface Conn {
  /** The control message of the object whose bytes come next. */
  ctrl?: { path?: string; etl_args?: string };
  closed: boolean;
}

uws
  .App()
  .get('/health', (res) => {
    res.end('Running');
  })
  .ws<Conn>('/ws', {
    maxPayloadLength: 1 << 30,
    maxBackpressure: 2 ** 31,
    idleTimeout: 0,
    upgrade: (res, req, ctx) => {
      res.upgrade<Conn>({ closed: false }, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), ctx);
    },
    message: (ws, msg) => {
      const c = ws.getUserData();
      if (!c.ctrl) {
        c.ctrl = JSON.parse(Buffer.from(msg).toString('utf8')) as Conn['ctrl'];
        return;
      }
      const out = transform(Buffer.from(msg.slice(0)), c.ctrl!.etl_args);
      c.ctrl = undefined;
      later(() => {
        if (!c.closed) ws.send(out, true);
      });
    },
    close: (ws) => {
      ws.getUserData().closed = true;
    },
  })
  .put('/*', (res, req) => {
    const args = req.getQuery('etl_args');
    const parts: Buffer[] = [];
    let aborted = false;
    res.onAborted(() => (aborted = true));
    res.onData((chunk, last) => {
      parts.push(Buffer.from(chunk.slice(0)));
      if (!last) return;
      const out = transform(Buffer.concat(parts), args);
      later(() => {
        if (!aborted) res.cork(() => res.end(out));
      });
    });
  })
  .listen('127.0.0.1', port, (sock) => {
    if (!sock) {
      process.stderr.write(`example-transformer: cannot listen on 127.0.0.1:${port}\n`);
      process.exit(1);
    }
    process.stdout.write(`example-transformer (${mode}) on 127.0.0.1:${port}\n`);
  });

// A target stops its transformer with SIGTERM: exit at once (uWS's loop would otherwise keep running).
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(0));
