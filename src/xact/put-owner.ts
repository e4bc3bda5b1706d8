// How jobs write objects: a PUT to the destination's owner (itself or another target) over the
// intra-cluster address, marked forwarded with the cluster secret, so the owner serves it as its own
// PUT: its bucket's checksum and MD5, a work file and an atomic rename. A body that fails midway (a
// source that did not verify, an archive member that could not be read) destroys the request: the
// owner gets a short or unterminated body and stores nothing.
import { Readable } from 'node:stream';
import type { Node } from '../cluster/node';
import type { ObjectHandle } from '../target/target';
import { readPieces } from './read-verified';
import { FWD_HEADER, IntraAgents, s3Path, objectsPath } from '../cluster/intra';
import { intraAddr } from '../cluster/snode';

const agents = new IntraAgents({ maxSockets: 32 });

/** The owner answered other than 200 (`status`: 412 for a failed If-None-Match, ...). */
export class PutRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `s3`: the S3 PUT (user metadata as x-amz-meta-*); `native`: /v1/objects (a body of unknown length,
 *  sent chunked, is fine there). */
export function putToOwner(node: Node, bucket: string, name: string, body: Buffer | Readable, headers: Record<string, string>, route: 's3' | 'native'): Promise<void> {
  const owner = node.smap.owner(bucket, name, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner) return Promise.reject(new Error('the cluster has no storage targets'));
  const provider = node.bmd.get(bucket)?.provider ?? 'ais';
  const path = route === 's3' ? s3Path(bucket, name) : `${objectsPath(bucket, name)}?provider=${provider}`;
  return new Promise((resolve, reject) => {
    // The path as given (not resolved as a URL: a name's '..' segments would be collapsed).
    const req = agents.request(intraAddr(owner), { path, method: 'PUT', headers: { ...headers, [FWD_HEADER]: node.secret } }, (res) => {
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
        reject(new PutRefused(res.statusCode ?? 0, `PUT ${bucket}/${name} on ${owner.id}: ${res.statusCode} ${msg}`));
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

/**
 * An object as a copy sends it to its new owner with putToOwner(..., 's3'): its bytes verified as they
 * are read (read-verified.ts), its content type, user metadata and tags as the S3 PUT's headers.
 */
export function copySource(h: ObjectHandle): { body: Readable; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'content-length': String(h.lom.size) };
  if (h.lom.contentType) headers['content-type'] = h.lom.contentType;
  for (const [k, v] of Object.entries(h.lom.meta ?? {})) headers[`x-amz-meta-${k}`] = v;
  if (h.lom.tags?.length) headers['x-amz-tagging'] = h.lom.tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return { body: Readable.from(readPieces(h), { objectMode: false }), headers };
}
