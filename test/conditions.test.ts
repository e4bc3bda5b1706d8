// The precondition evaluator (RFC 9110 §13.2.2 as S3 applies it) and the PUT condition rules, without a server.
import test from 'ava';
import { evaluate, etagMatches, putCondition, putConditionError, type ConditionHeaders } from '../src/target/conditions';
import type { Lom } from '../src/fs/lom';

const ETAG = '0123456789abcdef0123456789abcdef';
const MTIME = Date.UTC(2024, 4, 14, 14, 25, 0, 678); // Last-Modified: Tue, 14 May 2024 14:25:00 GMT
const LM = new Date(MTIME).toUTCString();
const BEFORE = new Date(MTIME - 1000).toUTCString();
const AFTER = new Date(MTIME + 1000).toUTCString();

function c(h: Partial<ConditionHeaders>): ConditionHeaders {
  return { ifMatch: '', ifNoneMatch: '', ifModifiedSince: '', ifUnmodifiedSince: '', ...h };
}

function v(h: Partial<ConditionHeaders>, etag: string | undefined = ETAG): string {
  const r = evaluate(c(h), etag, MTIME);
  return r.ok ? '200' : `${r.status} ${r.condition}`;
}

test('ETag lists: quoted, unquoted, weak, *, spaces', (t) => {
  t.true(etagMatches(`"${ETAG}"`, ETAG));
  t.true(etagMatches(ETAG, ETAG));
  t.true(etagMatches(`W/"${ETAG}"`, ETAG));
  t.true(etagMatches(` "x" ,  "${ETAG}" `, ETAG));
  t.true(etagMatches('*', ETAG));
  t.true(etagMatches('*', undefined));
  t.false(etagMatches('"x"', ETAG));
  t.false(etagMatches(`"${ETAG}"`, undefined));
  t.false(etagMatches('', ETAG));
});

test('each condition alone', (t) => {
  t.is(v({}), '200');
  t.is(v({ ifMatch: `"${ETAG}"` }), '200');
  t.is(v({ ifMatch: '"x"' }), '412 If-Match');
  t.is(v({ ifNoneMatch: `"${ETAG}"` }), '304 If-None-Match');
  t.is(v({ ifNoneMatch: '"x"' }), '200');
  t.is(v({ ifModifiedSince: BEFORE }), '200');
  t.is(v({ ifModifiedSince: LM }), '304 If-Modified-Since'); // the milliseconds do not count
  t.is(v({ ifModifiedSince: AFTER }), '304 If-Modified-Since');
  t.is(v({ ifUnmodifiedSince: LM }), '200');
  t.is(v({ ifUnmodifiedSince: AFTER }), '200');
  t.is(v({ ifUnmodifiedSince: BEFORE }), '412 If-Unmodified-Since');
});

test('invalid dates are ignored', (t) => {
  t.is(v({ ifModifiedSince: '2024-05-14' }), '200');
  t.is(v({ ifUnmodifiedSince: 'garbage' }), '200');
});

test('precedence', (t) => {
  t.is(v({ ifMatch: ETAG, ifUnmodifiedSince: BEFORE }), '200');
  t.is(v({ ifMatch: '"x"', ifUnmodifiedSince: AFTER }), '412 If-Match');
  t.is(v({ ifNoneMatch: ETAG, ifModifiedSince: BEFORE }), '304 If-None-Match');
  t.is(v({ ifNoneMatch: '"x"', ifModifiedSince: AFTER }), '200');
  t.is(v({ ifUnmodifiedSince: BEFORE, ifNoneMatch: ETAG }), '412 If-Unmodified-Since');
  t.is(v({ ifMatch: ETAG, ifNoneMatch: ETAG }), '304 If-None-Match');
  t.is(v({ ifMatch: '*', ifNoneMatch: '"x"', ifModifiedSince: AFTER, ifUnmodifiedSince: BEFORE }), '200');
});

test('PUT conditions', (t) => {
  const get = (h: Record<string, string>) => (n: string) => h[n] ?? '';
  t.is(putCondition(get({}), ['/p']), undefined);
  const star = putCondition(get({ 'if-none-match': '*' }), ['/p'])!;
  t.true(star.noneMatchStar);
  const err = t.throws(() => putCondition(get({ 'if-none-match': '"abc"' }), ['/p']));
  t.is((err as { code?: string }).code, 'NotImplemented');
  const lom: Lom = { size: 1, cksumType: 'xxhash', cksumValue: '00', md5: ETAG, mtime: MTIME };
  t.is(putConditionError(star, undefined), undefined);
  t.deepEqual(putConditionError(star, lom), { code: 'PreconditionFailed', condition: 'If-None-Match' });
  const im = putCondition(get({ 'if-match': `"${ETAG}"` }), ['/p'])!;
  t.is(putConditionError(im, lom), undefined);
  t.deepEqual(putConditionError(im, { ...lom, md5: 'ff' }), { code: 'PreconditionFailed', condition: 'If-Match' });
  t.deepEqual(putConditionError(im, undefined), { code: 'NoSuchKey', condition: 'If-Match' });
});
