// The ETL init message (etl/spec.ts), the copy/transform-bucket message and names (xact/tcb.ts), and
// AIStore's bck_to unames (api/xactions.ts): what is accepted, what is refused and why.
import test from 'ava';
import { parseSpec, specJson, INIT_TIMEOUT_MS, OBJ_TIMEOUT_MS } from '../src/etl/spec';
import { dstName, validateTcb } from '../src/xact/tcb';
import { parseBckTo } from '../src/api/xactions';
import { ByteBudget } from '../src/etl/budget';

test('a runtime spec: argv or a shell line, env as AIStore list or object, Go-duration timeouts', (t) => {
  const a = parseSpec({ name: 'md5-sums', runtime: { command: ['python3', 'server.py'], env: [{ name: 'MODE', value: 'fast' }] } });
  t.deepEqual(a, { name: 'md5-sums', communication: 'ws://', runtime: { command: ['python3', 'server.py'], env: { MODE: 'fast' } }, initTimeoutMs: INIT_TIMEOUT_MS, objTimeoutMs: OBJ_TIMEOUT_MS });
  const b = parseSpec({ name: 'shell-one', communication: 'hpush://', runtime: { command: 'node t.js --port $PORT', env: { A: 1 } }, init_timeout: '2m', obj_timeout: 5_000_000_000 });
  t.deepEqual(b.runtime, { command: ['sh', '-c', 'node t.js --port $PORT'], env: { A: '1' } });
  t.is(b.communication, 'hpush://');
  t.is(b.initTimeoutMs, 120_000);
  t.is(b.objTimeoutMs, 5000); // nanoseconds, as Go's JSON has them
  t.is(parseSpec({ name: 'remote-one', endpoint: 'http://10.0.0.5:8000/' }).endpoint, 'http://10.0.0.5:8000');
  t.is(parseSpec({ name: 'remote-one', endpoint: 'ws://h:1' }).endpoint, 'http://h:1');
  // AIStore's argument: "" (bytes, the default) or "fqn" (the file's path), kept in the spec as shown.
  t.is(parseSpec({ name: 'by-bytes', runtime: { command: ['x'] }, argument: '' }).argument, undefined);
  const f = parseSpec({ name: 'by-path', runtime: { command: ['x'] }, argument: 'fqn' });
  t.is(f.argument, 'fqn');
  t.is(specJson(f).argument, 'fqn');
});

