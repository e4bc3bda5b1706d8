// Jobs through the native API, on a gateway: start a list/range job on every target
// (`prefetch-listrange` POST and `evict-listrange` DELETE on /v1/buckets/NAME: the answer is the job
// ID as text, as AIStore answers), its progress (`GET /v1/cluster?what=qryxstats&id=ID`: every
// target's snap, by target ID) and stop (`PUT /v1/cluster {"action":"stop","value":{"id":ID}}`).
// Targets are reached over the intra-cluster routes (api/intra.ts), in parallel.
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from './http';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { IntraError, intraMsg, packMsg } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import { ApiError, badRequest, bucketUri, notServed, sendJson, type ActionMsg } from './native';
import { startListRange, validateListRange, type ListRangeKind, type ListRangeMsg } from '../xact/listrange';
import { startTcb, validateTcb, type TcbKind, type TcbMsg } from '../xact/tcb';
import { startArchive, validateArchive, type ArchiveMsg } from '../xact/archive';
import { PromoteError, scanPromote, startPromote, validatePromote, type PromoteArgs, type PromoteScan } from '../xact/promote';
import { newXactId, xactRegistry, type XactSnap } from '../xact/xaction';
import { newBucketProps } from '../cluster/config';
import { etls } from '../etl/etl';

export type StartMsg =
  | { id: string; kind: ListRangeKind; bucket: string; msg: ListRangeMsg }
  | { id: string; kind: TcbKind; bucket: string; msg: TcbMsg; dst: string }
  | { id: string; kind: 'archive'; bucket: string; msg: ArchiveMsg; dst: string }
  | { id: string; kind: 'promote'; bucket: string; msg: PromoteArgs; mode: 'owned' | 'all' };

/** What a target does with a start message (also called in-process when the gateway is a target). */
export function startOnTarget(node: Node, m: StartMsg): void {
  const props = node.bmd.get(m.bucket);
  if (!props) throw new ApiError(404, `bucket "${m.bucket}" does not exist on target ${node.self.id}`);
  if (m.kind === 'archive') startArchive(node, m.id, m.bucket, m.dst, m.msg);
  else if (m.kind === 'promote') startPromote(node, m.id, m.bucket, m.msg, m.mode);
  else if ('dst' in m) {
    if (m.msg.id && !etls.has(m.msg.id)) throw new ApiError(404, `ETL "${m.msg.id}" does not exist on target ${node.self.id}`);
    startTcb(node, m.kind, m.id, m.bucket, props, m.dst, m.msg);
  } else startListRange(node, m.kind, m.id, m.bucket, props, m.msg);
}

export function snapsOnTarget(id: string | undefined): XactSnap[] {
  return xactRegistry.list().filter((x) => id === undefined || x.id === id).map((x) => x.snap());
}

export function stopOnTarget(id: string): number {
  const x = xactRegistry.get(id);
  if (!x) return 0;
  x.stop();
  return 1;
}

/** prefetch-listrange / evict-listrange: checked here, then started on every target. */
export async function startListRangeJob(node: Node, res: HttpResponse, req: Req, bucket: string, props: BucketProps, kind: ListRangeKind, value: unknown): Promise<void> {
  if (props.provider !== 'aws' && kind !== 'delete-objects') throw badRequest(`${kind === 'prefetch-objects' ? 'prefetch' : 'evict'}: "${bucketUri(bucket, props.provider)}" is not a remote bucket (s3://)`);
  let msg: ListRangeMsg;
  try {
    msg = validateListRange(value ?? {});
  } catch (err) {
    throw badRequest(`${kind}: ${(err as Error).message}`);
  }
  await startEverywhere(node, res, req, { id: newXactId(), kind, bucket, msg });
}

/** Starts a job on every target; answers its ID. */
async function startEverywhere(node: Node, res: HttpResponse, req: Req, start: StartMsg): Promise<void> {
  const targets = node.smap.targets();
  if (targets.length === 0) throw new ApiError(503, 'the cluster has no storage targets');
  await Promise.all(
    targets.map((t) =>
      t.id === node.self.id && node.isTarget
        ? startOnTarget(node, start)
        : intraMsg(nodeUrl(t), '/v1/intra/xact/start', { method: 'POST', secret: node.secret, body: packMsg(start) }).catch((err: Error) => {
            throw err instanceof IntraError ? new ApiError(err.status, err.detail) : err;
          }),
    ),
  );
  reply(res, req, '200 OK', [['Content-Type', 'text/plain']], start.id);
}

