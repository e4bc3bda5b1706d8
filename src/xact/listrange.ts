// prefetch-objects, evict-objects and delete-objects on one target: the job names objects by list, template or prefix
// (AIStore's ListRange message); every target walks the same names and acts on the ones HRW gives it,
// so all targets work in parallel and each object is handled once. Prefetch = a cold GET (the same
// fetch-once path as a client's, so a client GET and the job never fetch an object twice); objects
// already cached are skipped. Evict = delete the cached copy (the remote keeps the object). Delete =
// delete the object (of an s3:// bucket: in the remote first, then the cached copy).
import fs from 'node:fs';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { listPage as remotePage, deleteObject as deleteRemote } from '../backend/s3';
import { listPage as localPage } from '../target/list';
import { coldFetch } from '../target/cold-get';
import { expandTemplate, parseTemplate } from './template';
import { xactRegistry, Xaction } from './xaction';
import { log } from '../util/log';

/** AIStore's ListRange value of prefetch-listrange / evict-listrange (plus `prefix`, ours for clarity). */
export interface ListRangeMsg {
  objnames?: string[];
  template?: string;
  prefix?: string;
  'num-workers'?: number;
}

export type ListRangeKind = 'prefetch-objects' | 'evict-objects' | 'delete-objects';

const DEFAULT_WORKERS = 4;

/** Checks a message before any target starts: exactly one of objnames, template, prefix. */
export function validateListRange(msg: unknown): ListRangeMsg {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw new Error('the value must be {"objnames":[...]} or {"template":"..."} or {"prefix":"..."}');
  const m = msg as ListRangeMsg;
  const given = [m.objnames !== undefined, m.template !== undefined && m.template !== '', m.prefix !== undefined && m.prefix !== ''].filter(Boolean).length;
  if (given > 1) throw new Error('give one of objnames, template, prefix');
  if (m.objnames !== undefined && (!Array.isArray(m.objnames) || m.objnames.some((n) => typeof n !== 'string' || n === ''))) throw new Error('objnames must be a list of object names');
  if (m.template !== undefined && typeof m.template !== 'string') throw new Error('template must be a string');
  if (m.template) parseTemplate(m.template); // throws on a bad range
  if (m.prefix !== undefined && typeof m.prefix !== 'string') throw new Error('prefix must be a string');
  const w = m['num-workers'];
  if (w !== undefined && (!Number.isInteger(w) || w < 1 || w > 64)) throw new Error('num-workers must be 1..64');
  return m;
}

/** Starts the job on this target; returns at once (the job runs in the background). */
export function startListRange(node: Node, kind: ListRangeKind, id: string, bucket: string, props: BucketProps, msg: ListRangeMsg): Xaction {
  const x = new Xaction(id, kind, bucket, props.provider);
  xactRegistry.add(x);
  run(node, x, props, msg)
    .catch((err: Error) => {
      x.lastErr = err.message;
      log.warn(`${kind}[${id}] s3://${bucket}: ${err.message}`);
    })
    .finally(() => x.finish());
  return x;
}

async function run(node: Node, x: Xaction, props: BucketProps, msg: ListRangeMsg): Promise<void> {
  const names = ownedNames(node, x, props, msg);
  const act = x.kind === 'prefetch-objects' ? prefetchOne : x.kind === 'delete-objects' ? deleteOne : evictOne;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (x.aborted) return;
      const next = await names.next();
      if (next.done) return;
      try {
        await act(node, x, props, next.value);
      } catch (err) {
        x.errs++;
        x.lastErr = `${next.value}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: msg['num-workers'] ?? DEFAULT_WORKERS }, worker));
}

async function prefetchOne(node: Node, x: Xaction, props: BucketProps, name: string): Promise<void> {
  if (node.target.hasObject(x.bucket, name)) return; // cached already
  const lom = await coldFetch(node.target, x.bucket, name, props).lom;
  x.objs++;
  x.bytes += lom.size;
}

async function evictOne(node: Node, x: Xaction, _props: BucketProps, name: string): Promise<void> {
  const h = node.target.openObject(x.bucket, name);
  if (!h) return;
  const size = h.lom.size;
  fs.closeSync(h.fd);
  if (await node.target.deleteObject(x.bucket, name)) {
    x.objs++;
    x.bytes += size;
  }
}

async function deleteOne(node: Node, x: Xaction, props: BucketProps, name: string): Promise<void> {
  if (props.provider === 'aws') await deleteRemote(x.bucket, name, props); // write-through, as a client DELETE
  const h = node.target.openObject(x.bucket, name);
  const size = h?.lom.size ?? 0;
  if (h) fs.closeSync(h.fd);
  if ((await node.target.deleteObject(x.bucket, name)) || props.provider === 'aws') {
    x.objs++;
    x.bytes += size;
  }
}

/**
 * The names this target owns, one at a time (shared by the workers: a generator resumed by several
 * awaits hands each name out once). A prefix is listed from the remote for prefetch, from this
 * target's own disks for evict (only cached objects can be evicted).
 */
async function* ownedNames(node: Node, x: Xaction, props: BucketProps, msg: ListRangeMsg): AsyncGenerator<string> {
  const mine = (name: string): boolean => node.smap.owner(x.bucket, name, props.provider)?.id === node.self.id;
  if (msg.objnames) {
    for (const n of msg.objnames) if (mine(n)) yield n;
    return;
  }
  const tpl = msg.template ? parseTemplate(msg.template) : undefined;
  if (tpl) {
    for (const n of expandTemplate(tpl)) if (mine(n)) yield n;
    return;
  }
  const prefix = msg.prefix || msg.template || '';
  if (x.kind === 'evict-objects' || props.provider === 'ais') {
    let after = '';
    for (;;) {
      const page = await localPage(node.target, x.bucket, { prefix, delimiter: '', after, maxKeys: 1000 });
      for (const e of page.entries) if (mine(e.key)) yield e.key;
      if (!page.truncated || x.aborted) return;
      after = page.last;
    }
  }
  let token: string | undefined;
  for (;;) {
    const page = await remotePage(x.bucket, props, { prefix, delimiter: '', after: '', maxKeys: 1000, ...(token ? { token } : {}) });
    for (const e of page.entries) if (mine(e.name)) yield e.name;
    if (!page.next || x.aborted) return;
    token = page.next;
  }
}
