import test from 'ava';
import { encodeLom, decodeLom, etagOf, LomError, type Lom } from '../src/fs/lom';

const lom: Lom = { size: 5, cksumType: 'xxhash', cksumValue: '0123456789abcdef', md5: 'd41d8cd98f00b204e9800998ecf8427e', mtime: 1_700_000_000_123, contentType: 'text/plain', meta: { k: 'v' } };

test('LOM round-trips through its encoding', (t) => {
  t.deepEqual(decodeLom(encodeLom(lom)), lom);
});

test('a flipped bit anywhere in the LOM is detected', (t) => {
  const buf = encodeLom(lom);
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf);
    bad[i] ^= 0x10;
    t.throws(() => decodeLom(bad), { instanceOf: LomError }, `byte ${i}`);
  }
  t.throws(() => decodeLom(buf.subarray(0, 5)), { instanceOf: LomError });
});

test('ETag: explicit, then MD5, then derived from the checksum', (t) => {
  t.is(etagOf({ ...lom, etag: 'abc-2' }), 'abc-2');
  t.is(etagOf(lom), lom.md5);
  t.is(etagOf({ ...lom, md5: undefined, cksumType: 'md5', cksumValue: 'ffff' }), 'ffff');
  t.regex(etagOf({ ...lom, md5: undefined })!, /^v1-0123456789abcdef-[0-9a-z]+$/);
  t.is(etagOf({ ...lom, md5: undefined, cksumType: 'none', cksumValue: '' }), undefined);
});
