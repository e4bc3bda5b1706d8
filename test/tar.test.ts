// The tar format (archive/tar.ts) against GNU tar: shards we write are read by `tar` (ustar and pax
// long names, padding, the end), and shards `tar` writes (ustar, pax, GNU long names, directories) are
// indexed by us to the byte.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { memberHeader, padding, readTarIndex, streamTar, TAR_END, TarError, type ReadAt, type StreamedMember } from '../src/archive/tar';
import { random } from './helpers/node';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-tar-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const readAtBuf =
  (b: Buffer): ReadAt =>
  async (pos, len) =>
    b.subarray(pos, pos + len);

const long = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/ünïcode-näme-${'f'.repeat(20)}.bin`;
const members: [string, Buffer][] = [
  ['a.txt', Buffer.from('hello tar\n')],
  ['empty', Buffer.alloc(0)],
  ['exact-block.bin', random(512)],
  ['img/0001.jpg', random(70_001)],
  [long, random(1234)],
];

function ours(): Buffer {
  const parts: Buffer[] = [];
  for (const [n, b] of members) parts.push(memberHeader(n, b.length, Date.UTC(2026, 0, 2) + 0), b, padding(b.length));
  parts.push(TAR_END);
  return Buffer.concat(parts);
}

test('GNU tar lists and extracts a shard we write, long and non-ASCII names included', (t) => {
  const f = path.join(dir, 'ours.tar');
  fs.writeFileSync(f, ours());
  const names = execFileSync('tar', ['-tf', f], { encoding: 'utf8' }).split('\n').filter(Boolean);
  t.deepEqual(names, members.map(([n]) => n));
  for (const [n, b] of members) t.true(execFileSync('tar', ['-xOf', f, n]).equals(b), n);
});

test('our index of our own shard points at every member byte for byte', async (t) => {
  const b = ours();
  const idx = await readTarIndex(readAtBuf(b), b.length);
  t.deepEqual(idx.map((m) => m.name), members.map(([n]) => n));
  for (const [i, m] of idx.entries()) t.true(b.subarray(m.offset, m.offset + m.size).equals(members[i]![1]), m.name);
});

for (const format of ['ustar', 'pax', 'gnu']) {
  test(`our index of a shard GNU tar writes (--format=${format}), directories skipped`, async (t) => {
    const src = path.join(dir, `src-${format}`);
    const usable = format === 'ustar' ? members.filter(([n]) => n !== long) : members; // ustar: names up to 255 bytes split at a '/'
    for (const [n, b] of usable) {
      fs.mkdirSync(path.dirname(path.join(src, n)), { recursive: true });
      fs.writeFileSync(path.join(src, n), b);
    }
    const f = path.join(dir, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-cf', f, '-C', src, ...usable.map(([n]) => n), 'img']);
    const b = fs.readFileSync(f);
    const idx = await readTarIndex(readAtBuf(b), b.length);
    const byName = new Map(idx.map((m) => [m.name, m]));
    for (const [n, data] of usable) {
      const m = byName.get(n);
      t.truthy(m, `${n} in ${[...byName.keys()].join(', ')}`);
      t.true(b.subarray(m!.offset, m!.offset + m!.size).equals(data), n);
    }
    t.false([...byName.keys()].some((n) => n.endsWith('/')));
  });
}

test('damaged or foreign bytes are a TarError, not a wrong index', async (t) => {
  const b = ours();
  const bad = Buffer.from(b);
  bad[130] ^= 0x01; // inside the first header's size field: its checksum no longer matches
  await t.throwsAsync(readTarIndex(readAtBuf(bad), bad.length), { instanceOf: TarError, message: /checksum/ });
  const notTar = random(4096);
  await t.throwsAsync(readTarIndex(readAtBuf(notTar), notTar.length), { instanceOf: TarError });
  const cut = b.subarray(0, 5000); // inside img/0001.jpg
  await t.throwsAsync(readTarIndex(readAtBuf(cut), cut.length), { instanceOf: TarError, message: /past the end/ });
});

test('streamTar reads the same files as the index, in chunks of any size, and only the wanted bytes', async (t) => {
  const b = ours();
  for (const chunk of [1, 333, 512, 65536]) {
    const chunks = (async function* () {
      for (let i = 0; i < b.length; i += chunk) yield b.subarray(i, i + chunk);
    })();
    const got: StreamedMember[] = [];
    for await (const m of streamTar(chunks, (n) => n === 'img/0001.jpg' || n === long)) got.push(m);
    t.deepEqual(got.map((m) => [m.name, m.size]), members.map(([n, d]) => [n, d.length]), `chunk ${chunk}`);
    t.true(got.find((m) => m.name === 'img/0001.jpg')!.data!.equals(members[3]![1]));
    t.true(got.find((m) => m.name === long)!.data!.equals(members[4]![1]));
    t.is(got.find((m) => m.name === 'a.txt')!.data, undefined);
  }
  const cut = (async function* () {
    yield b.subarray(0, 5000);
  })();
  await t.throwsAsync(async () => {
    for await (const _ of streamTar(cut)) void _;
  }, { instanceOf: TarError });
});
