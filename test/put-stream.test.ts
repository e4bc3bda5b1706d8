// PutStream (target/put.ts) on a stand-in target: real buffer pool, budget, files and final task, no
// HTTP. What is checked here is hard to reach from a socket: a body spread over many queued writes
// lands in order, and an upload that fails while buffers wait behind its one write in flight (or
// behind the open of its work file) gives every buffer back and leaves no work file.
import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutSlab } from '../src/target/slab';
import { PutBudget } from '../src/target/put-budget';
import { PutStream, type PutError, type PutParams } from '../src/target/put';
import { putChunk, type PutChunkTask } from '../src/workers/put-chunk';
import { loadLomPath, type Lom } from '../src/fs/lom';
import type { Target } from '../src/target/target';
import type { HttpResponse } from '../src/util/uws';
import type { Req } from '../src/api/http';

const BUF = 64 * 1024;

interface Rig {
  target: Target;
  budget: PutBudget;
  dir: string;
  obj: string;
  work: () => string[];
  pauses: { n: number };
}

function rig(t: { teardown(fn: () => void): void }, opts: { direct?: boolean; fsync?: boolean } = {}): Rig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-put-stream-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'wk'));
  const budget = new PutBudget(1000);
  let n = 0;
  const target = {
    mountpathFor: () => ({ path: dir, direct: opts.direct ?? false }),
    objectFile: () => path.join(dir, 'ob', 'obj'),
    workFile: () => path.join(dir, 'wk', `put.${++n}`),
    putBufs: new PutSlab(BUF, 16),
    putBudget: budget,
    pool: { run: async (task: PutChunkTask) => putChunk(task) },
    config: { io: { fsync_put: opts.fsync ?? true } },
  } as unknown as Target;
  return { target, budget, dir, obj: path.join(dir, 'ob', 'obj'), work: () => fs.readdirSync(path.join(dir, 'wk')), pauses: { n: 0 } };
}

function upload(r: Rig, size: number): { stream: PutStream; done: Promise<{ err?: PutError; lom?: Lom }> } {
  const res = { pause: () => r.pauses.n++, resume: () => {} } as unknown as HttpResponse;
  const req = { aborted: false } as unknown as Req;
  const params = { bucket: 'b', objName: 'obj', props: { checksum: { type: 'xxhash', md5_etag: true } }, size } as unknown as PutParams;
  let stream!: PutStream;
  const done = new Promise<{ err?: PutError; lom?: Lom }>((resolve) => {
    stream = new PutStream(r.target, res, req, params, (err, lom) => resolve({ err, lom }));
  });
  return { stream, done };
}

/** Waits (bounded) until `ok()`; the libuv pool finishes what was in flight meanwhile. */
async function until(ok: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

test('a body of many buffers, all queued at once, lands in order with its MD5', async (t) => {
  const r = rig(t);
  const body = crypto.randomBytes(37 * BUF + 1234);
  const { stream, done } = upload(r, body.length);
  // Odd chunk sizes, all handed over before any write completes: the queue holds most buffers and
  // they go out in several pwritev batches.
  for (let off = 0; off < body.length; off += 50_001) stream.onData(body.subarray(off, Math.min(body.length, off + 50_001)), off + 50_001 >= body.length);
  const { err, lom } = await done;
  t.is(err, undefined);
  t.is(lom!.size, body.length);
  t.is(lom!.md5, crypto.createHash('md5').update(body).digest('hex'));
  t.true(fs.readFileSync(r.obj).equals(body));
  t.is(loadLomPath(r.obj)!.md5, lom!.md5);
  t.true(r.pauses.n > 0, 'the socket was paused with 16 buffers in flight');
  t.true(await until(() => r.budget.inFlight === 0));
  t.deepEqual(r.work(), []);
});

test('failed while its work file opens, with buffers queued: every buffer comes back, no work file', async (t) => {
  const r = rig(t);
  const body = crypto.randomBytes(12 * BUF);
  const { stream, done } = upload(r, 20 * BUF);
  stream.onData(body, false);
  t.is(r.budget.inFlight, 12);
  stream.abort('InvalidRequest', 'test: the body is bad');
  t.is((await done).err?.code, 'InvalidRequest');
  t.true(await until(() => r.budget.inFlight === 0), `in flight: ${r.budget.inFlight}`);
  t.true(await until(() => r.work().length === 0), `work files: ${r.work().join(' ')}`);
  t.false(fs.existsSync(r.obj));
});

test('failed during a write with more buffers queued behind it: every buffer comes back, no work file', async (t) => {
  const r = rig(t);
  const body = crypto.randomBytes(12 * BUF);
  const { stream, done } = upload(r, 20 * BUF);
  stream.onData(body, false);
  // The open's callback starts the first pwritev (8 buffers) and leaves 4 queued; fail right then
  // (peeking at the stream's private state: from outside the moment is a matter of microseconds).
  const s = stream as unknown as { writing: boolean; toWrite: unknown[] };
  for (let i = 0; i < 100_000 && !(s.writing && s.toWrite.length > 0); i++) await new Promise((res) => setImmediate(res));
  t.true(s.writing && s.toWrite.length === 4, 'one pwritev in flight, 4 buffers behind it');
  stream.abort('InvalidRequest', 'test: the body is bad');
  t.is((await done).err?.code, 'InvalidRequest');
  t.true(await until(() => r.budget.inFlight === 0), `in flight: ${r.budget.inFlight}`);
  t.true(await until(() => r.work().length === 0), `work files: ${r.work().join(' ')}`);
  t.false(fs.existsSync(r.obj));
});

/** The open flags (octal, from /proc) of this process's fd on `file`, or undefined when none is open. */
function openFlags(file: string): number | undefined {
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== file) continue;
    const m = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    if (m) return parseInt(m[1], 8);
  }
  return undefined;
}

for (const fsync of [true, false]) {
  test(`O_DIRECT ${fsync ? 'with' : 'without'} fsync_put: large writes skip the page cache only when they are fsynced`, async (t) => {
    const r = rig(t, { direct: true, fsync });
    // The tmp dir's file system must take O_DIRECT for this to say anything (tmpfs does not).
    const probe = path.join(r.dir, 'probe');
    try {
      fs.closeSync(fs.openSync(probe, fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_DIRECT));
    } catch {
      t.log(`${r.dir} does not take O_DIRECT: nothing to check`);
      t.pass();
      return;
    }
    const body = crypto.randomBytes(8 * BUF);
    const { stream, done } = upload(r, body.length);
    stream.onData(body.subarray(0, 4 * BUF), false);
    const workFile = (): string => path.join(r.dir, 'wk', r.work()[0] ?? '-');
    t.true(await until(() => openFlags(workFile()) !== undefined), 'the work file is open');
    const flags = openFlags(workFile())!;
    t.is((flags & fs.constants.O_DIRECT) !== 0, fsync);
    stream.onData(body.subarray(4 * BUF), true);
    const { err } = await done;
    t.is(err, undefined);
    t.true(fs.readFileSync(r.obj).equals(body));
  });
}
