// Inline ETL: GET /v1/objects/BUCKET/OBJECT?etl_name=NAME[&etl_args=...] answers the object as the ETL's
// transformer makes it (AIStore's etl-inline). Served by the object's owner (the gateway routes it
// there as any GET): the object is read whole and verified (read-verified.ts), sent to the transformer,
// and its answer is the response body. With &etl_pipeline=NAME2,NAME3 that answer goes on through those
// ETLs in turn (AIStore's pipelines). A first ETL with `argument: "fqn"` gets the object's file path
// instead of its bytes, once the target has read the file through its checksum. A remote bucket's object that is not cached is fetched first.
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from './http';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { ApiError, notFound } from './native';
import { etls } from '../etl/etl';
import { etlBytes } from '../etl/budget';
import { MAX_ETL_OBJECT, TransformError, type EtlTask } from '../etl/comm';
import { CorruptObject } from '../xact/read-verified';
import { coldFetch, RemoteNotFound } from '../target/cold-get';

export async function getTransformed(node: Node, res: HttpResponse, req: Req, bucket: string, obj: string, props: BucketProps, names: string[], args: string | undefined): Promise<void> {
  res.onData(() => {});
  const stages = names.map((n) => {
    const etl = etls.get(n);
    if (!etl) throw new ApiError(404, `ETL "${n}" does not exist`);
    return etl;
  });
  const uri = `${props.provider === 'aws' ? 's3' : 'ais'}://${bucket}/${obj}`;
  let h = node.target.openObject(bucket, obj);
  if (!h && props.provider === 'aws') {
    try {
      await coldFetch(node.target, bucket, obj, props).lom;
    } catch (err) {
      if (err instanceof RemoteNotFound) throw notFound(`object "${uri}"`);
      throw new ApiError(503, `cold GET of ${uri} failed: ${(err as Error).message}`);
    }
    h = node.target.openObject(bucket, obj);
  }
  if (!h) throw notFound(`object "${uri}"`);
  const size = h.lom.size;
  if (size > MAX_ETL_OBJECT) {
    node.target.closeObject(h);
    throw new ApiError(400, `object "${uri}" is too large for an ETL (${size} > ${MAX_ETL_OBJECT} bytes)`);
  }
  // The object and the answers are held in memory: within the node's ETL budget (etl/budget.ts).
  const release = await etlBytes.take(stages[0]!.budget(size));
  try {
    let input: Pick<EtlTask, 'body' | 'fqn' | 'size'>;
    try {
      input = await stages[0]!.input(h);
    } catch (err) {
      if (!(err instanceof CorruptObject)) throw err;
      node.target.stats.errCksum++;
      throw new ApiError(500, `BAD DATA CHECKSUM: ${err.message}`);
    } finally {
      node.target.closeObject(h);
    }
    let out: Buffer = Buffer.alloc(0);
    for (const [i, etl] of stages.entries()) {
      if (req.aborted) return;
      try {
        // The first ETL gets the object (bytes or path); each next one the answer before it.
        out = await etl.transform({ bucket, objName: obj, ...(i === 0 ? input : { body: out }), ...(args ? { args } : {}) });
      } catch (err) {
        if (err instanceof TransformError) throw new ApiError(err.timeout ? 504 : 502, `ETL "${etl.spec.name}": ${err.message}`);
        throw err;
      }
    }
    reply(res, req, '200 OK', [['Content-Type', 'application/octet-stream'], ['Ais-Etl-Name', names.join(',')]], out);
  } finally {
    release();
  }
}
