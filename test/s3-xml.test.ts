import { spawnSync } from 'node:child_process';

import test from 'ava';
import sax from 'sax';

import { listBucketsXml, locationXml, versioningXml } from '../src/s3/bucket-xml';
import {
  errorXml, invalidRange, methodNotAllowed, noSuchBucket, noSuchKey, noSuchUpload, s3err, S3_ERRORS, S3Error,
} from '../src/s3/errors';
import { listObjectsV1Xml, listObjectsV2Xml, type ListEntry, type Owner } from '../src/s3/list-xml';
import { completeMultipartUploadXml, copyResultXml, deleteResultXml, initiateMultipartUploadXml } from '../src/s3/object-xml';
import { listingUrlEncode } from '../src/s3/uri';
import { escapeXml, S3_XMLNS, XML_DECL, XmlWriter } from '../src/s3/xml';

// ---- a small tree built with sax (strict), to read back what we wrote

interface XNode {
  name: string;
  attrs: Record<string, string>;
  children: XNode[];
  text: string;
}

function parseXml(xml: string): XNode {
  const parser = sax.parser(true, { trim: false, normalize: false });
  const doc: XNode = { name: '#doc', attrs: {}, children: [], text: '' };
  const stack: XNode[] = [doc];
  const top = (): XNode => stack[stack.length - 1] as XNode;
  parser.onopentag = (tag) => {
    const node: XNode = { name: tag.name, attrs: tag.attributes as Record<string, string>, children: [], text: '' };
    top().children.push(node);
    stack.push(node);
  };
  parser.onclosetag = () => void stack.pop();
  parser.ontext = (s) => void (top().text += s);
  parser.onerror = (e) => {
    throw e;
  };
  parser.write(xml).close();
  return doc.children[0] as XNode;
}

function child(n: XNode, name: string): XNode | undefined {
  return n.children.find((c) => c.name === name);
}

function childText(n: XNode, name: string): string | undefined {
  return child(n, name)?.text;
}

function all(n: XNode, name: string): XNode[] {
  return n.children.filter((c) => c.name === name);
}

// Python's urllib.parse.unquote_plus, which botocore applies to listings (botocore.compat.unquote_str,
// handlers._decode_list_object): '+' → ' ', %XX → byte, bytes read as UTF-8.
function unquotePlus(s: string): string {
  const b = Buffer.from(s.replace(/\+/g, ' '), 'utf8');
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    const h = i + 2 < b.length ? String.fromCharCode(b[i + 1] as number, b[i + 2] as number) : '';
    if (b[i] === 0x25 && /^[0-9A-Fa-f]{2}$/.test(h)) {
      out.push(parseInt(h, 16));
      i += 2;
    } else {
      out.push(b[i] as number);
    }
  }
  return Buffer.from(out).toString('utf8');
}

const OWNER: Owner = { id: 'tais', displayName: 'tais' };
const T0 = Date.UTC(2023, 4, 14, 14, 25, 0, 0);

const HOSTILE_KEYS = [
  'a b', 'a+b', 'a%b', '100%25', '%2F', 'ünïcødé', '日本/語', '😀', 'dir/sub dir/', '<&>"\'', 'tab\there',
  'new\nline', 'cr\rhere', 'crlf\r\n', '~tilde*star', "!$&'()*+,;=:@", '?#[]', '\u007fdel', '\ufeffbom',
  ' lead and trail ', 'a//b', './x', 'q=1&r=2', '\u00a0nbsp', '\u2028ls', '𝄞 clef',
];

function entries(keys: readonly string[]): ListEntry[] {
  return keys.map((key, i) => ({ key, size: i, mtimeMs: T0 + i, etag: 'e' + i }));
}

// ---- escaping

