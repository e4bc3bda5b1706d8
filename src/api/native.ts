// What every native /v1 handler shares: errors as AIStore answers them (JSON {"message","status"} with
// the HTTP status), the action message ({"action","name","value"}), the bucket named by path and
// `provider` query, and a wrapper that maps any failure to one JSON error at the edge.
import type { HttpResponse } from '../util/uws';
import { reply, readBody, statusLine, BodyTooLarge, type Req } from './http';
import { S3Error } from '../s3/errors';
import { PutError } from '../target/put';
import { log } from '../util/log';
import type { BucketProps, BucketProvider } from '../cluster/config';

export const JSON_CT: readonly [string, string] = ['Content-Type', 'application/json'];
const MAX_ACTION = 1 << 20;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string): ApiError => new ApiError(404, `${what} does not exist`);
export const badRequest = (message: string): ApiError => new ApiError(400, message);
export const notServed = (message: string): ApiError => new ApiError(501, message);

export interface ActionMsg {
  action: string;
  name?: string;
  value?: unknown;
}

export function sendJson(res: HttpResponse, req: Req, value: unknown, status = 200): void {
  reply(res, req, statusLine(status), [JSON_CT], JSON.stringify(value));
}

/** The one place a native request's failure becomes a response. */
export function sendApiError(res: HttpResponse, req: Req, err: unknown): void {
  let status = 500;
  let message = 'internal error';
  if (err instanceof ApiError) ({ status, message } = err);
  else if (err instanceof S3Error) ({ status, message } = err);
  else if (err instanceof BodyTooLarge) ({ status, message } = { status: 400, message: err.message });
  else log.error(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  // HEAD answers carry no body; AIStore's clients read the status (and Python's the reason).
  reply(res, req, statusLine(status), [JSON_CT], req.method === 'HEAD' ? undefined : JSON.stringify({ message, status }));
}

/** Runs a handler; whatever it throws (synchronously or not) is answered as a JSON error. */
export function guarded(res: HttpResponse, req: Req, fn: () => Promise<void> | void): void {
  try {
    const p = fn();
    if (p) p.catch((err: unknown) => sendApiError(res, req, err));
  } catch (err) {
    sendApiError(res, req, err);
  }
}

/** Reads and parses the optional action message; undefined when the body is empty. Call synchronously. */
export function readAction(res: HttpResponse): Promise<ActionMsg | undefined> {
  return readBody(res, MAX_ACTION).then((b) => parseAction(b));
}

export function parseAction(b: Buffer): ActionMsg | undefined {
  const text = b.toString('utf8').trim();
  if (text === '') return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    throw badRequest('the request body is not a JSON action message ({"action":"...","value":...})');
  }
  if (msg === null || typeof msg !== 'object' || typeof (msg as ActionMsg).action !== 'string') {
    throw badRequest('expected an action message {"action":"...","name":"...","value":...}');
  }
  return msg as ActionMsg;
}

export type Provider = BucketProvider;
const NOT_SERVED = new Set(['gcp', 'gs', 'azure', 'az', 'oci', 'oc', 'ht']);

/** The `provider` query parameter: ais (or empty), aws (or its scheme s3). */
export function providerOf(query: URLSearchParams): Provider {
  const p = query.get('provider') ?? '';
  if (p === '' || p === 'ais') return 'ais';
  if (p === 'aws' || p === 's3') return 'aws';
  if (NOT_SERVED.has(p)) throw notServed(`provider "${p}": only ais:// and s3:// (aws://) buckets are served`);
  throw badRequest(`invalid provider "${p}" (valid: ais, aws, s3, gcp, azure, oci)`);
}

/**
 * The props of bucket `name` as the request names it. Bucket names are unique across providers in
 * our BMD, so a name asked for with the other provider does not exist (404 naming what does).
 */
export function bucketOf(bmdGet: (name: string) => BucketProps | undefined, name: string, provider: Provider): BucketProps {
  const props = bmdGet(name);
  if (!props) throw notFound(`bucket "${bucketUri(name, provider)}"`);
  if (props.provider !== provider) throw notFound(`bucket "${bucketUri(name, provider)}" (there is "${bucketUri(name, props.provider)}")`);
  return props;
}

/** AIStore's bucket name rules (cmn/bck.go): letters, digits, '_', '.', '-'; at most 64; no '..'. */
export function checkBucketName(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name) || name.includes('..') || name === '.') {
    throw badRequest(`bucket name "${name}" is invalid: may only contain letters, numbers, dashes (-), underscores (_), and dots (.), at most 64 characters`);
  }
}

export function bucketUri(name: string, provider: Provider = 'ais'): string {
  return `${provider === 'aws' ? 's3' : 'ais'}://${name}`;
}

/** Maps a data-path failure (PutStream) to a native error. */
export function putErrorToApi(err: PutError): ApiError {
  switch (err.code) {
    case 'BadDigest':
      return new ApiError(400, `BAD DATA CHECKSUM: ${err.message}`);
    case 'ENAMECONFLICT':
      return new ApiError(409, 'an object and a folder of objects would share a name (e.g. "a" and "a/b")');
    case 'IncompleteBody':
    case 'InvalidRequest':
    case 'InvalidArgument':
      return new ApiError(400, err.message);
    case 'ENOSPC':
      return new ApiError(507, 'no space left on the mountpath');
    case 'ENAMETOOLONG':
      return new ApiError(400, 'object name too long');
    default:
      return new ApiError(500, `PUT failed: ${err.code}`);
  }
}
