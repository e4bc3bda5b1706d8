import test from 'ava';

import { contentRange, contentRangeUnsatisfied, parseRange } from '../src/s3/range';

test('first-last ranges', (t) => {
  t.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  t.deepEqual(parseRange('bytes=0-9', 10), { start: 0, end: 9 });
  t.deepEqual(parseRange('bytes=2-5', 10), { start: 2, end: 5 });
  t.deepEqual(parseRange('bytes=9-9', 10), { start: 9, end: 9 }); // the last byte
  t.deepEqual(parseRange('bytes=5-5', 10), { start: 5, end: 5 });
});

test('last beyond the end is clamped to size-1', (t) => {
  t.deepEqual(parseRange('bytes=0-10', 10), { start: 0, end: 9 });
  t.deepEqual(parseRange('bytes=5-99999999999999999999', 10), { start: 5, end: 9 });
  t.deepEqual(parseRange('bytes=2800-9223372036854775807', 2890), { start: 2800, end: 2889 });
});

test('open-ended ranges', (t) => {
  t.deepEqual(parseRange('bytes=0-', 10), { start: 0, end: 9 });
  t.deepEqual(parseRange('bytes=9-', 10), { start: 9, end: 9 });
  t.deepEqual(parseRange('bytes=2800-', 2890), { start: 2800, end: 2889 });
});

test('suffix ranges', (t) => {
  t.deepEqual(parseRange('bytes=-1', 10), { start: 9, end: 9 });
  t.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  t.deepEqual(parseRange('bytes=-10', 10), { start: 0, end: 9 });
  t.deepEqual(parseRange('bytes=-11', 10), { start: 0, end: 9 }); // bigger than the object: all of it
  t.deepEqual(parseRange('bytes=-150', 100), { start: 0, end: 99 });
  t.deepEqual(parseRange('bytes=-99999999999999999999', 100), { start: 0, end: 99 });
});

test('start at or past the end is unsatisfiable (416)', (t) => {
  t.is(parseRange('bytes=10-', 10), 'unsatisfiable');
  t.is(parseRange('bytes=10-10', 10), 'unsatisfiable');
  t.is(parseRange('bytes=10-20', 10), 'unsatisfiable');
  t.is(parseRange('bytes=11-', 10), 'unsatisfiable');
  t.is(parseRange('bytes=99999999999999999999-', 10), 'unsatisfiable');
});

test('suffix of zero bytes is unsatisfiable', (t) => {
  t.is(parseRange('bytes=-0', 10), 'unsatisfiable');
  t.is(parseRange('bytes=-0', 0), 'unsatisfiable');
});

test('empty object: any first-last range is 416, a suffix range is the whole (empty) object', (t) => {
  t.is(parseRange('bytes=0-', 0), 'unsatisfiable');
  t.is(parseRange('bytes=0-0', 0), 'unsatisfiable');
  t.is(parseRange('bytes=0-5242879', 0), 'unsatisfiable');
  t.is(parseRange('bytes=1-2', 0), 'unsatisfiable');
  t.is(parseRange('bytes=-1', 0), null);
  t.is(parseRange('bytes=-524288', 0), null);
});

test('first greater than last is ignored (whole object, 200)', (t) => {
  t.is(parseRange('bytes=5-1', 10), null);
  t.is(parseRange('bytes=1-0', 4), null);
  t.is(parseRange('bytes=3-0', 4), null);
  t.is(parseRange('bytes=20-10', 10), null); // invalid before unsatisfiable
});

test('several ranges are ignored, as S3 does', (t) => {
  t.is(parseRange('bytes=0-1,5-6', 10), null);
  t.is(parseRange('bytes=0-499,500-502', 1000), null);
  t.is(parseRange('bytes=-1,0-0', 10), null);
});

test('empty list elements do not make a second range', (t) => {
  t.deepEqual(parseRange('bytes=0-1,', 10), { start: 0, end: 1 });
  t.deepEqual(parseRange('bytes=, 2-3 ,', 10), { start: 2, end: 3 });
});

test('malformed headers are ignored', (t) => {
  for (const h of ['', ' ', 'bytes', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=1-a', 'bytes=1.5-2', 'bytes=+1-2', 'bytes=1--2',
    'bytes=0x1-2', 'items=0-1', 'bytes 0-1', '0-1', 'bytes=1-2-3', 'bytes=- 1']) {
    t.is(parseRange(h, 10), null, JSON.stringify(h));
  }
});

test('unit is case-insensitive, spaces around the spec tolerated', (t) => {
  t.deepEqual(parseRange('Bytes=0-1', 10), { start: 0, end: 1 });
  t.deepEqual(parseRange('BYTES=0-1', 10), { start: 0, end: 1 });
  t.deepEqual(parseRange('bytes= 0-1 ', 10), { start: 0, end: 1 });
  t.deepEqual(parseRange('bytes=007-008', 10), { start: 7, end: 8 });
});

test('large objects beyond 32 bits', (t) => {
  const size = 5 * 1024 ** 4; // 5 TiB
  t.deepEqual(parseRange('bytes=4294967296-4294967299', size), { start: 4294967296, end: 4294967299 });
  t.deepEqual(parseRange('bytes=-1', size), { start: size - 1, end: size - 1 });
});

test('Content-Range values', (t) => {
  t.is(contentRange(0, 0, 1), 'bytes 0-0/1');
  t.is(contentRange(4, 8, 11), 'bytes 4-8/11');
  t.is(contentRange(0, 499, 74153027), 'bytes 0-499/74153027');
  t.is(contentRangeUnsatisfied(0), 'bytes */0');
  t.is(contentRangeUnsatisfied(10), 'bytes */10');
});
