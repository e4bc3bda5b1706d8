// Native /v1/buckets: list buckets (GET /v1/buckets/), and per bucket create (POST create-bck), destroy
// (DELETE destroy-bck: the bucket goes with its objects, as in AIStore), props (HEAD -> Ais-Bucket-Props,
// PATCH set-bprops / reset-bprops), list objects (GET with {"action":"list","value":LsoMsg}, lso.ts) and
// the jobs started on a bucket (POST prefetch-listrange, copy-bck, etl-bck; DELETE evict-listrange).
// Bucket metadata lives in the BMD, which only the primary changes: other nodes forward those requests.
import { authorize } from '../authn/authn';
import { Ace } from '../authn/access';
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from './http';
import { newBucketProps, setBucketProps, type BucketProps } from '../cluster/config';
import type { Node } from '../cluster/node';
import { toPrimary } from '../proxy/route';
import { listObjectsV1, type LsoMsg } from './lso';
import {
  ApiError,
  JSON_CT,
  badRequest,
  bucketOf,
  bucketUri,
  checkBucketName,
  guarded,
  notFound,
  notServed,
  providerOf,
  readAction,
  sendJson,
  type ActionMsg,
  type Provider,
} from './native';
import { headBucket, type BackendError } from '../backend/s3';
import { parseBckTo, startArchiveJob, startListRangeJob, startTcbJob } from './xactions';
import type { TcbKind } from '../xact/tcb';

const PREFIX = '/v1/buckets';

export function handleBucketsV1(node: Node, res: HttpResponse, req: Req): void {
  guarded(res, req, () => {
    const query = new URLSearchParams(req.query);
    const provider = providerOf(query);
    const rest = req.url.slice(PREFIX.length).replace(/^\/+/, '').replace(/\/+$/, '');
    if (rest === '') {
      authorize(node, req, Ace.LIST_BUCKETS);
      return bucketsRoot(node, res, req, query.has('provider') ? provider : undefined);
    }
    const name = decodeURIComponent(rest);
    if (name.includes('/')) throw badRequest(`invalid bucket name "${name}" (an object is /v1/objects/BUCKET/OBJECT)`);
    checkBucketName(name);
    const existing = (): BucketProps => bucketOf((n) => node.bmd.get(n), name, provider);
    const bck = { name, provider: node.bmd.get(name)?.provider ?? provider };
    // What a request needs is known once its action message is read (metadata writes: on the primary,
    // which trusts what another node forwards without a token); until then the token must be valid,
    // before anything (even whether the bucket exists) is answered.
    if (req.method !== 'HEAD') authorize(node, req, 0n);
    switch (req.method) {
      case 'HEAD': {
        authorize(node, req, Ace.BCK_HEAD, bck);
        const props = existing();
        return reply(res, req, '200 OK', [JSON_CT, ['Ais-Bucket-Props', JSON.stringify(props)]]);
      }
      case 'GET':
        existing();
        return readAction(res).then((msg) => {
          authorize(node, req, msg ? Ace.OBJ_LIST : Ace.BCK_HEAD, bck);
          if (!msg) return sendJson(res, req, node.bmd.get(name)); // no action: the props, as a convenience
          if (msg.action !== 'list') throw notServed(`action "${msg.action}" on GET /v1/buckets/NAME is not supported (only "list")`);
          return listObjectsV1(node, res, req, name, (msg.value ?? {}) as LsoMsg);
        });
      case 'POST':
        // Jobs start from the primary too (any gateway could: they only tell the targets).
        return toPrimary(node, res, req, () =>
          readAction(res).then((msg) => {
            const prefetch = msg?.action === 'prefetch-listrange';
            const tcb = msg ? TCB_KINDS[msg.action] : undefined;
            if (tcb) {
              // Reading the source, writing the destination (created if need be).
              const to = parseBckTo(query.get('bck_to'));
              authorize(node, req, Ace.GET, bck);
              authorize(node, req, Ace.PUT | (node.bmd.get(to.name) ? 0n : Ace.CREATE_BUCKET), to);
              return startTcbJob(node, res, req, name, existing(), tcb, query.get('bck_to'), msg!.value);
            }
            authorize(node, req, prefetch ? Ace.GET : Ace.CREATE_BUCKET, bck);
            return prefetch ? startListRangeJob(node, res, req, name, existing(), 'prefetch-objects', msg.value) : createBucket(node, res, req, name, provider, msg);
          }),
        );
      case 'DELETE':
        existing();
        return toPrimary(node, res, req, () =>
          readAction(res).then((msg) => {
            const listRange = msg?.action === 'evict-listrange' || msg?.action === 'delete-listrange';
            authorize(node, req, listRange ? Ace.OBJ_DELETE : Ace.DESTROY_BUCKET, bck);
            return listRange
              ? startListRangeJob(node, res, req, name, existing(), msg.action === 'evict-listrange' ? 'evict-objects' : 'delete-objects', msg.value)
              : msg?.action === 'evict-remote-bck'
                ? evictRemoteBucket(node, res, req, name, existing(), msg.value)
                : destroyBucket(node, res, req, name, msg);
          }),
        );
      case 'PATCH':
        existing();
        return toPrimary(node, res, req, () =>
          readAction(res).then((msg) => {
            authorize(node, req, Ace.PATCH, bck);
            return patchBucket(node, res, req, name, msg);
          }),
        );
      case 'PUT':
        return readAction(res).then((msg) => {
          if (msg?.action !== 'archive') throw notServed(`action "${msg?.action ?? ''}" on PUT /v1/buckets/NAME is not supported yet`);
          const to = (msg.value as { tobck?: { name?: string } } | null)?.tobck?.name ?? name;
          authorize(node, req, Ace.GET, bck);
          authorize(node, req, Ace.PUT, { name: to, provider: node.bmd.get(to)?.provider ?? 'ais' });
          return startArchiveJob(node, res, req, name, existing(), msg.value);
        });
      default:
        throw new ApiError(405, `${req.method} /v1/buckets/NAME is not supported`);
    }
  });
}

