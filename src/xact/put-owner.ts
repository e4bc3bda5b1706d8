// How jobs write objects: a PUT to the destination's owner (itself or another target) over the
// intra-cluster address, marked forwarded with the cluster secret, so the owner serves it as its own
// PUT: its bucket's checksum and MD5, a work file and an atomic rename. A body that fails midway (a
// source that did not verify, an archive member that could not be read) destroys the request: the
// owner gets a short or unterminated body and stores nothing.
import http from 'node:http';
import type { Readable } from 'node:stream';
import type { Node } from '../cluster/node';
import { FWD_HEADER } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import { keepAliveAgent } from '../util/agent';

const agent = keepAliveAgent({ maxSockets: 32 });

/** `s3`: the S3 PUT (user metadata as x-amz-meta-*); `native`: /v1/objects (a body of unknown length,
 *  sent chunked, is fine there). */
export function putToOwner(node: Node, bucket: string, name: string, body: Buffer | Readable, headers: Record<string, string>, route: 's3' | 'native'): Promise<void> {
  const owner = node.smap.owner(bucket, name, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner) return Promise.reject(new Error('the cluster has no storage targets'));
  const key = name.split('/').map(encodeURIComponent).join('/');
  const provider = node.bmd.get(bucket)?.provider ?? 'ais';
  const path = route === 's3' ? `/s3/${encodeURIComponent(bucket)}/${key}` : `/v1/objects/${encodeURIComponent(bucket)}/${key}?provider=${provider}`;
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, nodeUrl(owner)), { method: 'PUT', agent, headers: { ...headers, [FWD_HEADER]: node.secret } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => {
        if (res.statusCode === 200) return resolve();
        const text = Buffer.concat(parts).toString('utf8');
        let msg = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? text.slice(0, 200);
        try {
          msg = (JSON.parse(text) as { message?: string }).message ?? msg;
        } catch {
          // XML or text
        }
        reject(new Error(`PUT ${bucket}/${name} on ${owner.id}: ${res.statusCode} ${msg}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => {
        req.destroy(err);
        reject(err);
      });
      body.pipe(req);
    }
  });
}
