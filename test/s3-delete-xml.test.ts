// The DeleteObjects body parser (sax, streaming, bounded): what S3 accepts, and MalformedXML for the rest.
import test from 'ava';
import { DeleteXmlParser, parseDeleteXml, MAX_DELETE_KEYS } from '../src/s3/delete-xml';
import { S3Error } from '../src/s3/errors';

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

function body(objects: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="${NS}">${extra}${objects}</Delete>`;
}

function malformed(t: import('ava').ExecutionContext, xml: string | Buffer, maxKeys?: number): void {
  const err = t.throws(() => parseDeleteXml(xml, maxKeys));
  t.true(err instanceof S3Error, String(err));
  t.is((err as S3Error).code, 'MalformedXML', xml.toString().slice(0, 200));
  t.is((err as S3Error).status, 400);
}

test('keys, version ids and Quiet', (t) => {
  const r = parseDeleteXml(body('<Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>null</VersionId></Object>', '<Quiet>true</Quiet>'));
  t.deepEqual(r, { quiet: true, objects: [{ key: 'a', versionId: undefined }, { key: 'b/c', versionId: 'null' }] });
  t.is(parseDeleteXml(body('<Object><Key>a</Key></Object>')).quiet, false);
  t.is(parseDeleteXml(body('<Object><Key>a</Key></Object>', '<Quiet> FALSE </Quiet>')).quiet, false);
  // Quiet may come after the objects; no namespace is fine; a prefix is fine.
  t.true(parseDeleteXml('<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>').quiet);
  t.deepEqual(parseDeleteXml(`<s3:Delete xmlns:s3="${NS}"><s3:Object><s3:Key>k</s3:Key></s3:Object></s3:Delete>`).objects, [{ key: 'k', versionId: undefined }]);
});

test('keys are taken verbatim: spaces, entities, character references, CDATA, unicode', (t) => {
  const r = parseDeleteXml(
    body(
      '<Object><Key> lead and trail </Key></Object>' +
        '<Object><Key>a&amp;b&lt;c&gt;d&quot;e&apos;f</Key></Object>' +
        '<Object><Key>tab&#x9;nl&#xA;cr&#xD;</Key></Object>' +
        '<Object><Key><![CDATA[<raw>&]]></Key></Object>' +
        '<Object><Key>ünï/😀</Key></Object>',
    ),
  );
  t.deepEqual(
    r.objects.map((o) => o.key),
    [' lead and trail ', 'a&b<c>d"e\'f', 'tab\tnl\ncr\r', '<raw>&', 'ünï/😀'],
  );
});

test('newer optional children of Object (ETag, Size, ...) are ignored', (t) => {
  const r = parseDeleteXml(body('<Object><Key>k</Key><ETag>"abc"</ETag><LastModifiedTime>2024-01-01T00:00:00Z</LastModifiedTime><Size>3</Size></Object>'));
  t.deepEqual(r.objects, [{ key: 'k', versionId: undefined }]);
});

test('streaming: any split of the bytes, including inside a UTF-8 character', (t) => {
  const xml = Buffer.from(body('<Object><Key>ünï/😀-1</Key></Object><Object><Key>x&amp;y</Key></Object>', '<Quiet>true</Quiet>'));
  for (let step = 1; step <= 7; step++) {
    const p = new DeleteXmlParser();
    for (let i = 0; i < xml.length; i += step) p.write(xml.subarray(i, i + step));
    t.deepEqual(p.end(), { quiet: true, objects: [{ key: 'ünï/😀-1', versionId: undefined }, { key: 'x&y', versionId: undefined }] });
  }
});

test('up to 1000 keys; 1001 is MalformedXML', (t) => {
  const objs = (n: number): string => Array.from({ length: n }, (_, i) => `<Object><Key>k${i}</Key></Object>`).join('');
  t.is(parseDeleteXml(body(objs(MAX_DELETE_KEYS))).objects.length, 1000);
  malformed(t, body(objs(MAX_DELETE_KEYS + 1)));
  malformed(t, body(objs(4)), 3);
});

test('malformed documents', (t) => {
  for (const xml of [
    '',
    '   ',
    'not xml',
    '<Delete>',
    '<Delete><Object><Key>a</Key></Object>',
    '<Delete></Delete>', // no objects
    '<Delete><Quiet>true</Quiet></Delete>',
    '<Remove><Object><Key>a</Key></Object></Remove>',
    '<Delete><Object></Object></Delete>', // no key
    '<Delete><Object><VersionId>v</VersionId></Object></Delete>',
    '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>',
    '<Delete><Object><Key>a<b/></Key></Object></Delete>',
    '<Delete><Key>a</Key></Delete>',
    '<Delete><Object><Key>a</Key></Object><Bogus/></Delete>',
    '<Delete><Quiet>yes</Quiet><Object><Key>a</Key></Object></Delete>',
    '<Delete><Quiet>true</Quiet><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>',
    '<Delete>text<Object><Key>a</Key></Object></Delete>',
    '<Delete><Object><Key>a</Key></Object></Delete><Delete/>',
    '<Delete><Object><Key>a&bogus;</Key></Object></Delete>',
    '<Delete><Object><Key>a</Key></Object></Delet>',
    '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>',
  ]) {
    malformed(t, xml);
  }
  malformed(t, Buffer.from([0x3c, 0x44, 0xff, 0xfe]));
});

test('byte cap: a body over the cap fails while streaming', (t) => {
  const p = new DeleteXmlParser(1000, 1024);
  p.write(Buffer.from('<Delete><Object><Key>'));
  const err = t.throws(() => p.write(Buffer.alloc(2000, 0x61)));
  t.is((err as S3Error).code, 'MalformedXML');
  // Further writes keep failing the same way.
  t.throws(() => p.write(Buffer.from('x')));
});
