// Where a completed multipart object goes. An upload stays on the target that created it (its ID names
// that target, and gateways send its requests there: proxy/route.ts, toUploadHolder); after a
// membership change that target may no longer be the object's HRW owner. Its Complete then assembles
// and publishes the object here as always, and before answering sends it to the owner over the
// rebalance path (checksum verified there, metadata kept) and deletes it here. If the owner does not
// take it, the object here is removed and the Complete fails with the upload intact: the client's retry
// completes it again. A retried Complete whose upload is gone asks the owner for the object an earlier
// one published.
import fs from 'node:fs';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import type { Lom } from '../fs/lom';
import { s3err } from '../s3/errors';
import { log } from '../util/log';
import { headOn } from './gfn';
import { moveToOwner } from './rebalance';
import { writeThroughAssembled } from './tgts3-remote-put';
import type { CompleteHooks } from './mpu-s3';

/** Sends to an owner whose Smap lags this target's (NotOwnerError) converge within a metasync. */
const PLACE_TRIES = 10;
const PLACE_RETRY_MS = 300;
const ASK_TIMEOUT_MS = 5000;

/** The Complete hooks of bucket/key on this node: write-through for remote buckets, then placement. */
export function completeHooks(node: Node, bucket: string, key: string, props: BucketProps): CompleteHooks {
  const writeThrough = props.provider === 'aws' ? writeThroughAssembled(node.target, bucket, key, props) : undefined;
  return {
    settle: async (lom) => placeAtOwner(node, bucket, key, writeThrough ? await writeThrough(lom) : lom),
    publishedElsewhere: (etag, created) => publishedAtOwner(node, bucket, key, etag, created),
  };
}

async function placeAtOwner(node: Node, bucket: string, key: string, lom: Lom): Promise<Lom> {
  for (let attempt = 1; ; attempt++) {
    const h = node.target.openObject(bucket, key);
    if (!h) {
      // A rebalance walking this target may have sent it already.
      if (lom.etag !== undefined && (await publishedAtOwner(node, bucket, key, lom.etag, lom.mtime).catch(() => undefined))) return lom;
      throw s3err('InternalError', 'the assembled object disappeared before it reached its owner');
    }
    const ino = fs.fstatSync(h.fd).ino;
    fs.closeSync(h.fd);
    try {
      const r = await moveToOwner(node, bucket, key, h.path);
      if (r) node.target.stats.mpuPlacedCount++;
      return lom;
    } catch (err) {
      if (attempt < PLACE_TRIES) {
        await new Promise((r) => setTimeout(r, PLACE_RETRY_MS));
        continue;
      }
      log.warn(`${bucket}/${key}: sending the completed object to its owner: ${(err as Error).message}; the upload stays`);
      await node.target.deleteObject(bucket, key, ino).catch(() => false);
      throw s3err('ServiceUnavailable', `the object's owner target did not take it (${(err as Error).message}); complete the upload again`);
    }
  }
}

async function publishedAtOwner(node: Node, bucket: string, key: string, etag: string, created: number): Promise<Lom | undefined> {
  const owner = node.smap.owner(bucket, key, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner || owner.id === node.self.id) return undefined;
  const there = await headOn(node, owner, bucket, key, ASK_TIMEOUT_MS);
  if (!there || there.etag !== etag || there.mtime < created) return undefined;
  return { size: there.size, cksumType: 'none', cksumValue: '', etag, mtime: there.mtime };
}
