import test from 'ava';
import { objectPath, objectNameOf, escapeSegment, unescapeSegment, compareNames } from '../src/fs/fqn';

test('plain names map to folders under %ob', (t) => {
  t.deepEqual(objectPath('dir/a.jpg'), { rel: '%ob/dir/a.jpg', long: false });
  t.deepEqual(objectPath('a'), { rel: '%ob/a', long: false });
});

test('special segments are escaped and cannot climb out', (t) => {
  t.is(objectPath('../x').rel, '%ob/%2E%2E/x');
  t.is(objectPath('a/./b').rel, '%ob/a/%2E/b');
  t.is(objectPath('a//b').rel, '%ob/a/%/b');
  t.is(objectPath('dir/').rel, '%ob/dir/%');
  t.is(objectPath('/lead').rel, '%ob/%/lead');
  t.is(objectPath('100%').rel, '%ob/100%25');
  t.is(objectPath('%ob').rel, '%ob/%25ob');
  for (const seg of objectPath('a/../../../etc/passwd').rel.split('/')) t.false(seg === '..' || seg === '.' || seg === '');
});

test('escaping round-trips for any segment', (t) => {
  for (const s of ['', '.', '..', '...', '%', '%%', '%2E', '%25', 'a%2Eb', 'plain', 'sp ace', 'ünï', '🙂']) {
    t.is(unescapeSegment(escapeSegment(s)), s, JSON.stringify(s));
  }
  const name = '../a//b/./%2E/c/';
  t.is(objectNameOf(objectPath(name).rel.slice('%ob/'.length)), name);
});

test('over-long segments go to %ln under a hash', (t) => {
  const p = objectPath(`dir/${'x'.repeat(300)}`);
  t.true(p.long);
  t.regex(p.rel, /^%ln\/[0-9a-f]{64}$/);
  t.false(objectPath(`dir/${'x'.repeat(255)}`).long);
  // multi-byte characters count in bytes: 128 x 2-byte chars = 256 bytes
  t.true(objectPath('é'.repeat(128)).long);
});

test('compareNames is UTF-8 byte order', (t) => {
  const names = ['b', 'a', 'a/', 'a0', 'A', '\u{1F642}', '\uFFFD', 'é', 'a b', 'a+b', ''];
  const byBytes = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  t.deepEqual([...names].sort(compareNames), byBytes);
  t.true(compareNames('\u{1F642}', '\uFFFD') > 0, 'U+1F642 sorts after U+FFFD in UTF-8 (not in UTF-16)');
});
