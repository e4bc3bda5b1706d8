// A handler that throws from a uWS callback is contained to its request (api/http.ts captureRequest):
// the error does not escape into uWS (which would take the HTTP thread and the node down), the one
// connection is closed, the handler's onAbort runs once, and handlers that do not throw see their data.
// uWS's response and request are stood in for by objects with the same methods.
import test from 'ava';
import { captureRequest } from '../src/api/http';
import type { HttpRequest, HttpResponse } from '../src/util/uws';

function fakes() {
  const f = {
    aborted: undefined as (() => void) | undefined,
    data: undefined as ((chunk: ArrayBuffer, isLast: boolean) => void) | undefined,
    writable: undefined as ((offset: number) => boolean) | undefined,
    closes: 0,
  };
  const res = {
    onAborted(h: () => void) {
      f.aborted = h;
      return res;
    },
    onData(h: (chunk: ArrayBuffer, isLast: boolean) => void) {
      f.data = h;
      return res;
    },
    onWritable(h: (offset: number) => boolean) {
      f.writable = h;
      return res;
    },
    close() {
      f.closes++;
      f.aborted?.(); // uWS runs onAborted on close()
      return res;
    },
  };
  const req = { forEach: (cb: (k: string, v: string) => void) => cb('host', 'h'), getMethod: () => 'put', getUrl: () => '/s3/b/k', getQuery: () => '' };
  return { f, res: res as unknown as HttpResponse, req: req as unknown as HttpRequest };
}

test('a throwing onData handler closes its connection once and runs onAbort; nothing escapes', (t) => {
  const { f, res, req } = fakes();
  const r = captureRequest(res, req);
  let aborts = 0;
  r.onAbort = () => aborts++;
  res.onData(() => {
    throw new Error('boom');
  });
  t.notThrows(() => f.data!(new ArrayBuffer(4), false));
  t.notThrows(() => f.data!(new ArrayBuffer(0), true));
  t.is(f.closes, 1);
  t.true(r.aborted);
  t.is(aborts, 1);
});

test('a throwing onWritable handler: contained, the connection closed, "done" answered', (t) => {
  const { f, res, req } = fakes();
  const r = captureRequest(res, req);
  res.onWritable(() => {
    throw new TypeError('bad offset');
  });
  t.true(f.writable!(10));
  t.is(f.closes, 1);
  t.true(r.aborted);
});

test('handlers that do not throw get every piece and their own answers', (t) => {
  const { f, res, req } = fakes();
  const r = captureRequest(res, req);
  const seen: [number, boolean][] = [];
  res.onData((chunk, isLast) => seen.push([chunk.byteLength, isLast]));
  res.onWritable((offset) => offset > 5);
  f.data!(new ArrayBuffer(3), false);
  f.data!(new ArrayBuffer(2), true);
  t.deepEqual(seen, [
    [3, false],
    [2, true],
  ]);
  t.false(f.writable!(1));
  t.true(f.writable!(9));
  t.is(f.closes, 0);
  t.false(r.aborted);
});
