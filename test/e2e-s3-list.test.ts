// End to end, one real aisnode with two mountpaths: listing a bucket of ~2550 keys (a tree plus hostile
// and unicode names) with ListObjectsV2 and ListObjects (v1), every paging and delimiter mode, checked
// against the expected answer computed here from the key set in S3's order (UTF-8 bytes).
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startNode, s3Client, request, xmlAll, xmlCode, md5, mapLimit, compareUtf8, walkFiles, type AisNode } from './helpers/node';

const B = 'listing';
let node: AisNode;
let s3: S3Client;

const TREE: string[] = [];
for (let d = 0; d < 5; d++) for (let s = 0; s < 10; s++) for (let k = 0; k < 50; k++) TREE.push(`d${d}/s${s}/k${k}`);

const ODD = [
  // top level, and siblings that sort just before and after 'd0/' ('-' 0x2d, '.' 0x2e, '/' 0x2f, '0' 0x30)
  'top.txt',
  'b',
  'z',
  'd0-sibling',
  'd0.sibling',
  'd00',
  // a prefix that is not a folder boundary: 'd1/s1' matches 'd1/s1/...', 'd1/s1-extra', 'd1/s1.txt', 'd1/s10/k'
  'd1/s1-extra',
  'd1/s1.txt',
  'd1/s10/k',
  // folder markers (keys ending in '/')
  'd0/',
  'd0/s0/',
  'm/',
  'm/n/',
  'm/n/o',
  // spaces, plus, percent
  'with space/file name.txt',
  ' leading-space',
  'trailing-space ',
  'a+b',
  'p/a+b+c',
  'p/100%',
  'p/%41',
  'p/%2F',
  'p/%',
  'p/%25',
  'p/%ob',
  // XML specials and characters S3's URL encoding treats specially
  'x/<&>"\'',
  'x/~!()*',
  'x/;:@=&$,?#[]',
  // unicode: UTF-8 order differs from UTF-16 order between U+E000-FFFF and astral characters
  'u/é',
  'u/e\u0301',
  'u/日本語/ファイル',
  'u/😀',
  'u/\uFF01',
  'u/\uE000',
  'u/emoji-🎉/x',
  'u/ÿ',
  // empty segments and dot segments, stored escaped
  'a//b',
  'a//',
  './x',
  'x/.',
  'q/../r',
  'q/./s',
];

const KEYS = [...TREE, ...ODD].sort(compareUtf8);

test.before(async () => {
  // No fsync: thousands of small PUTs; durability is not what this file tests.
  node = await startNode({ name: 'list', config: { io: { fsync_put: false } } });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  if (new Set(KEYS).size !== KEYS.length) throw new Error('duplicate keys in the test set');
  // Each object's body is its key: size and ETag of every listed entry can be checked.
  await mapLimit(KEYS, 32, (key) => s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: Buffer.from(key) })));
});

test.after.always(async () => {
  s3?.destroy();
  await node?.stop();
});

interface Expected {
  contents: string[];
  prefixes: string[];
}

/** What S3 answers for prefix/delimiter/after over KEYS: keys after `after`, rolled up at the delimiter; a common prefix only if it sorts after `after`. */
function expected(prefix: string, delimiter: string, after = ''): Expected {
  const contents: string[] = [];
  const prefixes = new Set<string>();
  for (const k of KEYS) {
    if (!k.startsWith(prefix)) continue;
    if (delimiter !== '') {
      const i = k.indexOf(delimiter, prefix.length);
      if (i >= 0) {
        const cp = k.slice(0, i + delimiter.length);
        if (compareUtf8(cp, after) > 0) prefixes.add(cp);
        continue;
      }
    }
    if (compareUtf8(k, after) > 0) contents.push(k);
  }
  return { contents, prefixes: [...prefixes].sort(compareUtf8) };
}

function checkEntries(t: ExecutionContext, out: ListObjectsV2CommandOutput): void {
  for (const c of out.Contents ?? []) {
    const body = Buffer.from(c.Key!);
    if (c.Size !== body.length || c.ETag !== `"${md5(body)}"`) {
      t.fail(`${JSON.stringify(c.Key)}: size ${c.Size} etag ${c.ETag}, expected ${body.length} "${md5(body)}"`);
      return;
    }
  }
}

