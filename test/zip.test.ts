// The zip reader (archive/zip.ts) against Python's zipfile: members stored and deflated, with ZIP64
// records forced, are indexed and read to the byte; every single-byte change of the central directory
// or a member, and every truncation, either still reads right or fails with a ZipError — never another
// exception, never wrong bytes.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readZipIndex, readZipMember, ZipError } from '../src/archive/zip';
import { ZipWriter } from '../src/archive/zip-write';
import type { ReadAt } from '../src/archive/tar';
import { random, sha256 } from './helpers/node';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-zip-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const readAtBuf =
  (b: Buffer): ReadAt =>
  async (pos, len) =>
    b.subarray(pos, pos + len);

const files: [string, Buffer][] = [
  ['a.txt', Buffer.from('hello zip\n'.repeat(300))],
  ['empty', Buffer.alloc(0)],
  ['img/0001.jpg', random(70_001)],
  ['dir/ünï.bin', random(3000)],
];

/** A zip of `files` made by Python: .jpg stored, the rest deflated; `zip64` forces ZIP64 records. */
function pyzip(zip64: boolean): Buffer {
  files.forEach(([, v], i) => fs.writeFileSync(path.join(dir, `f${i}`), v));
  const out = path.join(dir, `t${zip64 ? 64 : 32}.zip`);
  const script = `
import zipfile, sys
if ${zip64 ? 'True' : 'False'}:
    zipfile.ZIP64_LIMIT = 100
    zipfile.ZIP_FILECOUNT_LIMIT = 1
with zipfile.ZipFile(${JSON.stringify(out)}, 'w') as z:
    for i, n in enumerate(sys.argv[1:]):
        info = zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED if n.endswith('.jpg') else zipfile.ZIP_DEFLATED
        z.writestr(info, open(${JSON.stringify(dir)} + '/f%d' % i, 'rb').read())
`;
  execFileSync('python3', ['-c', script, ...files.map(([n]) => n)]);
  return fs.readFileSync(out);
}

for (const zip64 of [false, true]) {
  test(`members indexed and read to the byte (ZIP64 records: ${zip64})`, async (t) => {
    const z = pyzip(zip64);
    t.is(z.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), zip64);
    const idx = await readZipIndex(readAtBuf(z), z.length);
    t.deepEqual(
      idx.map((m) => [m.name, m.size, m.method]),
      files.map(([n, v]) => [n, v.length, n.endsWith('.jpg') ? 0 : 8]),
    );
    for (const m of idx) t.is(sha256(await readZipMember(readAtBuf(z), m)), sha256(files.find(([n]) => n === m.name)![1]));
  });
}

test('every byte changed and every truncation: the right bytes or a ZipError, nothing else', async (t) => {
  const z = pyzip(true);
  const want = new Map(files.map(([n, v]) => [n, sha256(v)]));
  let errors = 0;
  let intact = 0;
  const attempt = async (b: Buffer): Promise<void> => {
    try {
      const idx = await readZipIndex(readAtBuf(b), b.length);
      for (const m of idx) {
        try {
          const data = await readZipMember(readAtBuf(b), m);
          // A changed name reads as another member: only a member under a known name is compared.
          if (want.has(m.name)) t.is(sha256(data), want.get(m.name)!, `member ${m.name} read wrong`);
          intact++;
        } catch (err) {
          if (!(err instanceof ZipError)) throw err;
          errors++;
        }
      }
    } catch (err) {
      if (!(err instanceof ZipError)) t.fail(`not a ZipError: ${(err as Error).stack}`);
      errors++;
    }
  };
  // Every byte of the members' region sampled, every byte of the central directory and end records.
  const cd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), z.length) - 400;
  for (let i = 0; i < z.length; i += i < cd ? 97 : 1) {
    const b = Buffer.from(z);
    b[i] = b[i]! ^ 0x5a;
    await attempt(b);
  }
  for (let n = 0; n < z.length; n += 37) await attempt(z.subarray(0, n));
  t.true(errors > 100 && intact > 100, `${errors} errors, ${intact} members read`);
});

test('ZipWriter: stored members with data descriptors, read back by us and by Python; 4 GiB and more refused', async (t) => {
  const w = new ZipWriter();
  const parts: Buffer[] = [];
  for (const [n, v] of files) {
    parts.push(w.head(n, v.length, Date.UTC(2025, 4, 6, 7, 8, 10)));
    // In pieces, as the archive job streams them.
    for (let i = 0; i < v.length; i += 1000) {
      w.data(v.subarray(i, i + 1000));
      parts.push(v.subarray(i, i + 1000));
    }
    parts.push(w.tail());
  }
  parts.push(w.end());
  const z = Buffer.concat(parts);
  const idx = await readZipIndex(readAtBuf(z), z.length);
  t.deepEqual(idx.map((m) => [m.name, m.size, m.method]), files.map(([n, v]) => [n, v.length, 0]));
  for (const m of idx) t.is(sha256(await readZipMember(readAtBuf(z), m)), sha256(files.find(([n]) => n === m.name)![1]));
  const f = path.join(dir, 'ours.zip');
  fs.writeFileSync(f, z);
  const py = 'import zipfile,sys\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nprint("|".join("%s:%d:%s" % (i.filename, i.file_size, i.date_time) for i in z.infolist()))';
  t.is(
    execFileSync('python3', ['-c', py, f], { encoding: 'utf8' }).trim(),
    files.map(([n, v]) => `${n}:${v.length}:(2025, 5, 6, 7, 8, 10)`).join('|'),
  );
  t.throws(() => new ZipWriter().head('huge.bin', 5 * 1024 ** 3, Date.now()), { message: /no ZIP64 yet/ });
  const short = new ZipWriter();
  short.head('a', 10, Date.now());
  short.data(Buffer.alloc(4));
  t.throws(() => short.tail(), { message: /4 bytes of a 10-byte member/ });
});
