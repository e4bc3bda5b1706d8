// DeleteObjects (POST /bucket?delete): the key list streams through the sax parser as it arrives
// (bounded: 1000 keys, MAX_DELETE_BODY bytes), then each key is deleted by its target with bounded
// concurrency. S3's rules: a key that does not exist is reported deleted; a key that cannot be deleted
// (invalid name, I/O error) gets its own <Error> and does not fail the request; Quiet lists errors only.
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from '../api/http';
import type { DeleteObjectsOp } from '../s3/ops';
import { s3err, S3Error } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { deleteResultXml, type DeletedEntry, type DeleteErrorEntry } from '../s3/object-xml';
import { DeleteXmlParser, MAX_DELETE_BODY, type DeleteObjectEntry } from '../s3/delete-xml';
import { readXmlBody } from '../s3/xml-body';
import { log } from '../util/log';

/** Deletes in flight at once for one request. */
const CONCURRENCY = 16;

/** `remove(key)` deletes one object wherever it lives (its owner target); a missing key is not an error. */
export type RemoveObject = (key: string) => Promise<void>;

export function deleteObjectsS3(remove: RemoveObject, res: HttpResponse, req: Req, op: DeleteObjectsOp): void {
  readXmlBody(res, req, new DeleteXmlParser(), MAX_DELETE_BODY, (body) => {
    deleteAll(remove, op.bucket, body.objects).then(
      ({ deleted, errors }) => reply(res, req, '200 OK', [['Content-Type', 'application/xml']], deleteResultXml(body.quiet ? [] : deleted, errors)),
      (err: unknown) => sendS3Error(res, req, err),
    );
  });
}

async function deleteAll(remove: RemoveObject, bucket: string, objects: readonly DeleteObjectEntry[]): Promise<{ deleted: DeletedEntry[]; errors: DeleteErrorEntry[] }> {
  // Results are kept in request order.
  const results: ({ ok: DeletedEntry } | { err: DeleteErrorEntry })[] = new Array(objects.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const i = next++;
      results[i] = await deleteOne(remove, bucket, objects[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, objects.length) }, worker));
  const deleted: DeletedEntry[] = [];
  const errors: DeleteErrorEntry[] = [];
  for (const r of results) {
    if ('ok' in r) deleted.push(r.ok);
    else errors.push(r.err);
  }
  return { deleted, errors };
}

async function deleteOne(remove: RemoveObject, bucket: string, o: DeleteObjectEntry): Promise<{ ok: DeletedEntry } | { err: DeleteErrorEntry }> {
  try {
    validateObjectKey(o.key);
    // Our buckets are unversioned: the only version there is is "null".
    if (o.versionId !== undefined && o.versionId !== 'null') throw s3err('NoSuchVersion');
    await remove(o.key);
    return { ok: o.versionId !== undefined ? { key: o.key, versionId: o.versionId } : { key: o.key } };
  } catch (err) {
    if (err instanceof S3Error) return { err: { key: o.key, code: err.code, message: err.message } };
    const e = err as NodeJS.ErrnoException;
    log.error(`DeleteObjects ${bucket}/${o.key}: ${e.stack ?? String(e)}`);
    return { err: { key: o.key, code: 'InternalError', message: 'We encountered an internal error. Please try again.' } };
  }
}
