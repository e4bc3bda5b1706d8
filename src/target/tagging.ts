// Object tagging on the owner target: Get / Put / DeleteObjectTagging. Tags live in the object's LOM
// (one xattr with the rest of its metadata), so they are published with the object by the PUT's
// rename and a tag update is one setxattr: no window where the tags and the object disagree. An update
// racing a PUT of the same key lands on the replaced file and is lost, as the PUT's tags win in S3.
import fs from 'node:fs';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import { writeLomFd } from '../fs/lom';
import type { ObjectTaggingOp } from '../s3/ops';
import { s3err, noSuchKey } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { validateObjectKey } from '../s3/names';
import { TaggingXmlParser, taggingXml, type TagSet } from '../s3/tagging';
import { AwsChunkedDecoder, isAwsChunked } from '../s3/aws-chunked';
import { parseContentMd5 } from './body';
import { createHash } from 'node:crypto';
import type { Target } from './target';

const XML: readonly [string, string] = ['Content-Type', 'application/xml'];

export function objectTaggingS3(target: Target, res: HttpResponse, req: Req, op: ObjectTaggingOp): void {
  try {
    validateObjectKey(op.key);
    if (op.versionId !== undefined && op.versionId !== 'null') {
      throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: op.versionId });
    }
    if (op.kind === 'PutObjectTagging') return readTagging(res, req, (tags) => setTags(target, res, req, op, tags));
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

/** Streams the <Tagging> body through sax; Content-MD5, when given, must match (BadDigest). */
function readTagging(res: HttpResponse, req: Req, then: (tags: TagSet) => void): void {
  const md5 = parseContentMd5(header(req, 'content-md5'));
  const hash = md5 === undefined ? undefined : createHash('md5');
  const parser = new TaggingXmlParser();
  const feed = (data: Uint8Array): void => {
    hash?.update(data);
    parser.write(data);
  };
  const decoder = isAwsChunked(header(req, 'x-amz-content-sha256'), header(req, 'content-encoding')) ? new AwsChunkedDecoder({ onData: feed }) : undefined;
  let failed = false;
  res.onData((chunk, isLast) => {
    if (failed) return;
    try {
      const data = new Uint8Array(chunk); // valid only inside this callback: consumed right here
      if (decoder) decoder.push(data);
      else feed(data);
      if (!isLast) return;
      decoder?.end();
      if (hash && hash.digest('hex') !== md5) throw s3err('BadDigest');
      const tags = parser.end();
      then(tags);
    } catch (err) {
      failed = true;
      sendS3Error(res, req, err);
    }
  });
}
