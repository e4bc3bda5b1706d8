// CopyObject when the source lives on another target: the destination's owner reads the source from
// its owner (an intra-cluster GET, which verifies the source checksum as it streams and cuts the
// connection on a mismatch) and writes it through the PUT path (PutStream: the destination bucket's
// checksum and MD5, work file, atomic publish). The upstream response is paused whenever the PUT's
// buffers are full, so a copy of any size holds a few buffers at most.
import fs from 'node:fs';
import http from 'node:http';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from '../api/http';
import type { BucketProps } from '../cluster/config';
import { etagOf, type Lom } from '../fs/lom';
import type { CopyObjectOp, CopySource } from '../s3/ops';
import { s3err, noSuchKey, S3Error, S3_ERRORS, type S3ErrorCode } from '../s3/errors';
import { sendS3Error } from '../s3/reply';
import { copyResultXml } from '../s3/object-xml';
import { FWD_HEADER, IntraAgents, s3Path } from '../cluster/intra';
import { intraAddr, type Snode } from '../cluster/snode';
import { userMeta } from './body';
import { taggingDirective, copyChecksumAlg, type CopyDst } from './copy';
import { FLEX_ALGS, checksumHeader } from '../s3/checksums';
import { parseTaggingHeader, parseTaggingXml, type TagSet } from '../s3/tagging';
import { objectPaths, putCondition, putConditionError, preconditionFailed } from './conditions';
import { PutStream, type PutError, type PutParams } from './put';
import type { Target } from './target';

