// Turns any failure into an S3 error response, once, at the edge. Errors that are not S3Errors are
// internal: logged with the request, answered as InternalError without leaking details.
import type { HttpResponse } from '../util/uws';
import { reply, statusLine, type Req } from '../api/http';
import { S3Error, s3err, errorXml } from './errors';
import { log } from '../util/log';

export function toS3Error(err: unknown, req: Req): S3Error {
  if (err instanceof S3Error) return err;
  log.error(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  return s3err('InternalError');
}

export function sendS3Error(res: HttpResponse, req: Req, err: unknown, extraHeaders: ReadonlyArray<readonly [string, string]> = []): void {
  const e = toS3Error(err, req);
  // HEAD responses carry no body; S3 clients read the status alone.
  const body = req.method === 'HEAD' ? undefined : errorXml(e, req.id);
  reply(res, req, statusLine(e.status), [['Content-Type', 'application/xml'], ...extraHeaders], body);
}