/** AIStore's bck_to: a bucket's uname ("ais/@#/dst/", "aws/@#/dst/") or a bare name (ais). */
export function parseBckTo(raw: string | null): { name: string; provider: 'ais' | 'aws' } {
  if (!raw) throw badRequest('copy-bck / etl-bck: missing the destination bucket (?bck_to=ais/@#/NAME/)');
  const parts = raw.replace(/\/+$/, '').split('/');
  const [prov, name] = parts.length === 1 ? ['ais', parts[0]] : parts.length === 3 && /^@[^/]*#?[^/]*$/.test(parts[1]!) ? [parts[0], parts[2]] : [undefined, undefined];
  const provider = prov === 'ais' || prov === '' ? 'ais' : prov === 'aws' || prov === 's3' ? 'aws' : undefined;
  if (!provider || !name) throw badRequest(`invalid bck_to "${raw}": expected ais/@#/NAME/ (or s3 / aws)`);
  if (parts.length === 3 && parts[1] !== '@#' && parts[1] !== '@') throw notServed(`bck_to "${raw}": namespaces are not supported`);
  return { name, provider };
}

/**
 * copy-bck / etl-bck (POST /v1/buckets/SRC?bck_to=ais/@#/DST/): an ais:// destination that does not
 * exist is created first with the source's checksum props, as AIStore does; then every target copies
 * the source objects it owns. The answer is the job ID.
 */
export async function startTcbJob(node: Node, res: HttpResponse, req: Req, src: string, srcProps: BucketProps, kind: TcbKind, bckTo: string | null, value: unknown): Promise<void> {
  const dst = parseBckTo(bckTo);
  let msg: TcbMsg;
  try {
    msg = validateTcb(value, kind);
  } catch (err) {
    throw badRequest(`${kind}: ${(err as Error).message}`);
  }
  if (dst.name === src && !msg.prepend && !msg.ext) throw badRequest(`cannot copy ${bucketUri(src, srcProps.provider)} onto itself (give a different destination, or prepend)`);
  const cur = node.bmd.get(dst.name);
  if (cur && cur.provider !== dst.provider) throw new ApiError(409, `bucket name "${dst.name}" is taken by "${bucketUri(dst.name, cur.provider)}"`);
  if (!cur) {
    if (dst.provider !== 'ais') throw new ApiError(404, `destination ${bucketUri(dst.name, dst.provider)} is not attached (create it first: ais bucket create)`);
    if (!msg.dry_run) {
      await node.primary!.modifyBmd((b) => {
        if (!Object.hasOwn(b, dst.name)) b[dst.name] = { ...newBucketProps(node.config, Date.now(), 'ais'), ...(srcProps.provider === 'ais' ? { checksum: { ...srcProps.checksum } } : {}) };
      });
    }
  }
  await startEverywhere(node, res, req, { id: newXactId(), kind, bucket: src, msg, dst: dst.name });
}

/**
 * archive (PUT /v1/buckets/SRC {"action":"archive","value":ArchiveBckMsg}): one job, on the target
 * that owns the shard (it reads the members from their owners); the answer is the job ID.
 */
export async function startArchiveJob(node: Node, res: HttpResponse, req: Req, src: string, srcProps: BucketProps, value: unknown): Promise<void> {
  let msg: ArchiveMsg;
  try {
    msg = validateArchive(value);
  } catch (err) {
    throw badRequest(`archive: ${(err as Error).message}`);
  }
  const dst = msg.tobck?.name ?? src;
  const props = node.bmd.get(dst);
  if (!props) throw new ApiError(404, `archive: destination bucket "${bucketUri(dst, (msg.tobck?.provider as 'ais' | 'aws' | undefined) ?? 'ais')}" does not exist`);
  if (srcProps.provider !== 'ais' || props.provider !== 'ais') throw notServed('archive: ais:// buckets only');
  const owner = node.smap.owner(dst, msg.archname, props.provider);
  if (!owner) throw new ApiError(503, 'the cluster has no storage targets');
  const start: StartMsg = { id: newXactId(), kind: 'archive', bucket: src, msg, dst };
  if (owner.id === node.self.id && node.isTarget) startOnTarget(node, start);
  else
    await intraMsg(nodeUrl(owner), '/v1/intra/xact/start', { method: 'POST', secret: node.secret, body: packMsg(start) }).catch((err: Error) => {
      throw err instanceof IntraError ? new ApiError(err.status, err.detail) : err;
    });
  reply(res, req, '200 OK', [['Content-Type', 'text/plain']], start.id);
}