test('escapeXml: markup and quotes', (t) => {
  t.is(escapeXml('plain text'), 'plain text');
  t.is(escapeXml(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  t.is(escapeXml('&amp;'), '&amp;amp;');
  t.is(escapeXml(''), '');
});

test('escapeXml: TAB/LF/CR become references so parsers keep them', (t) => {
  t.is(escapeXml('a\tb\nc\rd'), 'a&#x9;b&#xA;c&#xD;d');
  t.is(parseXml('<K>' + escapeXml('x\r\ny\rz') + '</K>').text, 'x\r\ny\rz');
});

test('escapeXml: other C0 controls and U+FFFE/U+FFFF become references like S3', (t) => {
  t.is(escapeXml('a\u0001b'), 'a&#x1;b');
  t.is(escapeXml('\u0000\u0008\u000b\u000c\u001f'), '&#x0;&#x8;&#xB;&#xC;&#x1F;');
  t.is(escapeXml('\ufffe\uffff'), '&#xFFFE;&#xFFFF;');
});

test('escapeXml: surrogate pairs kept, lone surrogates replaced', (t) => {
  t.is(escapeXml('😀<'), '😀&lt;');
  t.is(escapeXml('a\ud800b'), 'a\ufffdb');
  t.is(escapeXml('a\udc00'), 'a\ufffd');
  t.is(escapeXml('\ud83d'), '\ufffd');
  t.is(escapeXml('é\u00a0\u2028\ufffd'), 'é\u00a0\u2028\ufffd');
});

test('XmlWriter: declaration, namespace, nesting, unclosed elements rejected', (t) => {
  const xml = new XmlWriter().start('Root', S3_XMLNS).text('A', 'x<y').text('N', 42).text('B', false).maybe('M', undefined)
    .start('C').text('D', '').end().end().toString();
  t.is(xml, XML_DECL + `<Root xmlns="${S3_XMLNS}"><A>x&lt;y</A><N>42</N><B>false</B><C><D></D></C></Root>`);
  t.throws(() => new XmlWriter().start('Root').toString());
  t.throws(() => new XmlWriter().end());
  t.is(S3_XMLNS, 'http://s3.amazonaws.com/doc/2006-03-01/');
});

// ---- errors

test('error table has the codes and statuses S3 uses', (t) => {
  const expected: Record<string, number> = {
    AccessDenied: 403, BadDigest: 400, BucketAlreadyExists: 409, BucketAlreadyOwnedByYou: 409, BucketNotEmpty: 409,
    EntityTooLarge: 400, EntityTooSmall: 400, IncompleteBody: 400, InternalError: 500, InvalidArgument: 400,
    InvalidBucketName: 400, InvalidDigest: 400, InvalidPart: 400, InvalidPartOrder: 400, InvalidRange: 416,
    InvalidRequest: 400, InvalidURI: 400, KeyTooLongError: 400, MalformedXML: 400, MethodNotAllowed: 405,
    MissingContentLength: 411, NoSuchBucket: 404, NoSuchKey: 404, NoSuchUpload: 404, NotImplemented: 501,
    PreconditionFailed: 412, NotModified: 304, SignatureDoesNotMatch: 403, InvalidAccessKeyId: 403,
    RequestTimeTooSkewed: 403, SlowDown: 503, ServiceUnavailable: 503, XAmzContentSHA256Mismatch: 400,
    XTaisObjectNameConflict: 409, RequestHeaderSectionTooLarge: 400, UnexpectedContent: 400,
  };
  for (const [code, status] of Object.entries(expected)) {
    t.is((S3_ERRORS as Record<string, { status: number }>)[code]?.status, status, code);
  }
  for (const [code, spec] of Object.entries(S3_ERRORS)) t.true(spec.message.length > 0, code);
});

test('S3Error carries code, status, default or custom message', (t) => {
  const e = s3err('NoSuchKey');
  t.true(e instanceof Error);
  t.true(e instanceof S3Error);
  t.is(e.code, 'NoSuchKey');
  t.is(e.status, 404);
  t.is(e.message, S3_ERRORS.NoSuchKey.message);
  t.is(s3err('InvalidArgument', 'custom').message, 'custom');
  t.is(s3err('InvalidArgument', 'custom').status, 400);
});

test('errorXml: shape of the S3 error body', (t) => {
  const xml = errorXml(noSuchKey('bkt', 'a/b c'), 'req-1');
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>'));
  const root = parseXml(xml);
  t.is(root.name, 'Error');
  t.deepEqual(root.children.map((c) => c.name), ['Code', 'Message', 'Resource', 'RequestId', 'Key']);
  t.is(childText(root, 'Resource'), '/bkt/a/b c');
  t.is(childText(root, 'RequestId'), 'req-1');
  t.is(childText(root, 'Key'), 'a/b c');
});

test('errorXml: extra elements for NoSuchBucket, InvalidRange, NoSuchUpload, MethodNotAllowed', (t) => {
  t.is(childText(parseXml(errorXml(noSuchBucket('bkt'), 'r')), 'BucketName'), 'bkt');
  const range = parseXml(errorXml(invalidRange('bytes=10-', 5), 'r'));
  t.is(childText(range, 'Code'), 'InvalidRange');
  t.is(childText(range, 'RangeRequested'), 'bytes=10-');
  t.is(childText(range, 'ActualObjectSize'), '5');
  t.is(childText(parseXml(errorXml(noSuchUpload('u-1'), 'r')), 'UploadId'), 'u-1');
  const mna = parseXml(errorXml(methodNotAllowed('PATCH', 'OBJECT'), 'r'));
  t.is(childText(mna, 'Method'), 'PATCH');
  t.is(childText(mna, 'ResourceType'), 'OBJECT');
});

test('errorXml: everything escaped, bad extra element names dropped', (t) => {
  const err = new S3Error('InvalidArgument', 'bad <arg> & "quote"', { ArgumentValue: '</Error><x>', 'bad name': 'v', ['<x']: 'y' }, '/b/<k>');
  const xml = errorXml(err, '<id>');
  const root = parseXml(xml);
  t.is(childText(root, 'Message'), 'bad <arg> & "quote"');
  t.is(childText(root, 'ArgumentValue'), '</Error><x>');
  t.is(childText(root, 'Resource'), '/b/<k>');
  t.is(childText(root, 'RequestId'), '<id>');
  t.is(root.children.length, 5);
});

test('errorXml: resource empty when unknown', (t) => {
  t.is(childText(parseXml(errorXml(s3err('InternalError'), 'r')), 'Resource'), '');
});

// ---- ListAllMyBuckets and friends

test('ListAllMyBucketsResult', (t) => {
  const xml = listBucketsXml({ buckets: [{ name: 'a', creationMs: T0 }, { name: 'b.c', creationMs: T0 + 1 }] }, { id: 'id<1>', displayName: 'me' });
  t.true(xml.startsWith(XML_DECL + `<ListAllMyBucketsResult xmlns="${S3_XMLNS}"><Owner><ID>id&lt;1&gt;</ID><DisplayName>me</DisplayName></Owner><Buckets><Bucket><Name>a</Name><CreationDate>2023-05-14T14:25:00.000Z</CreationDate></Bucket>`));
  const root = parseXml(xml);
  const buckets = all(child(root, 'Buckets') as XNode, 'Bucket');
  t.deepEqual(buckets.map((b) => [childText(b, 'Name'), childText(b, 'CreationDate')]), [
    ['a', '2023-05-14T14:25:00.000Z'],
    ['b.c', '2023-05-14T14:25:00.001Z'],
  ]);
  t.is(child(root, 'ContinuationToken'), undefined);
  const empty = parseXml(listBucketsXml({ buckets: [], continuationToken: 'tok', prefix: 'p' }, OWNER));
  t.is(child(empty, 'Buckets')?.children.length, 0);
  t.is(childText(empty, 'ContinuationToken'), 'tok');
  t.is(childText(empty, 'Prefix'), 'p');
});

test('LocationConstraint and VersioningConfiguration', (t) => {
  t.is(locationXml(''), XML_DECL + `<LocationConstraint xmlns="${S3_XMLNS}"></LocationConstraint>`);
  t.is(parseXml(locationXml('eu-west-1')).text, 'eu-west-1');
  t.is(versioningXml(), XML_DECL + `<VersioningConfiguration xmlns="${S3_XMLNS}"></VersioningConfiguration>`);
  t.is(childText(parseXml(versioningXml('Enabled')), 'Status'), 'Enabled');
});

test('multipart, copy and delete results', (t) => {
  const init = parseXml(initiateMultipartUploadXml('b', 'k&', 'u1'));
  t.is(init.name, 'InitiateMultipartUploadResult');
  t.deepEqual(init.children.map((c) => [c.name, c.text]), [['Bucket', 'b'], ['Key', 'k&'], ['UploadId', 'u1']]);
  const done = parseXml(completeMultipartUploadXml('http://h/s3/b/k', 'b', 'k', 'abc-2'));
  t.is(childText(done, 'ETag'), '"abc-2"');
  t.is(childText(done, 'Location'), 'http://h/s3/b/k');
  const copy = copyResultXml('CopyObjectResult', T0, 'e1');
  t.true(copy.includes('<ETag>&quot;e1&quot;</ETag>'));
  t.is(childText(parseXml(copy), 'LastModified'), '2023-05-14T14:25:00.000Z');
  t.is(parseXml(copyResultXml('CopyPartResult', T0, 'e')).name, 'CopyPartResult');
  const del = parseXml(deleteResultXml([{ key: 'a' }, { key: 'b', versionId: 'v' }], [{ key: 'c', code: 'AccessDenied', message: 'no' }]));
  t.deepEqual(all(del, 'Deleted').map((d) => [childText(d, 'Key'), childText(d, 'VersionId')]), [['a', undefined], ['b', 'v']]);
  t.deepEqual(all(del, 'Error').map((e) => e.children.map((c) => c.text)), [['c', 'AccessDenied', 'no']]);
});

// ---- ListObjects v1

const v1Req = { bucket: 'bkt', prefix: '', delimiter: '', marker: '', maxKeys: 1000, encodingType: undefined };
const v2Req = { ...v1Req, continuationToken: '', startAfter: '', fetchOwner: false };

test('ListBucketResult v1: element order and values', (t) => {
  const xml = listObjectsV1Xml(v1Req, { contents: entries(['a']), commonPrefixes: [], isTruncated: false }, OWNER);
  t.is(
    xml,
    XML_DECL + `<ListBucketResult xmlns="${S3_XMLNS}"><Name>bkt</Name><Prefix></Prefix><Marker></Marker><MaxKeys>1000</MaxKeys>` +
      '<IsTruncated>false</IsTruncated><Contents><Key>a</Key><LastModified>2023-05-14T14:25:00.000Z</LastModified>' +
      '<ETag>&quot;e0&quot;</ETag><Size>0</Size><Owner><ID>tais</ID><DisplayName>tais</DisplayName></Owner>' +
      '<StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>',
  );
});

test('ListBucketResult v1: delimiter, common prefixes, NextMarker only with a delimiter', (t) => {
  const page = { contents: entries(['a/1', 'b']), commonPrefixes: ['c/', 'd/'], isTruncated: true };
  const withDelim = parseXml(listObjectsV1Xml({ ...v1Req, delimiter: '/', marker: 'a/0', maxKeys: 4 }, page, OWNER));
  t.is(childText(withDelim, 'Delimiter'), '/');
  t.is(childText(withDelim, 'Marker'), 'a/0');
  t.is(childText(withDelim, 'NextMarker'), 'd/'); // greatest of last key and last prefix
  t.is(childText(withDelim, 'IsTruncated'), 'true');
  t.is(childText(withDelim, 'MaxKeys'), '4');
  t.deepEqual(all(withDelim, 'CommonPrefixes').map((p) => childText(p, 'Prefix')), ['c/', 'd/']);
  t.deepEqual(all(withDelim, 'Contents').map((c) => childText(c, 'Key')), ['a/1', 'b']);

  const explicit = parseXml(listObjectsV1Xml({ ...v1Req, delimiter: '/' }, { ...page, nextMarker: 'zz' }, OWNER));
  t.is(childText(explicit, 'NextMarker'), 'zz');
  const noDelim = parseXml(listObjectsV1Xml(v1Req, page, OWNER));
  t.is(child(noDelim, 'NextMarker'), undefined);
  t.is(child(noDelim, 'Delimiter'), undefined);
  const notTruncated = parseXml(listObjectsV1Xml({ ...v1Req, delimiter: '/' }, { ...page, isTruncated: false }, OWNER));
  t.is(child(notTruncated, 'NextMarker'), undefined);
  // Default NextMarker compares in UTF-8 byte order: U+FF5E sorts before U+1F600 in UTF-8, after it in UTF-16.
  const order = parseXml(listObjectsV1Xml({ ...v1Req, delimiter: '/' }, { contents: entries(['😀']), commonPrefixes: ['～/'], isTruncated: true }, OWNER));
  t.is(childText(order, 'NextMarker'), '😀');
});

test('ListBucketResult: ETag quoted, omitted when unknown; sizes and dates', (t) => {
  const xml = listObjectsV1Xml(v1Req, { contents: [{ key: 'k', size: 5_000_000_000, mtimeMs: T0 + 0.7, etag: '' }], commonPrefixes: [], isTruncated: false }, OWNER);
  const c = child(parseXml(xml), 'Contents') as XNode;
  t.is(child(c, 'ETag'), undefined);
  t.is(childText(c, 'Size'), '5000000000');
  t.is(childText(c, 'LastModified'), '2023-05-14T14:25:00.000Z');
  const withEtag = child(parseXml(listObjectsV1Xml(v1Req, { contents: entries(['k']), commonPrefixes: [], isTruncated: false }, OWNER)), 'Contents') as XNode;
  t.is(childText(withEtag, 'ETag'), '"e0"');
});

// ---- ListObjectsV2

test('ListBucketResult v2: element order, KeyCount, no Owner by default', (t) => {
  const xml = listObjectsV2Xml(v2Req, { contents: entries(['a']), commonPrefixes: ['p/'], isTruncated: false }, OWNER);
  t.is(
    xml,
    XML_DECL + `<ListBucketResult xmlns="${S3_XMLNS}"><Name>bkt</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>` +
      '<IsTruncated>false</IsTruncated><Contents><Key>a</Key><LastModified>2023-05-14T14:25:00.000Z</LastModified>' +
      '<ETag>&quot;e0&quot;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>' +
      '<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>',
  );
});

test('ListBucketResult v2: tokens, start-after, delimiter, fetch-owner', (t) => {
  const root = parseXml(listObjectsV2Xml(
    { ...v2Req, continuationToken: 'tok+/=', startAfter: 'a b', delimiter: '/', fetchOwner: true, maxKeys: 2 },
    { contents: entries(['b', 'c']), commonPrefixes: [], isTruncated: true, nextContinuationToken: 'next=' },
    OWNER,
  ));
  t.is(childText(root, 'ContinuationToken'), 'tok+/=');
  t.is(childText(root, 'NextContinuationToken'), 'next=');
  t.is(childText(root, 'StartAfter'), 'a b');
  t.is(childText(root, 'Delimiter'), '/');
  t.is(childText(root, 'KeyCount'), '2');
  t.is(childText(root, 'IsTruncated'), 'true');
  t.is(childText(child(child(root, 'Contents') as XNode, 'Owner') as XNode, 'ID'), 'tais');
  const notTruncated = parseXml(listObjectsV2Xml(v2Req, { contents: [], commonPrefixes: [], isTruncated: false, nextContinuationToken: 'x' }, OWNER));
  t.is(child(notTruncated, 'NextContinuationToken'), undefined);
  t.is(child(notTruncated, 'ContinuationToken'), undefined);
  t.is(child(notTruncated, 'StartAfter'), undefined);
  t.is(childText(notTruncated, 'KeyCount'), '0');
});

// ---- hostile keys and encoding-type=url

test('hostile keys survive the XML without encoding-type', (t) => {
  const keys = HOSTILE_KEYS;
  for (const xml of [
    listObjectsV1Xml(v1Req, { contents: entries(keys), commonPrefixes: keys.map((k) => k + '/'), isTruncated: false }, OWNER),
    listObjectsV2Xml(v2Req, { contents: entries(keys), commonPrefixes: keys.map((k) => k + '/'), isTruncated: false }, OWNER),
  ]) {
    const root = parseXml(xml);
    t.deepEqual(all(root, 'Contents').map((c) => childText(c, 'Key')), keys);
    t.deepEqual(all(root, 'CommonPrefixes').map((c) => childText(c, 'Prefix')), keys.map((k) => k + '/'));
  }
});

test('a key with a C0 control is written as a character reference, as S3 does', (t) => {
  const xml = listObjectsV2Xml(v2Req, { contents: entries(['a\u0001b']), commonPrefixes: [], isTruncated: false }, OWNER);
  t.true(xml.includes('<Key>a&#x1;b</Key>'));
});

test('listingUrlEncode: the S3 character set, %20 for space', (t) => {
  t.is(listingUrlEncode('photos/2006/Jan-x_y.z*'), 'photos/2006/Jan-x_y.z*');
  t.is(listingUrlEncode('a b'), 'a%20b');
  t.is(listingUrlEncode('a+b'), 'a%2Bb');
  t.is(listingUrlEncode('100%'), '100%25');
  t.is(listingUrlEncode('~'), '%7E');
  t.is(listingUrlEncode('é'), '%C3%A9');
  t.is(listingUrlEncode('😀'), '%F0%9F%98%80');
  t.is(listingUrlEncode('\u0001\n'), '%01%0A');
  t.is(listingUrlEncode("!'()"), '%21%27%28%29');
  t.is(listingUrlEncode(''), '');
  t.is(listingUrlEncode('a\ud800b'), 'a%EF%BF%BDb'); // lone surrogate: as UTF-8 would write it
  t.is(listingUrlEncode('%2F/'), '%252F/');
  // Same answer as a byte-by-byte encoder over every BMP character.
  for (let c = 0; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    const expected = /[A-Za-z0-9\-_.*\/]/.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
    if (listingUrlEncode('x' + ch) !== 'x' + expected) return t.fail(`U+${c.toString(16)}: ${listingUrlEncode('x' + ch)}`);
  }
});

test('encoding-type=url: Key, Prefix, Delimiter, Marker, NextMarker, CommonPrefixes encoded (v1)', (t) => {
  const root = parseXml(listObjectsV1Xml(
    { ...v1Req, prefix: 'a b/', delimiter: ' ', marker: 'a b/+', encodingType: 'url' },
    { contents: entries(['a b/1+1']), commonPrefixes: ['a b/c d '], isTruncated: true },
    OWNER,
  ));
  t.is(childText(root, 'EncodingType'), 'url');
  t.is(childText(root, 'Prefix'), 'a%20b/');
  t.is(childText(root, 'Delimiter'), '%20');
  t.is(childText(root, 'Marker'), 'a%20b/%2B');
  t.is(childText(root, 'NextMarker'), 'a%20b/c%20d%20');
  t.is(childText(child(root, 'Contents') as XNode, 'Key'), 'a%20b/1%2B1');
  t.is(childText(child(root, 'CommonPrefixes') as XNode, 'Prefix'), 'a%20b/c%20d%20');
  t.is(childText(root, 'Name'), 'bkt');
});

test('encoding-type=url: StartAfter encoded, tokens untouched (v2)', (t) => {
  const root = parseXml(listObjectsV2Xml(
    { ...v2Req, prefix: 'é', startAfter: 'é/1', continuationToken: 'a b+', encodingType: 'url' },
    { contents: [], commonPrefixes: [], isTruncated: true, nextContinuationToken: 'c d+' },
    OWNER,
  ));
  t.is(childText(root, 'Prefix'), '%C3%A9');
  t.is(childText(root, 'StartAfter'), '%C3%A9/1');
  t.is(childText(root, 'ContinuationToken'), 'a b+');
  t.is(childText(root, 'NextContinuationToken'), 'c d+');
  t.is(childText(root, 'EncodingType'), 'url');
});

function urlListingKeys(keys: readonly string[]): { keys: string[]; prefixes: string[] } {
  const xml = listObjectsV2Xml(
    { ...v2Req, encodingType: 'url' },
    { contents: entries(keys), commonPrefixes: keys.map((k) => k + '/'), isTruncated: false },
    OWNER,
  );
  // With encoding, the XML is pure ASCII: no escaping problem can remain.
  t_ascii(xml);
  const root = parseXml(xml);
  return {
    keys: all(root, 'Contents').map((c) => childText(c, 'Key') ?? ''),
    prefixes: all(root, 'CommonPrefixes').map((c) => childText(c, 'Prefix') ?? ''),
  };
}

function t_ascii(xml: string): void {
  if (!/^[\x20-\x7e\n]*$/.test(xml)) throw new Error('encoded listing is not printable ASCII');
}

const KEYS_WITH_CONTROLS = [...HOSTILE_KEYS, 'ctrl\u0001x', 'nul-free\u001f', '\u0008bs'];

test('encoding-type=url round trip: decoded as botocore does (unquote_plus) gives the original keys', (t) => {
  const { keys, prefixes } = urlListingKeys(KEYS_WITH_CONTROLS);
  t.deepEqual(keys.map(unquotePlus), KEYS_WITH_CONTROLS);
  t.deepEqual(prefixes.map(unquotePlus), KEYS_WITH_CONTROLS.map((k) => k + '/'));
});

test('encoding-type=url round trip: decodeURIComponent gives the original keys too', (t) => {
  const { keys } = urlListingKeys(KEYS_WITH_CONTROLS);
  t.deepEqual(keys.map((k) => decodeURIComponent(k)), KEYS_WITH_CONTROLS);
});

// The real thing, when this machine has botocore: its own unquote_str on our encoded keys.
const hasBotocore = spawnSync('python3', ['-c', 'import botocore.compat'], { stdio: 'ignore' }).status === 0;
(hasBotocore ? test : test.skip)('encoding-type=url round trip through botocore.compat.unquote_str', (t) => {
  const { keys } = urlListingKeys(KEYS_WITH_CONTROLS);
  const py = spawnSync(
    'python3',
    ['-c', 'import sys, json\nfrom botocore.compat import unquote_str\nprint(json.dumps([unquote_str(k) for k in json.load(sys.stdin)]))'],
    { input: JSON.stringify(keys), encoding: 'utf8' },
  );
  t.is(py.status, 0, py.stderr);
  t.deepEqual(JSON.parse(py.stdout) as string[], KEYS_WITH_CONTROLS);
});

test('a listing of thousands of entries is built quickly and parses', (t) => {
  const keys = Array.from({ length: 5000 }, (_, i) => `dir/sub dir/${i.toString().padStart(6, '0')}<&>.bin`);
  const start = process.hrtime.bigint();
  const xml = listObjectsV2Xml(v2Req, { contents: entries(keys), commonPrefixes: [], isTruncated: false }, OWNER);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  t.log(`5000 entries: ${xml.length} chars in ${ms.toFixed(1)} ms`);
  t.is(all(parseXml(xml), 'Contents').length, 5000);
});