/** Pages through ListObjectsV2 with continuation tokens; checks every page's bounds. */
async function listV2All(t: ExecutionContext, params: { Prefix?: string; Delimiter?: string; MaxKeys: number; StartAfter?: string }): Promise<Expected & { pages: number }> {
  const contents: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  for (;;) {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: B, ...params, ContinuationToken: token }));
    pages++;
    const n = (out.Contents?.length ?? 0) + (out.CommonPrefixes?.length ?? 0);
    t.true(n <= params.MaxKeys, `page ${pages}: ${n} entries > MaxKeys ${params.MaxKeys}`);
    t.is(out.KeyCount, n, `page ${pages}: KeyCount`);
    t.is(out.MaxKeys, params.MaxKeys);
    t.is(out.Prefix ?? '', params.Prefix ?? '');
    if (params.Delimiter) t.is(out.Delimiter, params.Delimiter);
    checkEntries(t, out);
    contents.push(...(out.Contents ?? []).map((c) => c.Key!));
    prefixes.push(...(out.CommonPrefixes ?? []).map((c) => c.Prefix!));
    if (!out.IsTruncated) {
      t.is(out.NextContinuationToken, undefined);
      break;
    }
    t.true(n > 0, 'a truncated page must list something');
    t.truthy(out.NextContinuationToken);
    token = out.NextContinuationToken;
    if (pages > KEYS.length + 10) {
      t.fail('listing does not end');
      break;
    }
  }
  return { contents, prefixes, pages };
}

function isSorted(a: readonly string[]): boolean {
  for (let i = 1; i < a.length; i++) if (compareUtf8(a[i - 1]!, a[i]!) >= 0) return false;
  return true;
}

for (const maxKeys of [1000, 7, 1]) {
  test(`V2 whole bucket, MaxKeys ${maxKeys}: every key once, in UTF-8 order`, async (t) => {
    const got = await listV2All(t, { MaxKeys: maxKeys });
    t.is(got.contents.length, KEYS.length);
    t.true(isSorted(got.contents), 'sorted, no duplicates');
    t.deepEqual(got.contents, KEYS);
    t.deepEqual(got.prefixes, []);
    t.is(got.pages, Math.ceil(KEYS.length / maxKeys));
  });
}

test('V2 default MaxKeys is 1000 and larger values are capped at 1000', async (t) => {
  const dflt = await s3.send(new ListObjectsV2Command({ Bucket: B }));
  t.is(dflt.Contents?.length, 1000);
  t.true(dflt.IsTruncated);
  t.deepEqual(dflt.Contents!.map((c) => c.Key), KEYS.slice(0, 1000));
  const big = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 5000 }));
  t.is(big.Contents?.length, 1000);
  t.true(big.IsTruncated);
});

const DELIM_CASES: [string, number[]][] = [
  ['', [1, 2, 3, 1000]],
  ['d1/', [1, 4, 1000]],
  ['d1/s1/', [7, 1000]],
  ['d1/s1', [1, 2, 1000]],
  ['d0/', [1, 3, 1000]],
  ['u/', [1, 1000]],
  ['p/', [1, 1000]],
  ['m/', [1, 1000]],
  ['a/', [1, 1000]],
  ['a//', [1, 1000]],
  ['q/', [1, 1000]],
  ['x/', [1, 1000]],
  ['d', [1, 5, 1000]],
  ['nothing-here/', [1, 1000]],
];

for (const [prefix, sizes] of DELIM_CASES) {
  test(`V2 delimiter '/', prefix ${JSON.stringify(prefix)}: contents and common prefixes at MaxKeys ${sizes.join(', ')}`, async (t) => {
    const want = expected(prefix, '/');
    for (const maxKeys of sizes) {
      const got = await listV2All(t, { Prefix: prefix, Delimiter: '/', MaxKeys: maxKeys });
      t.deepEqual(got.contents, want.contents, `contents at MaxKeys ${maxKeys}`);
      t.deepEqual(got.prefixes, want.prefixes, `common prefixes at MaxKeys ${maxKeys}`);
    }
  });
}

test('V2 delimiter: a page mixes keys and common prefixes, in order', async (t) => {
  // Top level, 5 at a time: 'a+b', 'a/' ... mixed with 'd0-sibling', 'd0.sibling', 'd0/', 'd00', 'd1/' ...
  const want = expected('', '/');
  const merged = [...want.contents, ...want.prefixes].sort(compareUtf8);
  let token: string | undefined;
  let seen = 0;
  let mixed = 0;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', MaxKeys: 5, ContinuationToken: token }));
    const page = [...(out.Contents ?? []).map((c) => c.Key!), ...(out.CommonPrefixes ?? []).map((c) => c.Prefix!)].sort(compareUtf8);
    t.deepEqual(page, merged.slice(seen, seen + page.length), `page at ${seen}`);
    if ((out.Contents?.length ?? 0) > 0 && (out.CommonPrefixes?.length ?? 0) > 0) mixed++;
    seen += page.length;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  t.is(seen, merged.length);
  t.true(mixed > 0, 'some page holds both keys and common prefixes');
  t.deepEqual(want.prefixes.filter((p) => p.startsWith('d')), ['d0/', 'd1/', 'd2/', 'd3/', 'd4/']);
  t.true(want.contents.includes('d0-sibling') && want.contents.includes('d0.sibling') && want.contents.includes('d00'));
});

