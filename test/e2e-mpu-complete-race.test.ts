// End to end: two CompleteMultipartUpload requests for one upload at once, against a node serving its
// port from two HTTP threads (net.http_threads). Each request goes on its own fresh connection (the
// helper's agent has no keep-alive), so the kernel spreads them over both threads' listeners; over 20
// rounds both the same-thread and the cross-thread case come up. The completion claim (target/mpu.ts,
// in the node's shared claim table) must let exactly one assemble and publish; the other waits and
// then answers the same 200 (as S3 answers a retried Complete) — never a 500, a NoSuchUpload, a torn
// object or a stray work file.
import test from 'ava';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { startNode, request, xmlCode, xmlAll, objPath, sha256, random, walkFiles, type AisNode, type RawResponse } from './helpers/node';

const MiB = 1 << 20;
const B = 'race';
const ROUNDS = 20;

let node: AisNode;

test.before(async () => {
  node = await startNode({ name: 'mpu-race', config: { net: { http_threads: 2 }, io: { fsync_put: false } } });
  const r = await request(node.url, { method: 'PUT', path: `/s3/${B}` });
  if (r.status !== 200) throw new Error(`create bucket: ${r.status} ${r.body.toString()}`);
});

test.after.always(async () => {
  await node?.stop();
});

function md5Raw(b: Buffer): Buffer {
  return createHash('md5').update(b).digest();
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, "-N". */
function multipartEtag(parts: readonly Buffer[]): string {
  return `${createHash('md5').update(Buffer.concat(parts.map(md5Raw))).digest('hex')}-${parts.length}`;
}

async function ok(what: string, p: Promise<RawResponse>): Promise<RawResponse> {
  const r = await p;
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.body.toString()}`);
  return r;
}

/** Files of the upload's folder and of the bucket's work dir, on every mountpath. */
function leftovers(uploadId: string): string[] {
  return node.dirs.mountpaths.flatMap((mp) => [...walkFiles(path.join(mp, '@ais', B, '%mp', uploadId)), ...walkFiles(path.join(mp, '@ais', B, '%wk'))]);
}

test('two concurrent Completes of one upload: one object, right bytes, two identical 200s, nothing left behind', async (t) => {
  // Two parts, the first at S3's 5 MiB minimum, so the assembly takes a little while.
  const parts = [random(5 * MiB), random(64 << 10)];
  const want = multipartEtag(parts);
  let won = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const key = `obj-${round}`;
    const created = await ok('create', request(node.url, { method: 'POST', path: `${objPath(B, key)}?uploads` }));
    const id = xmlAll(created.body, 'UploadId')[0]!;
    const etags: string[] = [];
    for (let n = 1; n <= parts.length; n++) {
      const r = await ok(`part ${n}`, request(node.url, { method: 'PUT', path: `${objPath(B, key)}?partNumber=${n}&uploadId=${encodeURIComponent(id)}`, body: parts[n - 1]! }));
      etags.push(String(r.headers.etag));
    }
    const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const completeOnce = (): Promise<RawResponse> => request(node.url, { method: 'POST', path: `${objPath(B, key)}?uploadId=${encodeURIComponent(id)}`, body: xml });
    const answers = await Promise.all([completeOnce(), completeOnce()]);

    for (const r of answers) {
      const body = r.body.toString();
      // A 200 may carry an error in its body (keep-alive spaces were sent first): that is a failure here too.
      t.true(r.status === 200 && xmlCode(body) === '', `round ${round}: answered ${r.status} ${body}`);
      t.is(xmlAll(body, 'ETag')[0], `"${want}"`, `round ${round}: ETag in the result`);
      if (r.status === 200 && xmlCode(body) === '') won++;
    }

    const got = await request(node.url, { method: 'GET', path: objPath(B, key) });
    t.is(got.status, 200, `round ${round}: GET`);
    t.is(got.headers.etag, `"${want}"`);
    t.is(sha256(got.body), sha256(Buffer.concat(parts)), `round ${round}: object bytes`);
    t.deepEqual(leftovers(id), [], `round ${round}: upload folder and work files gone`);
    const files = node.dirs.mountpaths.flatMap((mp) => walkFiles(path.join(mp, '@ais', B, '%ob'))).filter((f) => path.basename(f) === key);
    t.is(files.length, 1, `round ${round}: exactly one object file`);
  }
  t.log(`${won} successful Complete(s) over ${ROUNDS} rounds of two`);
});
