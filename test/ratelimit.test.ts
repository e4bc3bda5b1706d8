// Frontend rate limiting (src/proxy/ratelimit.ts): the GCRA limiter against a clock we drive (burst,
// steady rate, refill, the gateways' share, threads sharing one table, many buckets), intervals, and the
// rate_limit settings in bucket props and the cluster config.
import test from 'ava';
import { FrontendLimiter, RATE_LIMIT_BYTES, frontendLimit, parseInterval } from '../src/proxy/ratelimit';
import { defaultClusterConfig, newBucketProps, setBucketProps, setClusterConfig, type FrontendRateLimit } from '../src/cluster/config';

const LIM: FrontendRateLimit = { enabled: true, interval: '1s', max_tokens: 10, burst_size: 4 };
const T0 = 1_000_000_000_000n;
const ms = (n: number): bigint => T0 + BigInt(n * 1000);

function allowedAt(l: FrontendLimiter, n: number, at: bigint, lim = LIM, share = 1, bucket = 'b'): number {
  let ok = 0;
  for (let i = 0; i < n; i++) if (l.take(bucket, 'GET', lim, share, at) === 0) ok++;
  return ok;
}

test('a burst of burst_size + 1, then one request per emission interval', (t) => {
  const l = new FrontendLimiter(new SharedArrayBuffer(RATE_LIMIT_BYTES));
  t.is(allowedAt(l, 20, ms(0)), 5);
  const wait = l.take('b', 'GET', LIM, 1, ms(0));
  t.true(wait > 0 && wait <= 100, `wait ${wait} ms`);
  t.is(allowedAt(l, 5, ms(50)), 0, 'half an interval later: nothing yet');
  t.is(allowedAt(l, 5, ms(100)), 1, 'one emission interval (100 ms) later: one');
  let steady = 0;
  for (let at = 110; at <= 1100; at += 10) steady += allowedAt(l, 3, ms(at));
  t.is(steady, 10, 'at full demand, ten in the next second: max_tokens per interval');
  t.is(allowedAt(l, 50, ms(60_000)), 5, 'idle for long: the burst again, not more');
});

test('verbs and buckets have their own budgets; the share divides the rate', (t) => {
  const l = new FrontendLimiter(new SharedArrayBuffer(RATE_LIMIT_BYTES));
  t.is(allowedAt(l, 20, ms(0)), 5);
  t.is(l.take('b', 'PUT', LIM, 1, ms(0)), 0, 'PUT is another budget');
  t.is(allowedAt(l, 20, ms(0), LIM, 1, 'other'), 5);
  const two = new FrontendLimiter(new SharedArrayBuffer(RATE_LIMIT_BYTES));
  allowedAt(two, 20, ms(0), LIM, 2);
  let steady = 0;
  for (let at = 10; at <= 1000; at += 10) steady += allowedAt(two, 3, ms(at), LIM, 2);
  t.is(steady, 5, 'two gateways: five a second each');
});

test('two views of one table (two HTTP threads) draw from one budget', (t) => {
  const sab = new SharedArrayBuffer(RATE_LIMIT_BYTES);
  const a = new FrontendLimiter(sab);
  const b = new FrontendLimiter(sab);
  let ok = 0;
  for (let i = 0; i < 10; i++) ok += (a.take('b', 'GET', LIM, 1, ms(0)) === 0 ? 1 : 0) + (b.take('b', 'GET', LIM, 1, ms(0)) === 0 ? 1 : 0);
  t.is(ok, 5);
});

test('more bucket-verbs than slots: the table fills and lets requests through', (t) => {
  const l = new FrontendLimiter(new SharedArrayBuffer(RATE_LIMIT_BYTES));
  const tight = { ...LIM, burst_size: 0, max_tokens: 1, interval: '1h' };
  for (let i = 0; i < 1024; i++) t.is(l.take(`b${i}`, 'GET', tight, 1, ms(0)), 0);
  t.false(l.tableFull);
  t.true(l.take('b0', 'GET', tight, 1, ms(0)) > 0, 'a known bucket is still limited');
  t.is(l.take('one-too-many', 'GET', tight, 1, ms(0)), 0);
  t.true(l.tableFull);
});

test('intervals', (t) => {
  t.is(parseInterval('1m'), 60_000);
  t.is(parseInterval('10s'), 10_000);
  t.is(parseInterval('250ms'), 250);
  t.is(parseInterval('1.5h'), 5_400_000);
  for (const bad of ['', '1', 'm', '1d', '-1s', ' s']) t.true(Number.isNaN(parseInterval(bad)), bad);
});

test('bucket props override the cluster limit key by key; bad values are refused', (t) => {
  const conf = defaultClusterConfig();
  t.false(frontendLimit(conf, undefined).enabled);
  const props = setBucketProps(newBucketProps(conf), { rate_limit: { frontend: { enabled: 'true', max_tokens: '20' } } });
  t.deepEqual(props.rate_limit, { frontend: { enabled: true, max_tokens: 20 } });
  t.deepEqual(frontendLimit(conf, props), { enabled: true, interval: '1m', max_tokens: 20, burst_size: 375 });
  const conf2 = setClusterConfig(conf, { 'rate_limit.frontend.interval': '10s', 'rate_limit.frontend.burst_size': 7 });
  t.deepEqual(frontendLimit(conf2, props), { enabled: true, interval: '10s', max_tokens: 20, burst_size: 7 });
  t.throws(() => setBucketProps(props, { 'rate_limit.frontend.interval': '5 minutes' }), { message: /interval/ });
  t.throws(() => setBucketProps(props, { 'rate_limit.frontend.max_tokens': 0 }), { message: /at least 1/ });
  t.throws(() => setBucketProps(props, { 'rate_limit.frontend.burst_size': -1 }), { message: /whole number/ });
  t.throws(() => setClusterConfig(conf, { 'rate_limit.frontend.max_tokens': 'many' }), { message: /max_tokens/ });
  t.throws(() => setClusterConfig(conf, { 'rate_limit.frontend.rate': 1 }), { message: /unknown config/ });
});
