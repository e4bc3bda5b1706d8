// Unit: object tags — the x-amz-tagging header, the <Tagging> body (sax, strict), the answer XML, and
// S3's limits — with no server.
import test from 'ava';
import { parseTaggingHeader, parseTaggingXml, taggingXml, validateTags, TaggingXmlParser } from '../src/s3/tagging';
import { S3Error } from '../src/s3/errors';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  return 'ok';
}

test('x-amz-tagging: query form, + and %20 are spaces, %2B a plus, empty values, empty header', (t) => {
  t.deepEqual(parseTaggingHeader('a=1&b=two+words&c=x%2By&d=&e'), [['a', '1'], ['b', 'two words'], ['c', 'x+y'], ['d', ''], ['e', '']]);
  t.deepEqual(parseTaggingHeader('k%C3%A9y=v%C3%A4l'), [['kéy', 'väl']]);
  t.deepEqual(parseTaggingHeader(''), []);
  t.is(code(() => parseTaggingHeader('a=1&a=2')), 'InvalidTag');
  t.is(code(() => parseTaggingHeader('=v')), 'InvalidTag');
  t.is(code(() => parseTaggingHeader('a=%ZZ')), 'InvalidArgument');
  t.is(code(() => parseTaggingHeader(Array.from({ length: 11 }, (_, i) => `k${i}=v`).join('&'))), 'InvalidTag');
});

test('limits count characters, not bytes', (t) => {
  t.is(code(() => validateTags([['é'.repeat(128), 'ü'.repeat(256)]])), 'ok');
  t.is(code(() => validateTags([['é'.repeat(129), '']])), 'InvalidTag');
  t.is(code(() => validateTags([['k', 'ü'.repeat(257)]])), 'InvalidTag');
  t.is(code(() => validateTags([['😀'.repeat(128), '']])), 'ok'); // astral characters count once
  t.is(code(() => validateTags([['AWS:x', '1']])), 'InvalidTag');
  t.is(code(() => validateTags(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'] as [string, string]))), 'ok');
});

test('<Tagging> body: namespaces, entities and CDATA; malformed documents are MalformedXML', (t) => {
  const body = '<?xml version="1.0"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>' +
    '<Tag><Key>a&amp;b</Key><Value><![CDATA[<x>]]></Value></Tag><Tag><Value>2</Value><Key>k2</Key></Tag></TagSet></Tagging>';
  t.deepEqual(parseTaggingXml(body), [['a&b', '<x>'], ['k2', '2']]);
  t.deepEqual(parseTaggingXml('<Tagging><TagSet/></Tagging>'), []);
  for (const bad of ['', 'nope', '<Tagging/>', '<Other><TagSet/></Other>', '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>',
    '<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>', '<Tagging><TagSet></TagSet><TagSet/></Tagging>',
    '<!DOCTYPE x [<!ENTITY e "v">]><Tagging><TagSet/></Tagging>', '<Tagging><TagSet>text</TagSet></Tagging>']) {
    t.is(code(() => parseTaggingXml(bad)), 'MalformedXML', bad);
  }
  const eleven = '<Tagging><TagSet>' + Array.from({ length: 11 }, (_, i) => `<Tag><Key>k${i}</Key><Value/></Tag>`).join('') + '</TagSet></Tagging>';
  t.is(code(() => parseTaggingXml(eleven)), 'InvalidTag');
  t.is(code(() => parseTaggingXml('<Tagging><TagSet><Tag><Key>d</Key><Value/></Tag><Tag><Key>d</Key><Value/></Tag></TagSet></Tagging>')), 'InvalidTag');
});

test('the body is parsed as it arrives, split anywhere (even inside a UTF-8 character); its size is capped', (t) => {
  const doc = Buffer.from('<Tagging><TagSet><Tag><Key>ключ</Key><Value>значение</Value></Tag></TagSet></Tagging>');
  for (let cut = 1; cut < doc.length; cut += 7) {
    const p = new TaggingXmlParser();
    p.write(doc.subarray(0, cut));
    p.write(doc.subarray(cut));
    t.deepEqual(p.end(), [['ключ', 'значение']]);
  }
  const p = new TaggingXmlParser();
  t.is(code(() => p.write(Buffer.alloc(65 * 1024, 0x20))), 'MalformedXML');
});

test('taggingXml escapes and round-trips', (t) => {
  const tags: [string, string][] = [['a<b', 'c&d "e"'], ['é', '']];
  const xml = taggingXml(tags);
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a&lt;b</Key>'));
  t.deepEqual(parseTaggingXml(xml), tags);
});
