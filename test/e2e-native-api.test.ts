// The native /v1 API against a real cluster (one proxy, two targets): buckets, objects on their HRW
// owners, list-objects pages as JSON and as msgpack (decoded with msgpackr, key by key), config,
// errors as JSON, and 501 at once for what is not served.
import test from 'ava';
import { unpack } from 'msgpackr';
import { startCluster, type Cluster } from './helpers/cluster';
import { request, md5, random } from './helpers/node';

let c: Cluster;
const B = 'nat';

// node:http frames a GET or DELETE body only with an explicit Content-Length.
const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const h = text === undefined ? headers : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers };
  return request(c.primary.url, { method, path, headers: h, body: text });
};
const json = (b: Buffer): Record<string, unknown> => JSON.parse(b.toString()) as Record<string, unknown>;

test.before(async () => {
  c = await startCluster({ proxies: 1, targets: 2, name: 'nat' });
  const r = await call('POST', `/v1/buckets/${B}`, { action: 'create-bck' });
  if (r.status !== 200) throw new Error(`create: ${r.status} ${r.body.toString()}`);
});

test.after.always(async () => {
  await c?.stop();
});

test.serial('objects: PUT/GET/HEAD/DELETE with Ais-* headers, Range, end-to-end checksum', async (t) => {
  const body = random(3000);
  let r = await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/dir/a.bin`, body, headers: { 'Ais-Custom-Md': 'k=v' } });
  t.is(r.status, 200, r.body.toString());
  t.is(r.headers['ais-checksum-type'], 'xxhash');
  const xx = String(r.headers['ais-checksum-value']);
  t.regex(xx, /^[0-9a-f]{16}$/);

  r = await call('GET', `/v1/objects/${B}/dir/a.bin`);
  t.is(r.status, 200);
  t.deepEqual(r.body, body);
  t.is(r.headers['ais-checksum-value'], xx);
  t.regex(String(r.headers['ais-atime']), /^\d{19}$/);
  t.is(r.headers['ais-custom-md'], 'k=v');
  r = await call('HEAD', `/v1/objects/${B}/dir/a.bin`);
  t.is(r.status, 200);
  t.is(r.headers['content-length'], '3000');
  t.is(r.headers['ais-name'], 'dir/a.bin');
  t.regex(String(r.headers['ais-location']), /^t\[/);
  r = await call('GET', `/v1/objects/${B}/dir/a.bin`, undefined, { Range: 'bytes=10-19' });
  t.is(r.status, 206);
  t.deepEqual(r.body, body.subarray(10, 20));
  t.is(r.headers['content-range'], 'bytes 10-19/3000');
  r = await call('GET', `/v1/objects/${B}/dir/a.bin`, undefined, { Range: 'bytes=5000-' });
  t.is(r.status, 416);

  // End-to-end: a checksum the client computed is checked before the object is stored.
  r = await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/e2e`, body, headers: { 'Ais-Checksum-Type': 'xxhash', 'Ais-Checksum-Value': xx } });
  t.is(r.status, 200);
  r = await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/e2e-bad`, body, headers: { 'Ais-Checksum-Type': 'md5', 'Ais-Checksum-Value': '0'.repeat(32) } });
  t.is(r.status, 400);
  t.regex(String(json(r.body).message), /BAD DATA CHECKSUM/);
  t.is((await call('HEAD', `/v1/objects/${B}/e2e-bad`)).status, 404);
  r = await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/e2e-bad`, body, headers: { 'Ais-Checksum-Type': 'sha512', 'Ais-Checksum-Value': 'ab' } });
  t.is(r.status, 400);

  r = await call('GET', `/v1/objects/${B}/nothing`);
  t.is(r.status, 404);
  t.deepEqual(json(r.body), { message: `object "ais://${B}/nothing" does not exist`, status: 404 });
  r = await call('GET', '/v1/objects/nobucket/x');
  t.deepEqual(json(r.body), { message: 'bucket "ais://nobucket" does not exist', status: 404 });
  t.is((await call('DELETE', `/v1/objects/${B}/e2e`)).status, 200);
  t.is((await call('DELETE', `/v1/objects/${B}/e2e`)).status, 404);
});

