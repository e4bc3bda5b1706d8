import test from 'ava';
import { frame, unframe } from '../src/fs/framed';

const payload = Buffer.from('some msgpack payload');

test('a framed payload round-trips', (t) => {
  const buf = frame(3, payload);
  t.is(buf.length, 9 + payload.length);
  t.is(buf[0], 3);
  t.deepEqual(unframe(buf, 3), payload);
});

test('the frame is byte-stable: version, XXH64 (seed 1103515245) big-endian, payload', (t) => {
  // Pinned bytes (the hash checked against xxhash-wasm): what was written before must still read.
  const pinned = Buffer.from('01a89f935f7bdc1f8c616263', 'hex');
  t.deepEqual(frame(1, Buffer.from('abc')), pinned);
  t.deepEqual(unframe(pinned, 1), Buffer.from('abc'));
});

test('another version is refused', (t) => {
  t.is(unframe(frame(1, payload), 2), 'version');
});

test('a truncated frame is refused', (t) => {
  const buf = frame(1, payload);
  t.is(unframe(buf.subarray(0, 5), 1), 'version');
  t.is(unframe(buf.subarray(0, 9), 1), 'version'); // header only, empty payload
  t.is(unframe(Buffer.alloc(0), 1), 'version');
  t.is(unframe(buf.subarray(0, buf.length - 1), 1), 'checksum');
});

test('a flipped byte anywhere is refused', (t) => {
  const buf = frame(1, payload);
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i] ^= 0x01;
    t.is(unframe(bad, 1), i === 0 ? 'version' : 'checksum', `byte ${i}`);
  }
});
