// S3 bucket inventory listing (src/backend/inventory.ts): an inventory of 100,000 names in S3's CSV
// format (manifest.json + gzip CSV parts, keys URL-encoded, parts unordered), stored on a real tais
// node and read back through @aws-sdk/client-s3, then paged and compared with the sorted name list.
import test from 'ava';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import {
  InventoryIndex,
  InventoryError,
  findManifest,
  readManifest,
  splitCsv,
  decodeKey,
  encodeKey,
  type InventoryStore,
} from '../src/backend/inventory';
import { s3InventoryStore } from '../src/backend/inventory-s3';
import { makeInventory, type InvObject } from './helpers/inventory';
import { startNode, s3Client, mapLimit, compareUtf8, type AisNode } from './helpers/node';
import type { ListQuery, ListResult } from '../src/target/list';

const SRC = 'huge-dataset';
const DEST = 'inventory-dest';
const N = 100_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

function objects(): InvObject[] {
  const out: InvObject[] = [];
  for (let i = 0; i < N - 4; i++) {
    const d = i % 10;
    out.push({ key: `train/shard-${d}/sample-${String(i).padStart(6, '0')}.jpg`, size: 1000 + i, mtimeMs: T0 + i * 1000, etag: `e${i}` });
  }
  // Names the CSV must carry URL-encoded: space, '+', '%', ',', '"', unicode, a newline.
  for (const key of ['odd/with space.txt', 'odd/plus+sign,comma "q".bin', 'odd/100%/ünïcødé-日本', 'odd/new\nline']) {
    out.push({ key, size: 7, mtimeMs: T0, etag: 'odd' });
  }
  return out;
}

const ALL = objects();
const SORTED = ALL.map((o) => o.key).sort(compareUtf8);

let node: AisNode;
let s3: S3Client;
let store: InventoryStore;

test.before(async () => {
  node = await startNode({ name: 'inventory' });
  s3 = s3Client(node.url);
  await s3.send(new CreateBucketCommand({ Bucket: DEST }));
  const files = new Map<string, Buffer>();
  // An older scan with other contents, a newer one (the one to use), and another configuration
  // whose newest scan is older still.
  const older = makeInventory(ALL.slice(0, 10), { prefix: 'inv', sourceBucket: SRC, configId: 'daily', stamp: '2026-11-30T00-00Z', createdMs: T0 - 86_400_000 });
  const newer = makeInventory(ALL, {
    prefix: 'inv',
    sourceBucket: SRC,
    configId: 'daily',
    stamp: '2026-12-01T00-00Z',
    createdMs: T0,
    parts: 4,
    // A non-current version and a delete marker: an inventory with IncludedObjectVersions=All.
    extraRows: [
      `"${SRC}","train/shard-0/sample-000000.jpg","v0","false","false","5","2026-11-01T00:00:00.000Z","old","STANDARD"`,
      `"${SRC}","deleted/obj","v1","true","true","0","2026-11-01T00:00:00.000Z","","STANDARD"`,
    ],
  });
  const other = makeInventory(ALL.slice(0, 3), { prefix: 'inv', sourceBucket: SRC, configId: 'weekly', stamp: '2026-11-15T00-00Z', createdMs: T0 - 16 * 86_400_000 });
  for (const m of [older, newer, other]) for (const [k, v] of m) files.set(k, v);
  await mapLimit([...files], 8, ([Key, Body]) => s3.send(new PutObjectCommand({ Bucket: DEST, Key, Body })));
  store = s3InventoryStore(s3, DEST);
});

test.after.always(async () => {
  await node?.stop();
});

test('finds the newest manifest where S3 writes it, per configuration or across them', async (t) => {
  t.is(await findManifest(store, { prefix: 'inv', sourceBucket: SRC }), `inv/${SRC}/daily/2026-12-01T00-00Z/manifest.json`);
  t.is(await findManifest(store, { prefix: 'inv/', sourceBucket: SRC, configId: 'weekly' }), `inv/${SRC}/weekly/2026-11-15T00-00Z/manifest.json`);
  const e = await t.throwsAsync(findManifest(store, { prefix: 'inv', sourceBucket: 'nope' }), { instanceOf: InventoryError });
  t.regex(e!.message, /no S3 inventory manifest under "inv\/nope\/"/);
});

test('100,000 names: loaded from 4 unordered gzip CSV parts, paged in S3 order equal one sorted list', async (t) => {
  const m = await readManifest(store, await findManifest(store, { prefix: 'inv', sourceBucket: SRC }));
  t.is(m.files.length, 4);
  t.is(m.createdMs, T0);
  const idx = await InventoryIndex.load(store, m);
  t.is(idx.size, N); // non-current version and delete marker left out
  t.is(idx.ageMs(T0 + 3_600_000), 3_600_000);
  const names: string[] = [];
  let after = '';
  let pages = 0;
  for (;;) {
    const p = idx.page({ prefix: '', delimiter: '', after, maxKeys: 1000 });
    pages++;
    names.push(...p.entries.map((e) => e.key));
    if (!p.truncated) break;
    after = p.last;
  }
  t.is(pages, 100);
  t.deepEqual(names, SORTED);
  // Sizes, dates and ETags come through; the current version of sample-000000, not the old one.
  const first = idx.page({ prefix: 'train/shard-0/sample-000000', delimiter: '', after: '', maxKeys: 1 }).entries[0]!;
  t.deepEqual(first, { key: 'train/shard-0/sample-000000.jpg', size: 1000, mtimeMs: T0, etag: 'e0' });
  t.true(names.includes('odd/new\nline') && names.includes('odd/plus+sign,comma "q".bin') && names.includes('odd/100%/ünïcødé-日本'));
});

