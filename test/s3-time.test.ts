import test from 'ava';

import { httpDate, isoDate, parseHttpDate } from '../src/s3/time';

const T = Date.UTC(1994, 10, 6, 8, 49, 37);

test('httpDate is IMF-fixdate', (t) => {
  t.is(httpDate(T), 'Sun, 06 Nov 1994 08:49:37 GMT');
  t.is(httpDate(Date.UTC(2023, 4, 14, 14, 25, 0, 999)), 'Sun, 14 May 2023 14:25:00 GMT');
  t.is(httpDate(0), 'Thu, 01 Jan 1970 00:00:00 GMT');
});

test('isoDate has milliseconds and Z', (t) => {
  t.is(isoDate(Date.UTC(2023, 4, 14, 14, 25, 0)), '2023-05-14T14:25:00.000Z');
  t.is(isoDate(Date.UTC(2023, 4, 14, 14, 25, 0, 7)), '2023-05-14T14:25:00.007Z');
  t.is(isoDate(1684074300000.9), '2023-05-14T14:25:00.000Z'); // fs mtimeMs may be fractional
});

test('isoDate matches Date#toISOString everywhere', (t) => {
  const samples = [
    0, -1, 1, 951_782_400_000 /* 2000-02-29 */, 4_107_542_400_000 /* 2100-02-28 */, 4_107_628_800_000 /* 2100-03-01 */,
    -62_167_219_200_000 /* 0000-01-01 */, -62_167_219_200_001, 253_402_300_799_999 /* 9999-12-31T23:59:59.999 */,
    253_402_300_800_000, -8_640_000_000_000_000, 8_640_000_000_000_000,
  ];
  let x = 12345;
  for (let i = 0; i < 20000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    samples.push(Math.floor((x / 2147483648 - 0.5) * 2 * 300_000_000_000_000) % 8_640_000_000_000_000);
    samples.push(1_600_000_000_000 + x * 37);
  }
  for (const ms of samples) {
    if (new Date(ms).toISOString() !== isoDate(ms)) return t.fail(`mismatch at ${ms}: ${isoDate(ms)}`);
  }
  t.pass();
});

test('parseHttpDate accepts the three RFC 9110 forms', (t) => {
  t.is(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), T);
  t.is(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), T);
  t.is(parseHttpDate('Sun Nov  6 08:49:37 1994'), T);
  t.is(parseHttpDate('  Sun, 06 Nov 1994 08:49:37 GMT '), T);
  t.is(parseHttpDate(httpDate(1_700_000_000_000)), 1_700_000_000_000);
});

test('parseHttpDate rejects everything else', (t) => {
  for (const s of ['', '2023-05-14', '2023-05-14T14:25:00Z', 'Sun, 6 Nov 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Foo 1994 08:49:37 GMT', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 24:00:00 GMT', 'garbage']) {
    t.is(parseHttpDate(s), undefined, s);
  }
});
