// End to end, multipart uploads across a membership change: uploads created on a one-target cluster,
// then a second target joins (a rebalance moves the objects whose owner changed, not the uploads).
// Every upload's later requests — UploadPart, ListParts, Complete, Abort, through the gateway — reach
// the target that holds it (its ID names it); a completion whose object now belongs to the new target
// lands there, verified, exactly once, and the upload is gone everywhere. A retried Complete answers
// the same 200; an upload whose target is down answers 503 and works again once it is back.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import {
  S3Client,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  ListPartsCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
} from '@aws-sdk/client-s3';
import { startCluster, misplacedObjects, hrwPlacement, targetIdOf, logNodesOnFailure, FAST_KEEPALIVE, type Cluster } from './helpers/cluster';
import { s3Client, random, sha256, md5, walkFiles, request, type AisNode } from './helpers/node';

const B = 'mpuh';
const KEYS = Array.from({ length: 24 }, (_, i) => `up/${String(i).padStart(2, '0')}.bin`);

let c: Cluster | undefined;
let s3: S3Client;
let t0: AisNode;
let t1: AisNode;
let t0id: string;
let t1id: string;
const uploads = new Map<string, { id: string; part1: Buffer; etag1: string }>();

test.before(async () => {
  c = await startCluster({ name: 'mpuh', targets: 1, config: FAST_KEEPALIVE });
  s3 = s3Client(c.primary.url);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  t0 = c.targets[0]!;
  t0id = targetIdOf(await c.smap(), t0)!;
  for (const key of KEYS) {
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ContentType: 'application/x-test' }));
    const part1 = random(5 << 20);
    const p = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: part1 }));
    uploads.set(key, { id: up.UploadId!, part1, etag1: p.ETag! });
  }
  t1 = await c.addTarget();
  const smap = await c.settle(2);
  t1id = targetIdOf(smap, t1)!;
});

test.after.always(async () => {
  s3?.destroy();
  await c?.stop();
});

test.afterEach.always((t) => logNodesOnFailure(t, c));

/** Keys whose HRW owner is now the new target (their uploads stay on the first). */
async function movedKeys(): Promise<string[]> {
  const smap = await c!.smap();
  return KEYS.filter((k) => hrwPlacement(smap, [t0, t1], B, k).id === t1id);
}

function mpuDirs(node: AisNode): string[] {
  return node.dirs.mountpaths.flatMap((mp) => {
    const d = path.join(mp, '@ais', B, '%mp');
    return fs.existsSync(d) ? fs.readdirSync(d) : [];
  });
}

test.serial('upload IDs name the target that holds them; the join moves no upload', async (t) => {
  for (const { id } of uploads.values()) t.true(id.endsWith(`.${t0id}`), id);
  t.is(mpuDirs(t0).length, KEYS.length);
  t.deepEqual(mpuDirs(t1), []);
  t.true((await movedKeys()).length > 0, 'some keys belong to the new target (24 keys, each 1/2)');
});

test.serial('parts, listings, completions of moved keys reach the holder; objects land on their owners, once', async (t) => {
  const moved = await movedKeys();
  const abortKey = moved[0]!;
  const sums = new Map<string, string>();
  const etags = new Map<string, string>();
  for (const key of KEYS) {
    const u = uploads.get(key)!;
    const part2 = random(100_000 + KEYS.indexOf(key));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: u.id, PartNumber: 2, Body: part2 }));
    t.is(p2.ETag, `"${md5(part2)}"`);
    const lp = await s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: u.id }));
    t.deepEqual(
      lp.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      [
        [1, u.etag1, 5 << 20],
        [2, p2.ETag, part2.length],
      ],
      key,
    );
    if (key === abortKey) {
      await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: key, UploadId: u.id }));
      const err = await t.throwsAsync(s3.send(new ListPartsCommand({ Bucket: B, Key: key, UploadId: u.id })));
      t.is(err?.name, 'NoSuchUpload');
      continue;
    }
    const parts = [
      { PartNumber: 1, ETag: u.etag1 },
      { PartNumber: 2, ETag: p2.ETag },
    ];
    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: u.id, MultipartUpload: { Parts: parts } }));
    const etag = md5(Buffer.concat([Buffer.from(u.etag1.slice(1, -1), 'hex'), Buffer.from(p2.ETag!.slice(1, -1), 'hex')]));
    t.is(done.ETag, `"${etag}-2"`, key);
    sums.set(key, sha256(Buffer.concat([u.part1, part2])));
    etags.set(key, done.ETag!);
    // A retry of the same Complete (its answer lost, say) gets the same 200, the object now on the other target or not.
    const again = await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: u.id, MultipartUpload: { Parts: parts } }));
    t.is(again.ETag, done.ETag);
  }
  for (const [key, sum] of sums) {
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
    t.is(g.ContentType, 'application/x-test');
    t.is(g.ETag, etags.get(key));
    t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sum, key);
  }
  t.deepEqual(await misplacedObjects(c!, B, sums.keys()), [], 'every object once, on its HRW owner and mountpath');
  t.false(fs.existsSync(hrwPlacement(await c!.smap(), [t0, t1], B, abortKey).file), 'the aborted upload published nothing');
  t.deepEqual([...mpuDirs(t0), ...mpuDirs(t1)], [], 'no upload left on any target');
  t.deepEqual(
    walkFiles(path.join(t0.dirs.mountpaths[0]!, '@ais', B, '%wk')).concat(walkFiles(path.join(t1.dirs.mountpaths[0]!, '@ais', B, '%wk'))),
    [],
    'no work files left',
  );
  const metrics = (await request(t0.url, { method: 'GET', path: '/metrics' })).body.toString();
  const placed = Number(/^ais_target_mpu_placed_count\S* (\d+)/m.exec(metrics)?.[1] ?? -1);
  t.is(placed, moved.length - 1, 'the holder sent each completed object it does not own to its owner');
});

test.serial('an upload whose target is down answers 503; once the target is back it completes', async (t) => {
  // Created now: the new target owns it and holds it.
  const key = (await movedKeys())[1]!;
  const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key }));
  t.true(up.UploadId!.endsWith(`.${t1id}`));
  const part = random(3000);
  await t1.kill('SIGKILL');
  await c!.settle(1);
  const err = await t.throwsAsync(s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: part })));
  t.is(err?.name, 'ServiceUnavailable');
  t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 503);
  t.regex(err!.message, new RegExp(`target ${t1id}`));
  await t1.restart();
  await c!.settle(2);
  const p = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: part }));
  const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
  t.deepEqual(listed.Uploads?.map((u) => u.UploadId), [up.UploadId]);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
  const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
  t.is(sha256(Buffer.from(await g.Body!.transformToByteArray())), sha256(part));
});