test.serial('buckets: list, HEAD props, set-bprops / reset-bprops, errors', async (t) => {
  let r = await call('GET', '/v1/buckets/', { action: 'list' });
  t.is(r.status, 200);
  t.deepEqual(JSON.parse(r.body.toString()), [{ name: B, provider: 'ais', namespace: { uuid: '', name: '' } }]);
  r = await call('PATCH', `/v1/buckets/${B}`, { action: 'set-bprops', value: { checksum: { type: 'sha256' } } });
  t.is(r.status, 200);
  for (const n of c.targets) {
    const h = await request(n.url, { method: 'HEAD', path: `/v1/buckets/${B}` });
    t.is((JSON.parse(String(h.headers['ais-bucket-props'])) as { checksum: { type: string } }).checksum.type, 'sha256');
  }
  r = await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/sha`, body: 'abc' });
  t.is(r.headers['ais-checksum-type'], 'sha256');
  t.is(r.headers['ais-checksum-value'], 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  r = await call('PATCH', `/v1/buckets/${B}`, { action: 'set-bprops', value: { checksum: { type: 'crc64' } } });
  t.is(r.status, 400);
  t.regex(String(json(r.body).message), /valid: xxhash, md5, sha256, sha512, crc32c, none/);
  r = await call('PATCH', `/v1/buckets/${B}`, { action: 'reset-bprops' });
  t.is((json(r.body).checksum as { type: string }).type, 'xxhash');
  t.is((await call('HEAD', '/v1/buckets/nobucket')).status, 404);
  r = await call('POST', `/v1/buckets/${B}`, { action: 'create-bck' });
  t.is(r.status, 409);
  r = await call('POST', '/v1/buckets/bad*name', { action: 'create-bck' });
  t.is(r.status, 400);
  r = await call('POST', `/v1/buckets/${B}`, { action: 'copy-bck' });
  t.is(r.status, 400);
  r = await call('POST', `/v1/buckets/${B}`, 'not json');
  t.is(r.status, 400);
  r = await call('GET', `/v1/buckets/${B}?provider=aws`, { action: 'list' });
  t.is(r.status, 404); // names are unique across providers: there is ais://B, not s3://B
  t.regex(String(json(r.body).message), /bucket "s3:\/\/[^"]+" \(there is "ais:\/\//);
  r = await call('GET', `/v1/buckets/${B}?provider=bogus`, { action: 'list' });
  t.is(r.status, 400);
});

test.serial('list objects in pages: JSON, and msgpack with AIStore keys decoded key by key', async (t) => {
  const names = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(3, '0')}`);
  for (const n of names) t.is((await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/${n}`, body: n })).status, 200);
  // JSON pages of 10, continued with uuid + continuation_token.
  const seen: string[] = [];
  let token = '';
  let uuid = '';
  let pages = 0;
  do {
    const r = await call('GET', `/v1/buckets/${B}`, { action: 'list', value: { prefix: 'p/', pagesize: 10, props: 'name,size,checksum', continuation_token: token, uuid } });
    t.is(r.status, 200);
    const page = json(r.body) as { uuid: string; continuation_token: string; entries: { name: string; size: string; checksum: string; flags: number }[] };
    if (uuid) t.is(page.uuid, uuid);
    uuid = page.uuid;
    token = page.continuation_token;
    for (const e of page.entries) {
      t.is(e.size, String(e.name.length)); // JSON writes size as a string, as AIStore does
      t.regex(e.checksum, /^[0-9a-f]{16}$/);
      t.is(e.flags, 64);
      seen.push(e.name);
    }
    pages++;
  } while (token !== '');
  t.is(pages, 3);
  t.deepEqual(seen, names);

  const r = await call('GET', `/v1/buckets/${B}`, { action: 'list', value: { prefix: 'p/', pagesize: 2, props: 'name,size,checksum,atime' } }, { Accept: 'application/msgpack' });
  t.is(r.status, 200);
  t.is(r.headers['content-type'], 'application/msgpack');
  const m = unpack(r.body) as Record<string, unknown>;
  t.deepEqual(Object.keys(m), ['UUID', 'ContinuationToken', 'Entries', 'Flags']);
  t.is(typeof m.UUID, 'string');
  t.is(m.ContinuationToken, 'p/001');
  t.is(m.Flags, 0);
  const entries = m.Entries as Record<string, unknown>[];
  t.is(entries.length, 2);
  const e = entries[0]!;
  t.deepEqual(Object.keys(e), ['n', 'cs', 'a', 'v', 't', 'm', 's', 'c', 'f']);
  t.is(e.n, 'p/000');
  t.regex(String(e.cs), /^[0-9a-f]{16}$/);
  t.regex(String(e.a), /^\d\d [A-Z][a-z]{2} \d\d \d\d:\d\d UTC$/);
  t.is(e.v, '');
  t.is(e.t, '');
  t.is(e.m, '');
  t.is(e.s, 5);
  t.is(e.c, 0);
  t.is(e.f, 64);
  t.is((entries[1] as { n: string }).n, 'p/001');

  // Non-recursive: virtual directories carry the dir flag (256).
  const nr = json((await call('GET', `/v1/buckets/${B}`, { action: 'list', value: { flags: '2048' } })).body) as { entries: { name: string; flags: number }[] };
  t.deepEqual(nr.entries.map((x) => [x.name, x.flags]), [['dir/', 256], ['p/', 256], ['sha', 64]]);
  t.is((await call('GET', `/v1/buckets/${B}`, { action: 'list', value: { props: 'bogus' } })).status, 400);
  t.is((await call('GET', `/v1/buckets/${B}`, { action: 'summary-bck' })).status, 501);
});

test.serial('cluster: what=smap|bmd|config|stats, set-config by query and by action, refusals', async (t) => {
  let r = await call('GET', '/v1/cluster?what=stats');
  t.is(r.status, 200);
  const stats = json(r.body) as Record<string, { daemon_type: string; capacity?: unknown }>;
  t.is(Object.keys(stats).length, 3);
  t.is(Object.values(stats).filter((s) => s.daemon_type === 'target' && s.capacity).length, 2);
  r = await call('PUT', '/v1/cluster/set-config?checksum.type=md5');
  t.is(r.status, 200, r.body.toString());
  r = await call('PUT', '/v1/cluster', { action: 'set-config', value: { features: 'S3-API-via-Root', checksum: { validate_warm_get: false } } });
  t.is(r.status, 200, r.body.toString());
  for (const n of c.targets) {
    const conf = json((await request(n.url, { method: 'GET', path: '/v1/cluster?what=config' })).body) as { checksum: { type: string; validate_warm_get: boolean }; features: string[]; auth?: unknown };
    t.is(conf.checksum.type, 'md5');
    t.false(conf.checksum.validate_warm_get);
    t.deepEqual(conf.features, ['S3-API-via-Root']);
    t.is(conf.auth, undefined); // secrets are never shown
  }
  // AIStore's numeric feature bitmask: bit 3 = S3-API-via-Root, bit 9 = S3-Presigned-Request.
  r = await call('PUT', `/v1/cluster/set-config?features=${(1 << 3) | (1 << 9)}`);
  t.deepEqual((json(r.body) as { features: string[] }).features, ['S3-API-via-Root', 'S3-Presigned-Request']);
  r = await call('PUT', '/v1/cluster/set-config?features=none&checksum.type=xxhash&checksum.validate_warm_get=true');
  t.deepEqual((json(r.body) as { features: string[] }).features, []);
  for (const [q, re] of [
    ['checksum.type=crc64', /valid: xxhash, md5, sha256, sha512, crc32c, none/],
    ['no.such=1', /unknown config "no.such"/],
    ['auth.s3.keys=x', /cannot be changed at run time/],
    ['keepalive.interval_ms=soon', /expected a non-negative number/],
    ['features=Fsync-PUT', /unsupported feature "Fsync-PUT"/],
  ] as const) {
    r = await call('PUT', `/v1/cluster/set-config?${q}`);
    t.is(r.status, 400, q);
    t.regex(String(json(r.body).message), re);
  }
  r = await call('GET', '/v1/cluster?what=bmd');
  t.truthy((json(r.body) as { buckets: Record<string, unknown> }).buckets[B]);
  r = await call('GET', '/v1/daemon?what=snode');
  t.is((json(r.body) as { daemon_type: string }).daemon_type, 'proxy');
  t.is((await call('GET', '/v1/cluster?what=nonsense')).status, 501);
});

test.serial('routes not served answer 501 at once, with a JSON message', async (t) => {
  for (const [m, p] of [['GET', '/v1/xactions'], ['POST', '/v1/sort'], ['GET', '/v1/nothing/here'], ['PUT', '/v1/cluster/shutdown'], ['PUT', `/v1/buckets/${B}`]] as const) {
    const started = Date.now();
    const r = await call(m, p);
    t.is(r.status, 501, `${m} ${p}`);
    t.is(json(r.body).status, 501);
    t.true(Date.now() - started < 2000);
  }
  // POST /v1/objects serves rename-obj (e2e-rename.test.ts), PATCH set-custom (e2e-custom-md.test.ts); the other object actions are 501.
  const r = await call('POST', `/v1/objects/${B}/x`, { action: 'promote', name: '/var/lib/ais/promote/x' });
  t.is(r.status, 501);
  t.regex(json(r.body).message as string, /promote/);
});

test.serial('destroy-bck removes the bucket with its objects', async (t) => {
  const big = random(3 << 20);
  t.is((await request(c.primary.url, { method: 'PUT', path: `/v1/objects/${B}/big`, body: big })).status, 200);
  t.is(md5((await call('GET', `/v1/objects/${B}/big`)).body), md5(big));
  t.is((await call('DELETE', `/v1/buckets/${B}`, { action: 'destroy-bck' })).status, 200);
  t.is((await call('DELETE', `/v1/buckets/${B}`, { action: 'destroy-bck' })).status, 404);
  t.is((await call('POST', `/v1/buckets/${B}`, { action: 'create-bck' })).status, 200);
  const list = json((await call('GET', `/v1/buckets/${B}`, { action: 'list' })).body) as { entries: unknown[] };
  t.deepEqual(list.entries, []);
});
