// Jobs through the native API, on a gateway: start a list/range job on every target
// (`prefetch-listrange` POST and `evict-listrange` DELETE on /v1/buckets/NAME: the answer is the job
// ID as text, as AIStore answers), its progress (`GET /v1/cluster?what=qryxstats&id=ID`: every
// target's snap, by target ID) and stop (`PUT /v1/cluster {"action":"stop","value":{"id":ID}}`).
// Targets are reached over the intra-cluster routes (api/intra.ts), in parallel.
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from './http';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { intraMsg, packMsg } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import { ApiError, badRequest, bucketUri, sendJson } from './native';
import { startListRange, validateListRange, type ListRangeKind, type ListRangeMsg } from '../xact/listrange';
import { newXactId, xactRegistry, type XactSnap } from '../xact/xaction';

export interface StartMsg {
  id: string;
  kind: ListRangeKind;
  bucket: string;
  msg: ListRangeMsg;
}

/** What a target does with a start message (also called in-process when the gateway is a target). */
export function startOnTarget(node: Node, m: StartMsg): void {
  const props = node.bmd.get(m.bucket);
  if (!props) throw new ApiError(404, `bucket "${m.bucket}" does not exist on target ${node.self.id}`);
  startListRange(node, m.kind, m.id, m.bucket, props, m.msg);
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
  if (props.provider !== 'aws') throw badRequest(`${kind === 'prefetch-objects' ? 'prefetch' : 'evict'}: "${bucketUri(bucket, props.provider)}" is not a remote bucket (s3://)`);
  let msg: ListRangeMsg;
  try {
    msg = validateListRange(value ?? {});
  } catch (err) {
    throw badRequest(`${kind}: ${(err as Error).message}`);
  }
  const targets = node.smap.targets();
  if (targets.length === 0) throw new ApiError(503, 'the cluster has no storage targets');
  const start: StartMsg = { id: newXactId(), kind, bucket, msg };
  await Promise.all(
    targets.map((t) =>
      t.id === node.self.id && node.isTarget
        ? startOnTarget(node, start)
        : intraMsg(nodeUrl(t), '/v1/intra/xact/start', { method: 'POST', secret: node.secret, body: packMsg(start) }),
    ),
  );
  reply(res, req, '200 OK', [['Content-Type', 'text/plain']], start.id);
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