test('prefix that is not a folder boundary: d1/s1', async (t) => {
  const flat = await listV2All(t, { Prefix: 'd1/s1', MaxKeys: 1000 });
  const flatWant = KEYS.filter((k) => k.startsWith('d1/s1'));
  t.deepEqual(flat.contents, flatWant);
  t.is(flat.contents.length, 50 + 3);
  t.true(flat.contents.includes('d1/s10/k') && flat.contents.includes('d1/s1-extra') && flat.contents.includes('d1/s1.txt'));
  const d = await listV2All(t, { Prefix: 'd1/s1', Delimiter: '/', MaxKeys: 1000 });
  t.deepEqual(d.contents, ['d1/s1-extra', 'd1/s1.txt']);
  t.deepEqual(d.prefixes, ['d1/s1/', 'd1/s10/']);
});

test('unicode keys are in UTF-8 byte order (U+FF01 before an emoji), not UTF-16 order', async (t) => {
  const got = await listV2All(t, { Prefix: 'u/', MaxKeys: 1000 });
  const want = KEYS.filter((k) => k.startsWith('u/'));
  t.deepEqual(got.contents, want);
  t.true(got.contents.indexOf('u/\uFF01') < got.contents.indexOf('u/😀'));
  t.true(got.contents.indexOf('u/\uE000') < got.contents.indexOf('u/😀'));
  const one = await listV2All(t, { Prefix: 'u/', MaxKeys: 1 });
  t.deepEqual(one.contents, want);
});

test('StartAfter: keys strictly after it, with and without prefix and delimiter', async (t) => {
  for (const after of ['d2/s5/k25', 'd2/s5', 'd2/s5/k25x', '', ' ', 'b', 'u/\uFF01', '\u{10FFFF}']) {
    const got = await listV2All(t, { StartAfter: after, MaxKeys: 1000 });
    t.deepEqual(got.contents, KEYS.filter((k) => compareUtf8(k, after) > 0), `StartAfter ${JSON.stringify(after)}`);
  }
  const withPrefix = await listV2All(t, { StartAfter: 'd3/s2/k7', Prefix: 'd3/s2/', MaxKeys: 9 });
  t.deepEqual(withPrefix.contents, expected('d3/s2/', '', 'd3/s2/k7').contents);
  // StartAfter before the prefix: the whole prefix.
  const before = await listV2All(t, { StartAfter: 'a', Prefix: 'd4/s9/', MaxKeys: 1000 });
  t.is(before.contents.length, 50);
  // StartAfter past the prefix: nothing.
  const past = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: 'd5', Prefix: 'd4/' }));
  t.is(past.KeyCount, 0);
  t.is(past.Contents, undefined);
  t.false(past.IsTruncated);
  // With a delimiter: common prefixes after it (a common prefix equal to StartAfter is not repeated).
  for (const after of ['d2/', 'b', 'd0-sibling', 'top.txt']) {
    const want = expected('', '/', after);
    const got = await listV2All(t, { StartAfter: after, Delimiter: '/', MaxKeys: 3 });
    t.deepEqual(got.contents, want.contents, `contents after ${after}`);
    t.deepEqual(got.prefixes, want.prefixes, `prefixes after ${after}`);
  }
  // StartAfter is ignored once a continuation token is given.
  const p1 = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: 'd1/', MaxKeys: 2 }));
  const p2 = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: 'd1/', MaxKeys: 2, ContinuationToken: p1.NextContinuationToken }));
  const from = KEYS.findIndex((k) => compareUtf8(k, 'd1/') > 0);
  t.deepEqual([...p1.Contents!, ...p2.Contents!].map((c) => c.Key), KEYS.slice(from, from + 4));
  t.is(p2.StartAfter, 'd1/');
});

