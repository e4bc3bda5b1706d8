// CompleteMultipartUpload body parsing (sax, fed in arbitrary pieces) and the ListParts /
// ListMultipartUploads result bodies.
import test from 'ava';
import { CompleteBodyParser, listPartsXml, listUploadsXml, unquote, MAX_COMPLETE_BODY } from '../src/s3/mpu-xml';
import { S3Error } from '../src/s3/errors';

const OWNER = { id: 'o', displayName: 'O' };

function parse(body: string, pieceSize = 0): ReturnType<CompleteBodyParser['end']> {
  const p = new CompleteBodyParser();
  const bytes = Buffer.from(body, 'utf8');
  if (pieceSize === 0) p.write(bytes);
  else for (let i = 0; i < bytes.length; i += pieceSize) p.write(bytes.subarray(i, i + pieceSize));
  return p.end();
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return err instanceof S3Error ? err.code : `not an S3Error: ${String(err)}`;
  }
  return 'no error';
}

const BODY =
  '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n' +
  '  <Part><ETag>"aaa"</ETag><PartNumber>1</PartNumber></Part>\n' +
  '  <Part><PartNumber>3</PartNumber><ETag>&quot;bbb&quot;</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part>\n' +
  '  <Part><PartNumber> 10000 </PartNumber><ETag>ccc</ETag></Part>\n' +
  '</CompleteMultipartUpload>';

test('parses parts in document order, whatever the piece size', (t) => {
  const want = [
    { partNumber: 1, etag: 'aaa' },
    { partNumber: 3, etag: 'bbb' },
    { partNumber: 10000, etag: 'ccc' },
  ];
  for (const n of [0, 1, 2, 7, 64]) t.deepEqual(parse(BODY, n), want, `pieces of ${n}`);
});

test('multi-byte UTF-8 split across pieces and prefixed element names', (t) => {
  const body = '<s3:CompleteMultipartUpload xmlns:s3="x"><s3:Part><s3:PartNumber>2</s3:PartNumber><s3:ETag>é€</s3:ETag></s3:Part></s3:CompleteMultipartUpload>';
  t.deepEqual(parse(body, 1), [{ partNumber: 2, etag: 'é€' }]);
});

test('MalformedXML and InvalidArgument cases', (t) => {
  t.is(code(() => parse('')), 'MalformedXML');
  t.is(code(() => parse('garbage')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload>')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload/>')), 'MalformedXML');
  t.is(code(() => parse('<Wrong><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></Wrong>')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><ETag>a</ETag></Part></CompleteMultipartUpload>')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload><x/>')), 'MalformedXML');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>')), 'InvalidArgument');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><PartNumber>10001</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>')), 'InvalidArgument');
  t.is(code(() => parse('<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber><ETag>a</ETag></Part></CompleteMultipartUpload>')), 'InvalidArgument');
  t.is(code(() => parse('<CompleteMultipartUpload>' + ' '.repeat(MAX_COMPLETE_BODY) + '</CompleteMultipartUpload>', 1 << 20)), 'MalformedXML');
});

test('unquote', (t) => {
  t.is(unquote('"abc"'), 'abc');
  t.is(unquote(' abc '), 'abc');
  t.is(unquote('&quot;abc&quot;'), 'abc');
  t.is(unquote('"'), '"');
});

test('listPartsXml', (t) => {
  const xml = listPartsXml(
    { bucket: 'b', key: 'k&', uploadId: 'u', partNumberMarker: 0, maxParts: 2, isTruncated: true, parts: [{ partNumber: 1, mtimeMs: 0, etag: 'e1', size: 5 }, { partNumber: 2, mtimeMs: 0, etag: 'e2', size: 6 }] },
    OWNER,
  );
  t.true(xml.includes('<Key>k&amp;</Key>'));
  t.true(xml.includes('<NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>'));
  t.true(xml.includes('<Part><PartNumber>1</PartNumber><LastModified>1970-01-01T00:00:00.000Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>5</Size></Part>'));
});

test('listUploadsXml with url encoding', (t) => {
  const xml = listUploadsXml(
    {
      bucket: 'b',
      prefix: 'a b/',
      delimiter: '/',
      keyMarker: '',
      uploadIdMarker: '',
      maxUploads: 1,
      encodingType: 'url',
      uploads: [{ key: 'a b/c', uploadId: 'id1', initiatedMs: 0 }],
      commonPrefixes: ['a b/d/'],
      isTruncated: true,
      nextKeyMarker: 'a b/d/',
      nextUploadIdMarker: '',
    },
    OWNER,
  );
  t.true(xml.includes('<NextKeyMarker>a%20b/d/</NextKeyMarker>'));
  t.true(xml.includes('<Upload><Key>a%20b/c</Key><UploadId>id1</UploadId>'));
  t.true(xml.includes('<CommonPrefixes><Prefix>a%20b/d/</Prefix></CommonPrefixes>'));
  t.true(xml.includes('<EncodingType>url</EncodingType>'));
});
