// End to end, frontend rate limiting on a node (two HTTP threads, one budget): a bucket with
// rate_limit.frontend on refuses what is over its rate at once (S3: 503 SlowDown, native: 429) and
// lets the rest through; other buckets and verbs are not touched; the AWS SDK, unmodified, rides the
// limit out with its own retries; the cluster config turns it on for every bucket without its own.
import test from 'ava';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startNode, request, xmlCode, sleep, type AisNode } from './helpers/node';

let node: AisNode;

async function setProps(bucket: string, value: unknown): Promise<void> {
  const body = JSON.stringify({ action: 'set-bprops', value });
  const r = await request(node.url, { method: 'PATCH', path: `/v1/buckets/${bucket}`, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }, body });
  if (r.status !== 200) throw new Error(`set-bprops ${bucket}: ${r.status} ${r.body.toString()}`);
}

/** `n` GETs of bucket/obj, `conc` at a time over fresh connections: statuses, and the seconds it took. */
async function burst(path: string, n: number, conc: number): Promise<{ codes: number[]; bodies: string[]; secs: number }> {
  const codes: number[] = [];
  const bodies: string[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) {
        next++;
        const r = await request(node.url, { method: 'GET', path });
        codes.push(r.status);
        if (r.status !== 200) bodies.push(r.body.toString());
      }
    }),
  );
  return { codes, bodies, secs: (performance.now() - t0) / 1000 };
}

test.before(async () => {
  node = await startNode({ name: 'ratelimit' });
  for (const b of ['limited', 'free']) {
    const r = await request(node.url, { method: 'PUT', path: `/s3/${b}` });
    if (r.status !== 200) throw new Error(`create ${b}: ${r.status}`);
    await request(node.url, { method: 'PUT', path: `/s3/${b}/obj`, body: 'hello', headers: { 'Content-Length': 5 } });
  }
  await setProps('limited', { rate_limit: { frontend: { enabled: true, interval: '1s', max_tokens: 20, burst_size: 4 } } });
});

test.after.always(async () => {
  await node?.stop();
});

test.serial('S3: over the rate is 503 SlowDown at once, the rest goes through; other buckets are free', async (t) => {
  const { codes, bodies, secs } = await burst('/s3/limited/obj', 120, 6);
  const ok = codes.filter((c) => c === 200).length;
  const slow = codes.filter((c) => c === 503).length;
  t.is(ok + slow, 120, `only 200 and 503: ${[...new Set(codes)].join(',')}`);
  // GCRA: the burst (4 + 1) plus 20 a second over the run, whichever thread took the connection.
  t.true(ok >= 5 && ok <= 5 + Math.ceil(20 * secs) + 1, `${ok} allowed in ${secs.toFixed(2)} s`);
  t.true(slow > 0);
  t.is(xmlCode(bodies[0]!), 'SlowDown');
  t.regex(bodies[0]!, /rate_limit\.frontend/);
  const free = await burst('/s3/free/obj', 60, 6);
  t.deepEqual([...new Set(free.codes)], [200]);
  // The PUT budget is another one: still whole.
  const put = await request(node.url, { method: 'PUT', path: '/s3/limited/put-1', body: 'x', headers: { 'Content-Length': 1 } });
  t.is(put.status, 200);
  await sleep(300);
  t.is((await request(node.url, { method: 'GET', path: '/s3/limited/obj' })).status, 200, 'after a pause a request goes again');
});

test.serial('native API: 429 with the bucket named', async (t) => {
  await sleep(400);
  const { codes, bodies } = await burst('/v1/objects/limited/obj', 60, 6);
  t.true(codes.includes(200));
  t.true(codes.includes(429));
  t.regex(JSON.parse(bodies[0]!).message, /ais:\/\/limited.*rate_limit\.frontend/);
});

test.serial('the SDK backs off on SlowDown and every PUT lands', async (t) => {
  await sleep(400);
  // The SDK's own retry of SlowDown (exponential backoff with jitter), six attempts.
  const s3 = new S3Client({ endpoint: node.s3url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 6 });
  let retried = 0;
  try {
    // 12 PUTs at once against 20/s with a burst of 5: several are refused at first and retried.
    const outs = await Promise.all(Array.from({ length: 12 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: 'limited', Key: `sdk-${i}`, Body: `body ${i}` }))));
    retried = outs.filter((o) => (o.$metadata.attempts ?? 1) > 1).length;
  } finally {
    s3.destroy();
  }
  t.true(retried > 0, 'some PUTs needed a retry');
  await sleep(1000);
  for (const i of [0, 7, 11]) {
    const got = await request(node.url, { method: 'GET', path: `/v1/objects/limited/sdk-${i}` });
    t.is(got.status, 200);
    t.is(got.body.toString(), `body ${i}`);
    await sleep(100);
  }
});

test.serial('the cluster config limits every bucket without its own setting', async (t) => {
  const on = await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?rate_limit.frontend.enabled=true&rate_limit.frontend.interval=1s&rate_limit.frontend.max_tokens=10&rate_limit.frontend.burst_size=2' });
  t.is(on.status, 200, on.body.toString());
  try {
    const { codes } = await burst('/s3/free/obj', 40, 4);
    const ok = codes.filter((c) => c === 200).length;
    t.true(ok >= 3 && ok < 20, `${ok} allowed`);
    t.true(codes.includes(503));
    const bad = await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?rate_limit.frontend.interval=soon' });
    t.is(bad.status, 400);
  } finally {
    await request(node.url, { method: 'PUT', path: '/v1/cluster/set-config?rate_limit.frontend.enabled=false' });
  }
  await sleep(300);
  t.deepEqual([...new Set((await burst('/s3/free/obj', 30, 4)).codes)], [200]);
});