const agents = new IntraAgents({ maxSockets: 64 });
const EMPTY = new Uint8Array(0);
const COPY_SOURCE_IF = ['if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];

export function copyObjectRemoteS3(target: Target, secret: string, from: Snode, res: HttpResponse, req: Req, op: CopyObjectOp, props: BucketProps, to?: CopyDst): void {
  res.onData(() => {}); // no body
  try {
    const directive = header(req, 'x-amz-metadata-directive').toUpperCase() || 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') {
      throw s3err('InvalidArgument', 'Unknown metadata directive.', { ArgumentName: 'x-amz-metadata-directive', ArgumentValue: header(req, 'x-amz-metadata-directive') });
    }
    const src = op.copySource;
    if (src.versionId !== undefined && src.versionId !== 'null') {
      throw s3err('InvalidArgument', 'Invalid version id specified', { ArgumentName: 'versionId', ArgumentValue: src.versionId });
    }
    const cond = putCondition((n) => header(req, n), objectPaths(target, op.bucket, op.key));
    if (cond) {
      const cur = target.openObject(op.bucket, op.key);
      if (cur) fs.close(cur.fd, () => {});
      const bad = putConditionError(cond, cur?.lom);
      if (bad?.code === 'NoSuchKey') throw noSuchKey(op.bucket, op.key);
      if (bad) throw preconditionFailed(bad.condition);
    }
    const tagging = taggingDirective(req);
    const askedAlg = copyChecksumAlg(req, undefined);
    const newTags = tagging === 'REPLACE' ? parseTaggingHeader(header(req, 'x-amz-tagging')) : undefined;
    openRemoteSource(secret, from, req, src, undefined).then(
      async (ur) => {
        const srcMeta: Record<string, string> = {};
        for (const [k, v] of Object.entries(ur.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') srcMeta[k.slice(11)] = v;
        const m =
          directive === 'COPY'
            ? { contentType: ur.headers['content-type'], meta: srcMeta }
            : { contentType: header(req, 'content-type') || undefined, meta: userMeta(req) };
        // The GET says how many tags the source has; only then are they fetched (one more small request).
        let tags = newTags;
        if (tags === undefined && Number(ur.headers['x-amz-tagging-count'] ?? 0) > 0) {
          try {
            tags = await remoteTags(secret, from, src);
          } catch (err) {
            ur.destroy();
            if (!req.aborted) sendS3Error(res, req, err);
            return;
          }
        }
        // The source GET asks for its checksum (x-amz-checksum-mode): its algorithm is the copy's by default.
        const alg = askedAlg ?? FLEX_ALGS.find((a) => ur.headers[checksumHeader(a)] !== undefined);
        const params = {
          bucket: op.bucket,
          objName: op.key,
          props,
          size: Number(ur.headers['content-length'] ?? -1),
          contentType: m.contentType,
          meta: m.meta,
          tags,
          cond,
          ...(alg ? { flex: { alg } } : {}),
          ...(to ? { dst: to.file } : {}),
        };
        const failed = (err: unknown): void => {
          target.stats.errPutCount++;
          if (!req.aborted) sendS3Error(res, req, err);
        };
        putFromSource(target, req, ur, params, (err, stored) => {
          if (err) return failed(err.code === 'PreconditionFailed' ? preconditionFailed(err.message.startsWith('If-Match') ? 'If-Match' : 'If-None-Match') : copyFailed(err));
          (to ? to.finish(stored!) : Promise.resolve(stored!)).then((lom) => {
            target.stats.putCount++;
            target.stats.putBytes += lom.size;
            reply(res, req, '200 OK', [['Content-Type', 'application/xml']], copyResultXml('CopyObjectResult', lom.mtime, etagOf(lom) ?? '', lom.flex));
          }, failed);
        });
      },
      (err: unknown) => {
        if (!req.aborted) sendS3Error(res, req, err);
      },
    );
  } catch (err) {
    sendS3Error(res, req, err);
  }
}

/**
 * GETs the copy source (or a range of it) from its owner target. The x-amz-copy-source-if-* conditions
 * become that GET's own (same semantics); a whole-object GET is verified by the source as it streams.
 * Resolves with the 200 / 206 response (not read yet); rejects with the S3 error to answer.
 */
export function openRemoteSource(secret: string, from: Snode, req: Req, src: CopySource, range: { start: number; end: number } | undefined): Promise<http.IncomingMessage> {
  const headers: Record<string, string> = { [FWD_HEADER]: secret, 'x-amz-checksum-mode': 'ENABLED' };
  for (const c of COPY_SOURCE_IF) {
    const v = header(req, `x-amz-copy-source-${c}`);
    if (v !== '') headers[c] = v;
  }
  if (range) headers['range'] = `bytes=${range.start}-${range.end}`;
  const path = s3Path(src.bucket, src.key);
  return new Promise((resolve, reject) => {
    const up = agents.request(intraAddr(from), { method: 'GET', path, headers, timeout: 5 * 60_000 });
    up.on('timeout', () => up.destroy(new Error('source target timed out')));
    up.on('error', (err) => reject(s3err('ServiceUnavailable', `source target unreachable: ${err.message}`)));
    req.onAbort = () => up.destroy();
    up.on('response', (ur) => {
      up.removeAllListeners('error');
      up.on('error', () => {});
      const status = ur.statusCode ?? 502;
      if (status === (range ? 206 : 200)) return resolve(ur);
      sourceError(ur, status, src.bucket, src.key).then(reject);
    });
    up.end();
  });
}

/** The source's tags, from its owner (GET ?tagging). */
function remoteTags(secret: string, from: Snode, src: CopySource): Promise<TagSet> {
  const path = `${s3Path(src.bucket, src.key)}?tagging`;
  return new Promise((resolve, reject) => {
    const up = agents.request(intraAddr(from), { method: 'GET', path, headers: { [FWD_HEADER]: secret }, timeout: 60_000 });
    up.on('timeout', () => up.destroy(new Error('source target timed out')));
    up.on('error', (err) => reject(s3err('ServiceUnavailable', `source target unreachable: ${err.message}`)));
    up.on('response', (ur) => {
      const chunks: Buffer[] = [];
      ur.on('data', (c: Buffer) => chunks.push(c));
      ur.on('end', () => {
        const status = ur.statusCode ?? 502;
        if (status === 404) return reject(noSuchKey(src.bucket, src.key));
        if (status !== 200) return reject(s3err('InternalError', `source target answered ${status} to ?tagging`));
        try {
          resolve(parseTaggingXml(Buffer.concat(chunks)));
        } catch (err) {
          reject(err);
        }
      });
    });
    up.end();
  });
}

/** Streams a source response into a PutStream; the response is paused whenever the PUT's buffers are full. */
export function putFromSource(target: Target, req: Req, ur: http.IncomingMessage, params: PutParams, done: (err: PutError | undefined, lom?: Lom) => void): void {
  // PutStream pauses and resumes "the client": here that is the source's response.
  const flow = { pause: () => ur.pause(), resume: () => ur.resume() } as unknown as HttpResponse;
  let complete = false;
  const stream = new PutStream(target, flow, req, params, (err, lom) => {
    if (!complete) ur.destroy();
    done(err, lom);
  });
  ur.on('data', (chunk: Buffer) => stream.onData(chunk, false));
  ur.on('end', () => {
    complete = true;
    stream.onData(EMPTY, true);
  });
  ur.on('close', () => {
    if (!ur.complete) stream.abort('SourceCorrupted', 'the source read ended early (checksum mismatch or source target gone)');
  });
}

function copyFailed(err: PutError): S3Error {
  if (err.code === 'SourceCorrupted') return new S3Error('InternalError', `The source object could not be read whole and was not copied (${err.message}).`);
  if (err.code === 'ENOSPC') return s3err('ServiceUnavailable', 'no space left on the mountpath');
  if (err.code === 'MetadataTooLarge') return s3err('MetadataTooLarge', err.message);
  if (err.code === 'ENAMECONFLICT') return s3err('XTaisObjectNameConflict', 'an object and a folder of objects would share a name');
  return new S3Error('InternalError', `copy failed: ${err.code}`);
}

function sourceError(ur: http.IncomingMessage, status: number, bucket: string, key: string): Promise<S3Error> {
  const chunks: Buffer[] = [];
  ur.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    ur.on('end', () => {
      // A copy has no 304: every failed copy-source condition is 412.
      if (status === 304 || status === 412) return resolve(preconditionFailed('x-amz-copy-source-If-Match'));
      const code = /<Code>([^<]*)<\/Code>/.exec(Buffer.concat(chunks).toString())?.[1];
      if (status === 404 && (code === undefined || code === 'NoSuchKey')) return resolve(noSuchKey(bucket, key));
      resolve(code && Object.hasOwn(S3_ERRORS, code) ? s3err(code as S3ErrorCode) : s3err('InternalError', `source target answered ${status}`));
    });
    ur.on('error', () => resolve(s3err('InternalError', `source target answered ${status}`)));
  });
}
