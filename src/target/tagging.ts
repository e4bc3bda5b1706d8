// Object tagging on the owner target: Get / Put / DeleteObjectTagging. Tags live in the object's LOM
// (one xattr with the rest of its metadata), so they are published with the object by the PUT's
// rename and a tag update is one setxattr: no window where the tags and the object disagree. An update
// racing a PUT of the same key lands on the replaced file and is lost, as the PUT's tags win in S3.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from '../api/http';
import { writeLomFd } from '../fs/lom';
import type { ObjectTaggingOp } from '../s3/ops';
import { s3err, noSuchKey } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { TaggingXmlParser, taggingXml, MAX_TAGGING_BODY, type TagSet } from '../s3/tagging';
import { readXmlBody } from '../s3/xml-body';
import type { Target } from './target';

const XML: readonly [string, string] = ['Content-Type', 'application/xml'];

export function objectTaggingS3(target: Target, res: HttpResponse, req: Req, op: ObjectTaggingOp): void {
  try {
    validateObjectKey(op.key);
    if (op.versionId !== undefined && op.versionId !== 'null') {
      throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: op.versionId });
    }
    if (op.kind === 'PutObjectTagging') return readXmlBody(res, req, new TaggingXmlParser(), MAX_TAGGING_BODY, (tags) => setTags(target, res, req, op, tags));
    res.onData(() => {}); // no body
    if (op.kind === 'GetObjectTagging') {
      const tags = withObject(target, op, (_fd, lom) => lom.tags ?? []);
      return reply(res, req, '200 OK', [XML], taggingXml(tags));
    }
    setTags(target, res, req, op, []);
  } catch (err) {
    sendS3Error(res, req, err);
  }
}

function setTags(target: Target, res: HttpResponse, req: Req, op: ObjectTaggingOp, tags: TagSet): void {
  try {
    withObject(target, op, (fd, lom) => {
      const next = { ...lom };
      if (tags.length) next.tags = tags;
      else delete next.tags;
      try {
        writeLomFd(fd, next);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'MetadataTooLarge') throw s3err('MetadataTooLarge', (err as Error).message);
        throw err;
      }
    });
    reply(res, req, op.kind === 'DeleteObjectTagging' ? '204 No Content' : '200 OK', []);
  } catch (err) {
    sendS3Error(res, req, err);
  }
}

function withObject<T>(target: Target, op: ObjectTaggingOp, fn: (fd: number, lom: NonNullable<ReturnType<Target['openObject']>>['lom']) => T): T {
  const h = target.openObject(op.bucket, op.key);
  if (!h) throw noSuchKey(op.bucket, op.key);
  try {
    return fn(h.fd, h.lom);
  } finally {
    fs.closeSync(h.fd);
  }
}
