// File I/O of the native addon: xattrs, pread/pwrite fused with hashing, O_DIRECT probing
// and a real O_DIRECT write from an aligned SharedArrayBuffer slice, and errno errors.
import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import {
  alignOffset,
  fgetxattr,
  fsetxattr,
  getxattr,
  type HashKind,
  hashDigest,
  hashInit,
  probeDirectIO,
  readHash,
  readHashSync,
  setDirect,
  writeHashSync,
  xxh64,
} from '../src/native/index';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
// Scratch files live on the project disk (ext4: xattrs and O_DIRECT work), under build/
// which is git-ignored and belongs to the native build.
let tmp = '';

test.before(() => {
  const base = path.join(PROJECT_ROOT, 'build');
  fs.mkdirSync(base, { recursive: true });
  tmp = fs.mkdtempSync(path.join(base, 'native-test-'));
});

test.after.always(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

let fileCounter = 0;
const scratch = (name: string): string => path.join(tmp, `${fileCounter++}-${name}`);

const BAD_FD = 987_654;
const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
const xxhex = (b: Uint8Array): string => xxh64(b).toString(16).padStart(16, '0');

test('xattr: set / get on fd and path; absent → undefined; values larger than the fast buffer', (t) => {
  const file = scratch('xattr');
  fs.writeFileSync(file, 'x');
  const fd = fs.openSync(file, 'r+');
  try {
    t.is(fgetxattr(fd, 'user.tais.absent'), undefined);
    t.is(getxattr(file, 'user.tais.absent'), undefined);

    const small = Buffer.from('{"cksum":"xxhash","v":"0123456789abcdef"}');
    fsetxattr(fd, 'user.tais.lom', small);
    t.deepEqual(fgetxattr(fd, 'user.tais.lom'), small);
    t.deepEqual(getxattr(file, 'user.tais.lom'), small);

    const big = randomBytes(3000); // > the addon's 1 KiB first try: exercises the ERANGE path
    fsetxattr(fd, 'user.tais.big', big);
    t.deepEqual(fgetxattr(fd, 'user.tais.big'), big);
    t.deepEqual(getxattr(file, 'user.tais.big'), big);

    fsetxattr(fd, 'user.tais.empty', new Uint8Array(0));
    t.deepEqual(fgetxattr(fd, 'user.tais.empty'), Buffer.alloc(0));

    // Overwrite.
    fsetxattr(fd, 'user.tais.lom', Buffer.from('v2'));
    t.is(fgetxattr(fd, 'user.tais.lom')?.toString(), 'v2');
  } finally {
    fs.closeSync(fd);
  }
  const missing = path.join(tmp, 'does-not-exist');
  const err = t.throws(() => getxattr(missing, 'user.tais.lom'));
  t.is((err as NodeJS.ErrnoException).code, 'ENOENT');
  t.is((err as NodeJS.ErrnoException).syscall, 'getxattr');
  t.is((err as NodeJS.ErrnoException).path, missing);
  t.is((err as NodeJS.ErrnoException).errno, -os.constants.errno.ENOENT);
  t.regex((err as Error).message, /^ENOENT: no such file or directory, getxattr '/);
});

test('readHashSync / readHash: bytes and fused digests equal the file; 0 at EOF', async (t) => {
  const file = scratch('read');
  const content = randomBytes(3 * 65536 + 1234);
  fs.writeFileSync(file, content);
  const fd = fs.openSync(file, 'r');
  try {
    for (const mode of ['sync', 'async'] as const) {
      for (const kind of ['md5', 'xxhash', 'crc32c'] as const) {
        const st = hashInit(kind);
        const buf = Buffer.alloc(65536);
        const chunks: Buffer[] = [];
        let pos = 0;
        for (;;) {
          const n = mode === 'sync' ? readHashSync(fd, buf, pos, kind, st) : await readHash(fd, buf, pos, kind, st);
          if (n === 0) break;
          chunks.push(Buffer.from(buf.subarray(0, n)));
          pos += n;
        }
        const got = Buffer.concat(chunks);
        t.true(got.equals(content), `${mode} ${kind} bytes`);
        const whole = hashInit(kind);
        readHashSync(fd, Buffer.alloc(content.length + 10), 0, kind, whole);
        t.is(hashDigest(kind, st), hashDigest(kind, whole), `${mode} ${kind}`);
      }
      // No hashing.
      const buf = Buffer.alloc(100);
      const n = mode === 'sync' ? readHashSync(fd, buf, 1000, null, null) : await readHash(fd, buf, 1000, null, null);
      t.is(n, 100);
      t.true(buf.equals(content.subarray(1000, 1100)));
    }
    // md5 equals node:crypto's.
    const st = hashInit('md5');
    t.is(await readHash(fd, Buffer.alloc(content.length), 0, 'md5', st), content.length);
    t.is(hashDigest('md5', st), md5(content));
    // Past EOF.
    t.is(await readHash(fd, Buffer.alloc(10), content.length + 5, 'md5', hashInit('md5')), 0);
  } finally {
    fs.closeSync(fd);
  }
});

test('readHash: many concurrent reads on the thread pool, into a SharedArrayBuffer', async (t) => {
  const file = scratch('concurrent');
  const content = randomBytes(16 * 65536);
  fs.writeFileSync(file, content);
  const fd = fs.openSync(file, 'r');
  try {
    const sab = new SharedArrayBuffer(content.length);
    const states = Array.from({ length: 16 }, () => hashInit('sha256'));
    const counts = await Promise.all(
      states.map((st, i) => readHash(fd, new Uint8Array(sab, i * 65536, 65536), i * 65536, 'sha256', st)),
    );
    t.deepEqual(counts, Array(16).fill(65536));
    t.true(Buffer.from(sab).equals(content));
    states.forEach((st, i) => {
      const expected = createHash('sha256').update(content.subarray(i * 65536, (i + 1) * 65536)).digest('hex');
      t.is(hashDigest('sha256', st), expected);
    });
  } finally {
    fs.closeSync(fd);
  }
});

test('writeHashSync: chunks at positions, bytes on disk and both fused digests correct', (t) => {
  const file = scratch('write');
  const content = randomBytes((1 << 20) + 123);
  const fd = fs.openSync(file, 'w+');
  try {
    const cks = hashInit('xxhash');
    const etag = hashInit('md5');
    const hashes = [
      { kind: 'xxhash' as HashKind, state: cks },
      { kind: 'md5' as HashKind, state: etag },
    ];
    for (let off = 0; off < content.length; off += 100_000) {
      writeHashSync(fd, content.subarray(off, off + 100_000), off, hashes);
    }
    writeHashSync(fd, new Uint8Array(0), content.length, hashes); // no-op
    t.true(fs.readFileSync(file).equals(content));
    t.is(hashDigest('xxhash', cks), xxhex(content));
    t.is(hashDigest('md5', etag), md5(content));

    // One big write with no hashes, and one with all five kinds.
    const all = (['xxhash', 'md5', 'sha256', 'sha512', 'crc32c'] as const).map((kind) => ({ kind, state: hashInit(kind) }));
    writeHashSync(fd, content, 0, all);
    for (const { kind, state } of all) {
      const ref = hashInit(kind);
      readHashSync(fd, Buffer.alloc(content.length), 0, kind, ref);
      t.is(hashDigest(kind, state), hashDigest(kind, ref), kind);
    }
    writeHashSync(fd, Buffer.from('hello'), 10, []);
    const head = Buffer.alloc(15);
    fs.readSync(fd, head, 0, 15, 0);
    t.is(head.subarray(10).toString(), 'hello');
  } finally {
    fs.closeSync(fd);
  }
});

test('writeHashSync: a failed write leaves the states untouched', (t) => {
  const file = scratch('readonly');
  fs.writeFileSync(file, 'abc');
  const fd = fs.openSync(file, 'r'); // read-only: pwrite fails with EBADF
  try {
    const st = hashInit('md5');
    const before = st.slice();
    t.throws(() => writeHashSync(fd, Buffer.from('data'), 0, [{ kind: 'md5', state: st }]), { code: 'EBADF' });
    t.deepEqual(st, before);
    t.throws(() => writeHashSync(fd, Buffer.from('x'), 0, [{ kind: 'md5', state: st }, { kind: 'md5', state: st }]), {
      instanceOf: TypeError,
    });
  } finally {
    fs.closeSync(fd);
  }
});

test('probeDirectIO: true on the project disk (ext4)', (t) => {
  t.true(probeDirectIO(PROJECT_ROOT));
  t.deepEqual(
    fs.readdirSync(PROJECT_ROOT).filter((f) => f.startsWith('.tais-odirect-probe')),
    [],
    'probe file removed',
  );
  t.throws(() => probeDirectIO(path.join(tmp, 'no-such-dir')), { code: 'ENOENT' });
});

test('probeDirectIO on tmpfs (/dev/shm) reports what the kernel does', (t) => {
  const mounts = fs.readFileSync('/proc/mounts', 'utf8');
  const shm = mounts.split('\n').find((l) => l.split(' ')[1] === '/dev/shm');
  if (!shm || shm.split(' ')[2] !== 'tmpfs') {
    t.pass('/dev/shm is not a tmpfs mount here');
    return;
  }
  // tmpfs refused O_DIRECT opens (EINVAL) until Linux 6.6, which added trivial direct I/O
  // support to shmem ("tmpfs: trivial support for direct IO"): page cache-backed, so
  // aligned O_DIRECT reads and writes succeed. The probe must say what the kernel really does.
  const [major, minor] = os.release().split('.').map((x) => parseInt(x, 10));
  const kernelSupports = major > 6 || (major === 6 && minor >= 6);
  t.is(probeDirectIO('/dev/shm'), kernelSupports, `kernel ${os.release()}`);
});

test('O_DIRECT write from an aligned SharedArrayBuffer slice, then setDirect(false) and a buffered tail', (t) => {
  const file = scratch('direct');
  const blocks = 64;
  const alignedLen = blocks * 4096;
  const tailLen = 1234;
  const content = randomBytes(alignedLen + tailLen);

  const sab = new SharedArrayBuffer(alignedLen + tailLen + 4096);
  const off = alignOffset(sab);
  t.true(off >= 0 && off < 4096);
  t.is(alignOffset(new SharedArrayBuffer(0)), 0);
  const aligned = new Uint8Array(sab, off, alignedLen);
  aligned.set(content.subarray(0, alignedLen));
  const tail = new Uint8Array(sab, off + alignedLen, tailLen);
  tail.set(content.subarray(alignedLen));
  // A view that starts at the aligned offset is itself aligned: a fresh alignOffset of a copy agrees.
  const ab = new ArrayBuffer(8192);
  t.true(alignOffset(ab) >= 0 && alignOffset(ab) < 4096);

  const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_DIRECT, 0o600);
  try {
    const cks = hashInit('xxhash');
    const etag = hashInit('md5');
    const hashes = [
      { kind: 'xxhash' as HashKind, state: cks },
      { kind: 'md5' as HashKind, state: etag },
    ];
    writeHashSync(fd, aligned, 0, hashes);

    // O_DIRECT really is on: an unaligned write is refused by ext4 (EINVAL), states untouched.
    const before = cks.slice();
    t.throws(() => writeHashSync(fd, tail, alignedLen, hashes), { code: 'EINVAL' });
    t.deepEqual(cks, before);

    setDirect(fd, false);
    writeHashSync(fd, tail, alignedLen, hashes);
    setDirect(fd, true); // toggling back works too
    setDirect(fd, false);

    t.is(hashDigest('xxhash', cks), xxhex(content));
    t.is(hashDigest('md5', etag), md5(content));
  } finally {
    fs.closeSync(fd);
  }
  t.true(fs.readFileSync(file).equals(content));

  // Read it back with O_DIRECT into the aligned slice.
  const rfd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  try {
    aligned.fill(0);
    const st = hashInit('md5');
    t.is(readHashSync(rfd, aligned, 0, 'md5', st), alignedLen);
    t.true(Buffer.from(aligned).equals(content.subarray(0, alignedLen)));
    t.is(hashDigest('md5', st), md5(content.subarray(0, alignedLen)));
  } finally {
    fs.closeSync(rfd);
  }
});

test('errors: bad fd → EBADF (like Node fs errors); bad kind → TypeError', async (t) => {
  const buf = Buffer.alloc(16);
  const ebadf = (fn: () => unknown, syscall: string) => {
    const err = t.throws(fn) as NodeJS.ErrnoException;
    t.is(err.code, 'EBADF', syscall);
    t.is(err.syscall, syscall);
    t.is(err.errno, -os.constants.errno.EBADF);
    t.regex(err.message, /^EBADF: bad file descriptor/);
  };
  ebadf(() => readHashSync(BAD_FD, buf, 0, 'md5', hashInit('md5')), 'read');
  ebadf(() => writeHashSync(BAD_FD, buf, 0, [{ kind: 'md5', state: hashInit('md5') }]), 'write');
  ebadf(() => writeHashSync(BAD_FD, new Uint8Array(0), 0, []), 'write');
  ebadf(() => fsetxattr(BAD_FD, 'user.x', buf), 'fsetxattr');
  ebadf(() => fgetxattr(BAD_FD, 'user.x'), 'fgetxattr');
  ebadf(() => setDirect(BAD_FD, true), 'fcntl');
  ebadf(() => readHashSync(-1, buf, 0, null, null), 'read');
  const rejected = await t.throwsAsync(readHash(BAD_FD, buf, 0, 'md5', hashInit('md5')));
  t.is((rejected as NodeJS.ErrnoException).code, 'EBADF');

  const bad = 'sha1' as unknown as HashKind;
  await t.throwsAsync(readHash(0, buf, 0, bad, hashInit('md5')), { instanceOf: TypeError });
  t.throws(() => readHashSync(0, buf, 0, bad, hashInit('md5')), { instanceOf: TypeError });
  t.throws(() => writeHashSync(0, buf, 0, [{ kind: bad, state: hashInit('md5') }]), { instanceOf: TypeError });
  t.throws(() => readHashSync(0, buf, 0, 'md5', null), { instanceOf: TypeError });
  t.throws(() => readHashSync(0, buf, 0, 'md5', hashInit('sha256')), { instanceOf: TypeError });
  t.throws(() => readHashSync('0' as unknown as number, buf, 0, null, null), { instanceOf: TypeError });
  t.throws(() => readHashSync(0, buf, -1, null, null), { instanceOf: RangeError });
  t.throws(() => readHashSync(0, buf, 1.5, null, null), { instanceOf: RangeError });
});
