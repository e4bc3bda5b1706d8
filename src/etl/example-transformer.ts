#!/usr/bin/env node
// An ETL transformer to start from, speaking what a target speaks to it (AIStore's protocols):
//   GET /health         200 once it can work
//   WebSocket /ws       per object two binary messages, a control JSON {"path","etl_args"} and the bytes;
//                       the answer is one binary message with the result, in the order objects came;
//                       a control message with "fqn" (an ETL with argument "fqn") has no bytes after
//                       it: the object is read from that file (its path URL-escaped)
//   PUT /BUCKET/OBJECT  (hpush://) the bytes in, the result out; ?etl_args=...; ?etl_fqn=PATH: no bytes,
//                       read the file
// It listens on $PORT (a target that starts it sets one), or --port. Transforms:
//   upper    ASCII letters to upper case (the default)
//   md5      the object's MD5, as 32 hex characters (AIStore's "md5" example)
//   echo     the bytes unchanged
//   path     the file path the target gave (argument "fqn"), "-" when it sent the bytes
// etl_args, when given, is put in front of the result followed by ':'. --delay MS answers each object
// that much later (to see a target's obj_timeout at work).
//   node dist/src/etl/example-transformer.js md5 --port 8000
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { uws } from '../util/uws';

const { values, positionals } = parseArgs({ options: { port: { type: 'string' }, delay: { type: 'string' } }, allowPositionals: true });
const mode = positionals[0] ?? 'upper';
if (!['upper', 'md5', 'echo', 'path'].includes(mode)) {
  process.stderr.write(`unknown transform "${mode}" (upper, md5, echo, path)\n`);
  process.exit(2);
}
const port = Number(values.port ?? process.env.PORT ?? 8000);
const delay = Number(values.delay ?? 0);

/** The object's bytes: as sent, or read from the file a target named (escaped path). */
function input(data: Buffer | undefined, fqn: string | undefined): Buffer {
  return fqn ? fs.readFileSync(decodeURIComponent(fqn)) : data!;
}

function transform(data: Buffer, args: string | undefined, fqn?: string): Buffer {
  let out: Buffer;
  if (mode === 'path') out = Buffer.from(fqn ? decodeURIComponent(fqn) : '-');
  else if (mode === 'md5') out = Buffer.from(createHash('md5').update(data).digest('hex'));
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
  ctrl?: { path?: string; etl_args?: string; fqn?: string };
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
      let out: Buffer;
      if (!c.ctrl) {
        const ctrl = JSON.parse(Buffer.from(msg).toString('utf8')) as NonNullable<Conn['ctrl']>;
        if (!ctrl.fqn) return void (c.ctrl = ctrl); // the bytes come next
        try {
          out = transform(input(undefined, ctrl.fqn), ctrl.etl_args, ctrl.fqn);
        } catch (err) {
          // A text answer is an error to the target (it never asks for direct put).
          return void later(() => !c.closed && ws.send(`Transform error: ${(err as Error).message}`, false));
        }
      } else {
        out = transform(Buffer.from(msg.slice(0)), c.ctrl.etl_args);
        c.ctrl = undefined;
      }
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
    const fqn = req.getQuery('etl_fqn') || undefined;
    const parts: Buffer[] = [];
    let aborted = false;
    res.onAborted(() => (aborted = true));
    res.onData((chunk, last) => {
      parts.push(Buffer.from(chunk.slice(0)));
      if (!last) return;
      const out = transform(input(Buffer.concat(parts), fqn), args, fqn);
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