test('refused specs say why', (t) => {
  const bad = (spec: unknown, re: RegExp): void => {
    t.throws(() => parseSpec(spec), { message: re }, JSON.stringify(spec));
  };
  bad(null, /JSON object/);
  bad({ name: 'Upper', runtime: { command: ['x'] } }, /invalid ETL name/);
  bad({ name: 'short', runtime: { command: ['x'] } }, /invalid ETL name/);
  bad({ name: '-leading', runtime: { command: ['x'] } }, /invalid ETL name/);
  bad({ name: 'a'.repeat(33), runtime: { command: ['x'] } }, /invalid ETL name/);
  bad({ name: 'pull-one', communication: 'hpull://', runtime: { command: ['x'] } }, /hpull:\/\/ is not supported/);
  bad({ name: 'grpc-one', communication: 'grpc://', runtime: { command: ['x'] } }, /unknown communication/);
  bad({ name: 'image-one', runtime: { image: 'aistore/md5' } }, /not containers/);
  bad({ name: 'pod-spec1', spec: 'YXBpVmVyc2lvbg==' }, /pod specs/);
  bad({ name: 'both-ways', runtime: { command: ['x'] }, endpoint: 'http://h:1' }, /exactly one/);
  bad({ name: 'none-given' }, /exactly one/);
  bad({ name: 'empty-cmd', runtime: { command: [] } }, /non-empty list/);
  bad({ name: 'bad-env-1', runtime: { command: ['x'], env: { 'A-B': 'v' } } }, /runtime.env/);
  bad({ name: 'bad-endp1', endpoint: 'http://h:1/path' }, /endpoint must be/);
  bad({ name: 'bad-endp2', endpoint: 'not a url' }, /not a URL/);
  bad({ name: 'fqn-arg-1', runtime: { command: ['x'] }, argument: 'url' }, /"" \(the object's bytes are sent to the transformer\) or "fqn"/);
  bad({ name: 'bad-timeo', runtime: { command: ['x'] }, obj_timeout: '10 parsecs' }, /obj_timeout/);
  bad({ name: 'long-time', runtime: { command: ['x'] }, init_timeout: '2h' }, /between 1ms and 1h/);
});

test('copy/transform-bucket message: what tais acts on, what it refuses', (t) => {
  t.deepEqual(validateTcb({ prefix: 'a/', prepend: 'b/', dry_run: true, 'num-workers': 8, ext: { jpg: 'png' } }, 'copy-bucket'), { prefix: 'a/', prepend: 'b/', dry_run: true, 'num-workers': 8, ext: { jpg: 'png' } });
  t.deepEqual(validateTcb(undefined, 'copy-bucket'), {});
  t.deepEqual(validateTcb({ id: 'upper-case', etl_args: 'x' }, 'etl-bucket'), { id: 'upper-case', etl_args: 'x' });
  t.throws(() => validateTcb({}, 'etl-bucket'), { message: /needs the ETL name/ });
  t.throws(() => validateTcb({ id: 'upper-case' }, 'copy-bucket'), { message: /is etl-bck/ });
  t.throws(() => validateTcb({ 'latest-ver': true }, 'copy-bucket'), { message: /not supported/ });
  t.throws(() => validateTcb({ 'num-workers': 65 }, 'copy-bucket'), { message: /1\.\.64/ });
  t.throws(() => validateTcb({ ext: { jpg: '' } }, 'copy-bucket'), { message: /ext must map/ });
  t.throws(() => validateTcb({ prefix: 3 }, 'copy-bucket'), { message: /prefix must be a string/ });
});

test('destination names: ext replaced only at the end of the base name, then prepend', (t) => {
  t.is(dstName('a/b.jpg', { ext: { jpg: 'png' } }), 'a/b.png');
  t.is(dstName('a.jpg/b', { ext: { jpg: 'png' } }), 'a.jpg/b');
  t.is(dstName('a/b.tar.gz', { ext: { gz: 'zst' }, prepend: 'x/' }), 'x/a/b.tar.zst');
  t.is(dstName('a/b.txt', { ext: { jpg: 'png' } }), 'a/b.txt');
  t.is(dstName('k', {}), 'k');
});

test("bck_to: AIStore's unames and a bare name", (t) => {
  t.deepEqual(parseBckTo('ais/@#/dst/'), { name: 'dst', provider: 'ais' });
  t.deepEqual(parseBckTo('aws/@#/remote'), { name: 'remote', provider: 'aws' });
  t.deepEqual(parseBckTo('dst'), { name: 'dst', provider: 'ais' });
  t.throws(() => parseBckTo(null), { message: /missing the destination/ });
  t.throws(() => parseBckTo('gcp/@#/x/'), { message: /invalid bck_to/ });
  t.throws(() => parseBckTo('ais/@uuid#ns/x/'), { message: /namespaces/ });
});

test('the ETL byte budget: waits over the limit, first come first served, one object over the limit alone', async (t) => {
  const b = new ByteBudget(100);
  const r1 = await b.take(60);
  const order: string[] = [];
  const p2 = b.take(50).then((r) => (order.push('50'), r));
  const p3 = b.take(10).then((r) => (order.push('10'), r)); // fits, but waits behind the 50
  await new Promise((r) => setTimeout(r, 10));
  t.deepEqual(order, []);
  t.is(b.inUse, 60);
  r1();
  const [r2, r3] = await Promise.all([p2, p3]);
  t.deepEqual(order, ['50', '10']);
  t.is(b.inUse, 60);
  r2();
  r3();
  r3(); // a second release changes nothing
  t.is(b.inUse, 0);
  const big = await b.take(500); // larger than the budget: granted when nothing else is held
  t.is(b.inUse, 500);
  const small = b.take(1);
  let got = false;
  void small.then(() => (got = true));
  await new Promise((r) => setTimeout(r, 10));
  t.false(got);
  big();
  (await small)();
  t.is(b.inUse, 0);
});