test('V1: Marker and NextMarker, without a delimiter (continue from the last key) and with one', async (t) => {
  for (const maxKeys of [1000, 13]) {
    const keys: string[] = [];
    let marker = '';
    for (;;) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: maxKeys, Marker: marker || undefined }));
      t.is(out.Marker ?? '', marker);
      const page = (out.Contents ?? []).map((c) => c.Key!);
      keys.push(...page);
      // S3: NextMarker only with a delimiter; without one the client continues from the last key.
      t.is(out.NextMarker, undefined);
      if (!out.IsTruncated) break;
      marker = page[page.length - 1]!;
    }
    t.deepEqual(keys, KEYS, `MaxKeys ${maxKeys}`);
  }
  for (const [prefix, maxKeys] of [['', 3], ['d2/', 2], ['p/', 1], ['u/', 2]] as const) {
    const want = expected(prefix, '/');
    const contents: string[] = [];
    const prefixes: string[] = [];
    let marker: string | undefined;
    for (let pages = 0; pages < 10_000; pages++) {
      const out = await s3.send(new ListObjectsCommand({ Bucket: B, Prefix: prefix, Delimiter: '/', MaxKeys: maxKeys, Marker: marker }));
      contents.push(...(out.Contents ?? []).map((c) => c.Key!));
      prefixes.push(...(out.CommonPrefixes ?? []).map((c) => c.Prefix!));
      if (!out.IsTruncated) {
        t.is(out.NextMarker, undefined);
        break;
      }
      const lastOfPage = [...(out.Contents ?? []).map((c) => c.Key!), ...(out.CommonPrefixes ?? []).map((c) => c.Prefix!)].sort(compareUtf8).pop();
      t.is(out.NextMarker, lastOfPage, 'NextMarker is the last key or common prefix of the page');
      marker = out.NextMarker;
    }
    t.deepEqual(contents, want.contents, `v1 contents, prefix ${prefix}`);
    t.deepEqual(prefixes, want.prefixes, `v1 prefixes, prefix ${prefix}`);
  }
});

test('MaxKeys 0: nothing listed, not truncated', async (t) => {
  const v2 = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 0 }));
  t.is(v2.KeyCount, 0);
  t.is(v2.Contents, undefined);
  t.is(v2.CommonPrefixes, undefined);
  t.false(v2.IsTruncated);
  t.is(v2.MaxKeys, 0);
  const v1 = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: 0, Delimiter: '/' }));
  t.is(v1.Contents, undefined);
  t.false(v1.IsTruncated);
});

test('encoding-type=url: keys, prefix and delimiter percent-encoded in the XML, decoding gives the keys back', async (t) => {
  // Raw XML: what the server wrote.
  const r = await request(node.url, { method: 'GET', path: `/s3/${B}?list-type=2&encoding-type=url&prefix=${encodeURIComponent('with space/')}&delimiter=%2F` });
  t.is(r.status, 200);
  t.deepEqual(xmlAll(r.body, 'Key'), ['with%20space/file%20name.txt']);
  t.deepEqual(xmlAll(r.body, 'Prefix'), ['with%20space/']);
  t.deepEqual(xmlAll(r.body, 'EncodingType'), ['url']);
  t.deepEqual(xmlAll(r.body, 'Delimiter'), ['/']);

  const odd = await request(node.url, { method: 'GET', path: `/s3/${B}?encoding-type=url&prefix=x%2F` });
  const oddKeys = xmlAll(odd.body, 'Key');
  t.deepEqual(oddKeys.map(decodeURIComponent), KEYS.filter((k) => k.startsWith('x/')));
  for (const k of oddKeys) t.regex(k, /^[A-Za-z0-9\-_.*/%]+$/, `${k}: only unreserved characters and escapes`);

  // The whole bucket through the SDK. The JS SDK (unlike botocore) hands back what the XML says, so the
  // keys are decoded here.
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: B, EncodingType: 'url', ContinuationToken: token, MaxKeys: 500 }));
    t.is(out.EncodingType, 'url');
    keys.push(...(out.Contents ?? []).map((c) => c.Key!));
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  const decoded = keys.map((k) => decodeURIComponent(k.replace(/\+/g, '%20')));
  t.deepEqual(decoded, KEYS);
  t.true(keys.includes('a%2Bb'), "'+' is sent as %2B");
  t.true(keys.includes('p/%25'), "'%' is sent as %25");
  t.true(keys.includes('u/%C3%A9'));
});

test('bad list parameters: 400 InvalidArgument', async (t) => {
  for (const q of ['list-type=2&continuation-token=not*a*token', 'list-type=3', 'list-type=2&max-keys=-1', 'list-type=2&max-keys=abc', 'encoding-type=base64']) {
    const r = await request(node.url, { method: 'GET', path: `/s3/${B}?${q}` });
    t.is(r.status, 400, q);
    t.is(xmlCode(r.body), 'InvalidArgument', q);
  }
});

test('objects are spread over both mountpaths, each under <mp>/@ais/<bucket>/%ob', async (t) => {
  const counts = node.dirs.mountpaths.map((mp) => walkFiles(path.join(mp, '@ais', B, '%ob')).length);
  t.is(counts.length, 2);
  t.is(counts[0]! + counts[1]!, KEYS.length);
  for (const c of counts) t.true(c > KEYS.length / 4, `mountpath holds ${c} of ${KEYS.length}: HRW should balance`);
  // Nothing stored outside the bucket folders, no work files left.
  for (const mp of node.dirs.mountpaths) {
    for (const f of walkFiles(mp)) t.true(f.startsWith(path.join(mp, '@ais', B, '%ob') + '/'), f);
    t.deepEqual(fs.readdirSync(path.join(mp, '@ais', B, '%wk')), []);
  }
});