test('prefix, delimiter and tokens page like a bucket listing', async (t) => {
  const m = await readManifest(store, await findManifest(store, { prefix: 'inv', sourceBucket: SRC, configId: 'daily' }));
  const idx = await InventoryIndex.load(store, m);
  const top = idx.page({ prefix: '', delimiter: '/', after: '', maxKeys: 1000 });
  t.deepEqual(top.commonPrefixes, ['odd/', 'train/']);
  t.deepEqual(top.entries, []);
  const shards = collect(idx, { prefix: 'train/', delimiter: '/', after: '', maxKeys: 3 });
  t.deepEqual(shards.prefixes, Array.from({ length: 10 }, (_, d) => `train/shard-${d}/`));
  const s7 = collect(idx, { prefix: 'train/shard-7/', delimiter: '', after: '', maxKeys: 777 });
  t.deepEqual(s7.keys, SORTED.filter((k) => k.startsWith('train/shard-7/')));
  // A token past the prefix's names ends the listing; a token before the prefix starts at it.
  t.deepEqual(idx.page({ prefix: 'odd/', delimiter: '', after: 'p', maxKeys: 10 }).entries, []);
  t.is(idx.page({ prefix: 'train/', delimiter: '', after: 'a', maxKeys: 1 }).entries[0]!.key, SORTED.find((k) => k.startsWith('train/'))!);
});

test('a part whose bytes do not match the manifest MD5 is refused', async (t) => {
  const files = makeInventory(ALL.slice(0, 100), { sourceBucket: 'tampered', configId: 'c', stamp: '2026-12-01T00-00Z', createdMs: T0, parts: 2 });
  const keys = [...files.keys()];
  const part = keys.find((k) => k.endsWith('.csv.gz'))!;
  // Same CSV, different gzip bytes (level 1): still valid gzip, not the bytes the manifest names.
  files.set(part, zlib.gzipSync(zlib.gunzipSync(files.get(part)!), { level: 1 }));
  const mem = memStore(files);
  const m = await readManifest(mem, await findManifest(mem, { prefix: '', sourceBucket: 'tampered' }));
  const e = await t.throwsAsync(InventoryIndex.load(mem, m), { instanceOf: InventoryError });
  t.regex(e!.message, /MD5 does not match the manifest/);
});

test('a manifest that does not match manifest.checksum, or is not a CSV inventory, is refused', async (t) => {
  const files = makeInventory(ALL.slice(0, 5), { sourceBucket: 'm', configId: 'c', stamp: '2026-12-01T00-00Z', createdMs: T0 });
  const mkey = [...files.keys()].find((k) => k.endsWith('manifest.json'))!;
  const bad = new Map(files);
  bad.set(mkey, Buffer.concat([files.get(mkey)!, Buffer.from(' ')]));
  await t.throwsAsync(readManifest(memStore(bad), mkey), { message: /manifest.checksum/ });
  const orc = new Map(files);
  orc.set(mkey, Buffer.from(JSON.stringify({ fileFormat: 'ORC', fileSchema: 'x', files: [] })));
  orc.delete(mkey.replace('manifest.json', 'manifest.checksum'));
  await t.throwsAsync(readManifest(memStore(orc), mkey), { message: /only CSV inventories/ });
});

test('CSV records and URL-encoded keys', (t) => {
  t.deepEqual(splitCsv('"a","b,c","d""e",f,'), ['a', 'b,c', 'd"e', 'f', '']);
  t.is(splitCsv('"unterminated'), undefined);
  t.is(splitCsv('"a"x'), undefined);
  for (const k of ['a b', 'a+b', '100%', 'dir/ü 日本/x,y', '\n']) t.is(decodeKey(encodeKey(k)), k);
  t.is(decodeKey('with+space%2Bplus'), 'with space+plus');
  t.throws(() => decodeKey('%E0%A4%A'), { instanceOf: InventoryError });
});

function collect(idx: InventoryIndex, q: ListQuery): { keys: string[]; prefixes: string[] } {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let p: ListResult;
  let after = q.after;
  do {
    p = idx.page({ ...q, after });
    keys.push(...p.entries.map((e) => e.key));
    prefixes.push(...p.commonPrefixes);
    after = p.last;
  } while (p.truncated);
  return { keys, prefixes };
}

/** Files in memory, for the cases that tamper with bytes (the S3 path is covered above). */
function memStore(files: Map<string, Buffer>): InventoryStore {
  return {
    async *list(prefix: string) {
      for (const k of files.keys()) if (k.startsWith(prefix)) yield k;
    },
    async get(key: string) {
      const b = files.get(key);
      if (b === undefined) throw new Error(`no ${key}`);
      return Readable.from([b]);
    },
  };
}
