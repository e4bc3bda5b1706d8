// Native /v1/buckets/NAME: bucket properties as AIStore exposes them (HEAD -> Ais-Bucket-Props header,
// PATCH {"action":"set-bprops","value":{...}}). The rest of the native API comes with the `ais` CLI.
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from './http';
import { setBucketProps } from '../cluster/config';
import type { Node } from '../cluster/node';
import { forwardRequest } from '../proxy/forward';
import { FWD_HEADER } from '../cluster/intra';

const JSON_CT: readonly [string, string] = ['Content-Type', 'application/json'];

export function handleBucketsV1(node: Node, res: HttpResponse, req: Req): void {
  const bucket = decodeURIComponent(req.url.slice('/v1/buckets/'.length));
  const props = node.bmd.get(bucket);
  const fail = (status: string, message: string): void => reply(res, req, status, [JSON_CT], JSON.stringify({ message, status: Number(status.slice(0, 3)) }));
  if (!props) return fail('404 Not Found', `bucket "ais://${bucket}" does not exist`);
  if (req.method === 'HEAD' || req.method === 'GET') {
    return reply(res, req, '200 OK', [JSON_CT, ['Ais-Bucket-Props', JSON.stringify(props)]], req.method === 'GET' ? JSON.stringify(props) : undefined);
  }
  if (req.method !== 'PATCH') return fail('405 Method Not Allowed', `${req.method} /v1/buckets/NAME is not supported`);
  // Props live in the BMD, which only the primary changes.
  if (!node.isPrimary) {
    const p = node.smap.primary;
    if (!p) return fail('503 Service Unavailable', 'no primary proxy in the cluster map');
    return forwardRequest(res, req, { host: p.host, port: p.port }, req.query ? `${req.url}?${req.query}` : req.url, { [FWD_HEADER]: node.secret });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  res.onData((ab, isLast) => {
    size += ab.byteLength;
    if (size <= 64 * 1024) chunks.push(Buffer.from(ab.slice(0))); // an action message is small; refused below
    if (!isLast) return;
    try {
      if (size > 64 * 1024) throw new Error('action message too large');
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { action?: string; value?: Record<string, unknown> };
      if (msg.action !== 'set-bprops' || typeof msg.value !== 'object' || msg.value === null) throw new Error('expected {"action":"set-bprops","value":{...}}');
      if (!node.primary) throw new Error('internal: props change reached a non-primary');
      node.primary
        .modifyBmd((b) => {
          b[bucket] = setBucketProps(b[bucket], msg.value!);
        })
        .then(
          () => reply(res, req, '200 OK', [JSON_CT], JSON.stringify(node.bmd.get(bucket))),
          (err: Error) => fail('400 Bad Request', err.message),
        );
    } catch (err) {
      fail('400 Bad Request', (err as Error).message);
    }
  });
}