/** AIStore's copy/transform actions and the job kinds they start (bucket, or list/range of objects). */
const TCB_KINDS: Readonly<Record<string, TcbKind>> = { 'copy-bck': 'copy-bucket', 'etl-bck': 'etl-bucket', 'copy-listrange': 'copy-objects', 'etl-listrange': 'etl-objects' };

/** GET /v1/buckets/ (optionally with {"action":"list"}): every bucket, as AIStore's Bck list. */
function bucketsRoot(node: Node, res: HttpResponse, req: Req, provider: Provider | undefined): Promise<void> {
  if (req.method !== 'GET') {
    res.onData(() => {});
    throw new ApiError(405, `${req.method} /v1/buckets/ is not supported (buckets are created with POST /v1/buckets/NAME)`);
  }
  return readAction(res).then((msg) => {
    if (msg && msg.action !== 'list') throw notServed(`action "${msg.action}" on /v1/buckets/ is not supported (only "list")`);
    const list = node.bmd
      .names()
      .map((name) => ({ name, provider: node.bmd.get(name)!.provider, namespace: { uuid: '', name: '' } }))
      .filter((b) => provider === undefined || b.provider === provider);
    sendJson(res, req, list);
  });
}

/**
 * create-bck. A remote (aws) bucket is attached, not created: the remote bucket must exist and answer
 * HEAD with our credentials, checked before the BMD changes. Names are unique across providers (S3
 * clients name a bucket without its provider): a name taken by either provider is 409.
 */