/**
 * promote (POST /v1/objects/BUCKET {"action":"promote","name":SRC,"value":PromoteArgs}): every target
 * (or the one `tid` names) reports what it sees at SRC; when all see the same files it is a file share
 * and each promotes the files it owns, else each promotes all it sees (xact/promote.ts). The answer is
 * the job ID.
 */
export async function startPromoteJob(node: Node, res: HttpResponse, req: Req, bucket: string, props: BucketProps, msg: ActionMsg | undefined): Promise<void> {
  if (!msg || msg.action !== 'promote') throw badRequest(`expected {"action":"promote","name":"/path/to/file/or/dir","value":{...}} on POST /v1/objects/${bucket}`);
  let args: PromoteArgs;
  try {
    args = validatePromote(msg.name, msg.value);
  } catch (err) {
    throw err instanceof PromoteError ? new ApiError(err.status, err.message) : err;
  }
  let targets = node.smap.targets();
  if (args.tid) {
    const t = targets.find((s) => s.id === args.tid);
    if (!t) throw new ApiError(404, `promote: target "${args.tid}" is not in the cluster map`);
    targets = [t];
  }
  if (targets.length === 0) throw new ApiError(503, 'the cluster has no storage targets');
  const scans = await Promise.all(
    targets.map((t) =>
      (t.id === node.self.id && node.isTarget
        ? scanPromote(args)
        : intraMsg<PromoteScan>(nodeUrl(t), '/v1/intra/promote/scan', { method: 'POST', secret: node.secret, body: packMsg(args) })
      ).catch((err: Error) => {
        if (err instanceof PromoteError) throw new ApiError(err.status, err.message);
        throw err instanceof IntraError ? new ApiError(err.status, `target ${t.id}: ${err.detail}`) : err;
      }),
    ),
  );
  if (scans.every((s) => s.num === 0)) throw new ApiError(404, `promote: no files in "${args.src}"${args.rcr ? '' : ' (its subdirectories need --recursive)'}`);
  const share = targets.length > 1 && !args.notshr && scans.every((s) => s.hash === scans[0]!.hash);
  const id = newXactId();
  await Promise.all(
    targets.map((t, i) => {
      if (scans[i]!.num === 0) return undefined;
      const start: StartMsg = { id, kind: 'promote', bucket, msg: args, mode: share ? 'owned' : 'all' };
      return t.id === node.self.id && node.isTarget
        ? startOnTarget(node, start)
        : intraMsg(nodeUrl(t), '/v1/intra/xact/start', { method: 'POST', secret: node.secret, body: packMsg(start) }).catch((err: Error) => {
            throw err instanceof IntraError ? new ApiError(err.status, err.detail) : err;
          });
    }),
  );
  reply(res, req, '200 OK', [['Content-Type', 'text/plain']], id);
}

/** GET /v1/cluster?what=qryxstats[&id=ID]: {targetID: [snap...]}. */
export async function queryXactStats(node: Node, res: HttpResponse, req: Req, id: string | undefined): Promise<void> {
  const out: Record<string, XactSnap[]> = {};
  await Promise.all(
    node.smap.targets().map(async (t) => {
      out[t.id] =
        t.id === node.self.id && node.isTarget
          ? snapsOnTarget(id)
          : await intraMsg<XactSnap[]>(nodeUrl(t), `/v1/intra/xact/snap${id ? `?id=${encodeURIComponent(id)}` : ''}`, { secret: node.secret });
    }),
  );
  if (id !== undefined && Object.values(out).every((s) => s.length === 0)) throw new ApiError(404, `job "${id}" does not exist`);
  sendJson(res, req, out);
}

/** {"action":"stop","value":{"id":ID}}: every target stops its part. */
export async function stopJob(node: Node, res: HttpResponse, req: Req, value: unknown): Promise<void> {
  const id = (value as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || id === '') throw badRequest('stop: expected {"action":"stop","value":{"id":"JOB_ID"}}');
  const counts = await Promise.all(
    node.smap.targets().map((t) =>
      t.id === node.self.id && node.isTarget
        ? stopOnTarget(id)
        : intraMsg<number>(nodeUrl(t), '/v1/intra/xact/stop', { method: 'POST', secret: node.secret, body: packMsg({ id }) }),
    ),
  );
  if (counts.every((n) => !n)) throw new ApiError(404, `job "${id}" does not exist`);
  reply(res, req, '200 OK', []);
}
