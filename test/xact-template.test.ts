// AIStore's list/range templates: zero padding, steps, several ranges, a template without a range is a
// prefix, bad ranges are refused.
import test from 'ava';
import { expandTemplate, parseTemplate } from '../src/xact/template';

const all = (t: string): string[] => [...expandTemplate(parseTemplate(t)!)];

test('a zero-padded range keeps its width', (t) => {
  t.deepEqual(all('shard-{0000..0003}.tar'), ['shard-0000.tar', 'shard-0001.tar', 'shard-0002.tar', 'shard-0003.tar']);
  t.is(all('shard-{0000..0999}.tar').length, 1000);
  t.is(all('shard-{0000..0999}.tar')[999], 'shard-0999.tar');
});

test('steps and several ranges (the last varies fastest)', (t) => {
  t.deepEqual(all('a{1..7..3}'), ['a1', 'a4', 'a7']);
  t.deepEqual(all('x{0..1}-y{08..10}'), ['x0-y08', 'x0-y09', 'x0-y10', 'x1-y08', 'x1-y09', 'x1-y10']);
  t.deepEqual(all('{5..5}'), ['5']);
});

test('no range: a prefix; bad ranges are errors', (t) => {
  t.is(parseTemplate('train/'), undefined);
  t.throws(() => parseTemplate('a{3..1}'), { message: /invalid range "\{3\.\.1\}"/ });
  t.throws(() => parseTemplate('a{1..2..0}'), { message: /invalid range/ });
  t.throws(() => parseTemplate('a{x..y}'), { message: /invalid template/ });
});