async function createBucket(node: Node, res: HttpResponse, req: Req, name: string, provider: Provider, msg: ActionMsg | undefined): Promise<void> {
  const uri = bucketUri(name, provider);
  if (msg?.action !== 'create-bck') throw badRequest(`expected {"action":"create-bck"} to create bucket "${uri}"${msg ? `, got "${msg.action}"` : ''}`);
  const value = msg.value;
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) throw badRequest('create-bck: the value must be bucket props ({"checksum":{"type":"md5"}})');
  const taken = (): void => {
    const cur = node.bmd.get(name);
    if (cur) throw new ApiError(409, cur.provider === provider ? `bucket "${uri}" already exists` : `bucket name "${name}" is taken by "${bucketUri(name, cur.provider)}" (names are unique across providers)`);
  };
  taken();
  let props = newBucketProps(node.config, Date.now(), provider);
  if (value) props = wrapped(() => setBucketProps(props, value as Record<string, unknown>));
  if (provider === 'aws') {
    try {
      await headBucket(name, props);
    } catch (err) {
      const e = err as BackendError;
      throw new ApiError(e.status === 404 ? 404 : e.status === 403 ? 403 : 502, `cannot attach "${uri}": ${e.message}`);
    }
  }
  await node.primary!.modifyBmd((b) => {
    taken();
    b[name] = props;
  });
  reply(res, req, '200 OK', []);
}

async function destroyBucket(node: Node, res: HttpResponse, req: Req, name: string, msg: ActionMsg | undefined): Promise<void> {
  if (msg && msg.action !== 'destroy-bck') throw notServed(`action "${msg.action}" on DELETE /v1/buckets/NAME is not supported (only "destroy-bck")`);
  await node.primary!.modifyBmd((b) => {
    if (!Object.hasOwn(b, name)) throw notFound(`bucket "${bucketUri(name)}"`);
    delete b[name];
  });
  reply(res, req, '200 OK', []);
}

/**
 * AIStore's evict-remote-bck (`ais evict s3://B [--keep-md]`): every cached object of a remote bucket
 * goes (the remote keeps them). With keep-md (value true) the bucket stays attached, emptied by an
 * evict job over all its objects, whose ID is the answer; without it the bucket leaves the BMD, and
 * every target drops its cached data with it.
 */
async function evictRemoteBucket(node: Node, res: HttpResponse, req: Req, name: string, props: BucketProps, value: unknown): Promise<void> {
  if (props.provider !== 'aws') throw badRequest(`evict-remote-bck: "${bucketUri(name, props.provider)}" is not a remote bucket (s3://)`);
  if (value !== undefined && value !== null && typeof value !== 'boolean') throw badRequest('evict-remote-bck: the value is keep-md, true or false');
  if (value === true) return startListRangeJob(node, res, req, name, props, 'evict-objects', {});
  return destroyBucket(node, res, req, name, undefined);
}

async function patchBucket(node: Node, res: HttpResponse, req: Req, name: string, msg: ActionMsg | undefined): Promise<void> {
  if (msg?.action === 'set-bprops') {
    const value = msg.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('expected {"action":"set-bprops","value":{...}}');
    await node.primary!.modifyBmd((b) => {
      if (!Object.hasOwn(b, name)) throw notFound(`bucket "${bucketUri(name)}"`);
      b[name] = wrapped(() => setBucketProps(b[name]!, value as Record<string, unknown>));
    });
  } else if (msg?.action === 'reset-bprops') {
    await node.primary!.modifyBmd((b) => {
      if (!Object.hasOwn(b, name)) throw notFound(`bucket "${bucketUri(name)}"`);
      // A remote bucket stays attached where it is: provider and extra.aws survive a reset.
      const cur = b[name]!;
      b[name] = { ...newBucketProps(node.config, cur.created, cur.provider), ...(cur.extra ? { extra: cur.extra } : {}) };
    });
  } else {
    throw badRequest(`expected {"action":"set-bprops","value":{...}} or {"action":"reset-bprops"}${msg ? `, got "${msg.action}"` : ''}`);
  }
  sendJson(res, req, node.bmd.get(name));
}

/** Validation errors of props and config are the client's: 400 with their message. */
export function wrapped<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest((err as Error).message);
  }
}
