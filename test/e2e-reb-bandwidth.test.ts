// End to end, rebalance bandwidth (`rebalance.bandwidth`, bytes per second a target sends at): a join
// with the limit set moves its objects no faster than the limit allows (the sender's counters: bytes
// moved over the time it ran), every object placed and intact; the key changes at run time through
// `ais config cluster`, and a bad value is refused.
import test from 'ava';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startClusterWithObjects, misplacedObjects, waitRebalanced, logNodesOnFailure, FAST_KEEPALIVE, type Cluster } from './helpers/cluster';
import { random, runScript, sha256, ROOT } from './helpers/node';

const B = 'rbw';
const MiB = 1 << 20;
const RATE = 4 * MiB;
const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');

let c: Cluster | undefined;
let s3: S3Client;
const sums = new Map<string, string>();

test.before(async () => {
  const items: [string, Buffer][] = Array.from({ length: 32 }, (_, i) => [`o/${String(i).padStart(2, '0')}`, random(MiB + i)]);
  for (const [k, v] of items) sums.set(k, sha256(v));
  ({ cluster: c, s3 } = await startClusterWithObjects({ targets: 1, name: 'rbw', config: { ...FAST_KEEPALIVE, rebalance: { enabled: true, bandwidth: RATE } } }, B, items));
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

test.serial('a join moves objects within the rebalance bandwidth; all placed and intact', async (t) => {
  await c!.addTarget();
  await c!.settle(2);
  const st = await waitRebalanced(c!);
  const sender = Object.values(st.targets).find((x) => (x.rebalance?.movedBytes ?? 0) > 0)?.rebalance;
  t.truthy(sender, 'the first target sent objects');
  const seconds = (sender!.ended! - sender!.started!) / 1000;
  // A second's worth may go at once, and each of the parallel sends has a chunk (1 MiB) on its way.
  const allowed = (sender!.movedBytes - RATE - 4 * MiB) / RATE;
  t.true(sender!.movedBytes >= 4 * MiB, `moved ${sender!.movedBytes} bytes (32 objects, about half move)`);
  t.true(seconds >= allowed, `${sender!.movedBytes} bytes in ${seconds} s: faster than ${RATE} bytes/s`);
  t.deepEqual(await misplacedObjects(c!, B, sums.keys()), []);
  for (const [k, sum] of sums) {
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: k }));
    t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sum, k);
  }
});

test.serial('rebalance.bandwidth changes at run time; a bad value is refused', async (t) => {
  const env = { AIS_ENDPOINT: c!.primary.url };
  let r = await runScript(AIS, ['config', 'cluster', 'rebalance.bandwidth=1048576'], { env });
  t.is(r.code, 0, r.stderr);
  r = await runScript(AIS, ['config', 'cluster', 'rebalance.bandwidth', '--json'], { env });
  t.regex(r.stdout, /1048576/);
  r = await runScript(AIS, ['config', 'cluster', 'rebalance.bandwidth=-5'], { env });
  t.not(r.code, 0);
  t.regex(r.stderr, /non-negative number/);
});
