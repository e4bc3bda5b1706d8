import test from 'ava';
import { xoshiroHash, digestOf, hrwSelect, objectUname, MLCG32 } from '../src/cluster/hrw';
import { xxh64String } from '../src/native';

test('xoshiro256 finalizer matches AIStore test vectors', (t) => {
  t.is(xoshiroHash(4573842n), 5026071747115404967n);
  t.is(xoshiroHash(0n), 1905207664160064169n);
});

test('digests are XXH64 with seed MLCG32', (t) => {
  t.is(MLCG32, 1103515245n);
  t.is(digestOf('t1'), xxh64String('t1', 1103515245n));
  t.not(digestOf('t1'), xxh64String('t1'));
});

test('uname is provider/@#/bucket/object', (t) => {
  t.is(objectUname('ais', 'mybucket', 'dir/a.jpg'), 'ais/@#/mybucket/dir/a.jpg');
});

test('hrwSelect picks the argmax of xoshiro(digest ^ hash(uname))', (t) => {
  const cands = ['/mp/1', '/mp/2', '/mp/3', '/mp/4'].map((p) => ({ p, digest: digestOf(p) }));
  for (let i = 0; i < 200; i++) {
    const uname = objectUname('ais', 'b', `obj-${i}`);
    const h = xxh64String(uname, MLCG32);
    let best = cands[0];
    for (const c of cands) if (xoshiroHash(c.digest ^ h) >= xoshiroHash(best.digest ^ h)) best = c;
    t.is(hrwSelect(cands, uname), best);
  }
});

test('hrw spreads objects and moves only what must move when a candidate is added', (t) => {
  const three = ['a', 'b', 'c'].map((p) => ({ p, digest: digestOf(p) }));
  const four = [...three, { p: 'd', digest: digestOf('d') }];
  const counts = new Map<string, number>();
  let moved = 0;
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const u = objectUname('ais', 'b', `o${i}`);
    const before = hrwSelect(three, u)!.p;
    const after = hrwSelect(four, u)!.p;
    counts.set(before, (counts.get(before) ?? 0) + 1);
    if (before !== after) {
      moved++;
      t.is(after, 'd', 'an object only ever moves to the new candidate');
    }
  }
  for (const c of counts.values()) t.true(c > n / 3 - n / 10 && c < n / 3 + n / 10);
  t.true(moved > n / 4 - n / 10 && moved < n / 4 + n / 10);
});
