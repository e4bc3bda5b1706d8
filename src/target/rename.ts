// Rename (AIStore's `rename-obj`: POST /v1/objects/BUCKET/OBJECT {"action":"rename-obj","name":"NEW"},
// `ais object mv`), served by the source's owner the way AIStore's target does it: the object is copied
// to its new name through the new name's owner's ordinary PUT (verified as it is read; content type,
// user metadata and tags kept; the new owner may be this target or another), then the source is
// removed — only if it is still the file that was copied, so a PUT of the old name meanwhile survives.
// ais:// buckets only. Not atomic across targets: a crash between the two steps leaves both names,
// never neither.
import fs from 'node:fs';
import type { Node } from '../cluster/node';
import { copySource, putToOwner } from '../xact/put-owner';
import { CorruptObject } from '../xact/read-verified';
import { ApiError, notFound } from '../api/native';

export async function renameObject(node: Node, bucket: string, from: string, to: string): Promise<void> {
  const target = node.target;
  const h = target.openObject(bucket, from);
  if (!h) throw notFound(`object "ais://${bucket}/${from}"`);
  let ino: number;
  try {
    ino = fs.fstatSync(h.fd).ino;
    const { body, headers } = copySource(h);
    await putToOwner(node, bucket, to, body, headers, 's3');
  } catch (err) {
    if (err instanceof CorruptObject) throw new ApiError(500, err.message);
    throw new ApiError(500, `renaming ais://${bucket}/${from} to "${to}": ${(err as Error).message}; the source is kept`);
  } finally {
    target.closeObject(h);
  }
  await target.deleteObject(bucket, from, ino);
}
