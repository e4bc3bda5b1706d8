// Questions a gateway asks every target and merges: a page of a bucket listing, "is this bucket empty",
// the multipart uploads in progress. The local target (when this node is one) answers in-process; the
// others over intra-cluster msgpack calls (src/api/intra.ts).
import { intraMsg } from '../cluster/intra';
import { nodeUrl, type Snode } from '../cluster/snode';
import { compareNames } from '../fs/fqn';
import { listPage, type ListQuery, type ListResult, type ListedObject } from '../target/list';
import { mpuStore } from '../target/mpu';
import type { UploadEntry } from '../s3/mpu-xml';
import { s3err } from '../s3/errors';
import type { Node } from '../cluster/node';

function targetsOf(node: Node): Snode[] {
  const ts = node.smap.targets();
  if (ts.length === 0) throw s3err('ServiceUnavailable', 'the cluster has no storage targets (yet)');
  return ts;
}

function listOn(node: Node, t: Snode, bucket: string, q: ListQuery): Promise<ListResult> {
  if (t.id === node.self.id) return listPage(node.target, bucket, q);
  const qs = new URLSearchParams({ prefix: q.prefix, delimiter: q.delimiter, after: q.after, max: String(q.maxKeys) });
  return intraMsg<ListResult>(nodeUrl(t), `/v1/intra/list/${encodeURIComponent(bucket)}?${qs}`, { secret: node.secret });
}

/**
 * One page of the whole bucket: every target lists up to maxKeys names after `after`; the first
 * maxKeys of their sorted union are the page (any name among them is within its target's first
 * maxKeys). A common prefix reported by several targets, or an object found on two targets while a
 * rebalance moves it, is listed once (the newer copy).
 */
export async function listCluster(node: Node, bucket: string, q: ListQuery): Promise<ListResult> {
  const pages = await Promise.all(targetsOf(node).map((t) => listOn(node, t, bucket, q)));
  if (pages.length === 1) return pages[0]!;
  type Item = { name: string; entry?: ListedObject };
  const items: Item[] = [];
  for (const p of pages) {
    for (const e of p.entries) items.push({ name: e.key, entry: e });
    for (const cp of p.commonPrefixes) items.push({ name: cp });
  }
  items.sort((a, b) => compareNames(a.name, b.name));
  const out: ListResult = { entries: [], commonPrefixes: [], truncated: false, last: '' };
  let count = 0;
  let i = 0;
  for (; i < items.length; i++) {
    const it = items[i]!;
    if (it.name === out.last && count > 0) {
      const prev = out.entries[out.entries.length - 1];
      if (it.entry && prev?.key === it.name && it.entry.mtimeMs > prev.mtimeMs) out.entries[out.entries.length - 1] = it.entry;
      continue;
    }
    if (count === q.maxKeys) break;
    if (it.entry) out.entries.push(it.entry);
    else out.commonPrefixes.push(it.name);
    out.last = it.name;
    count++;
  }
  out.truncated = i < items.length || pages.some((p) => p.truncated);
  return out;
}

/** True when no target holds an object of the bucket. */
export async function bucketEmptyCluster(node: Node, bucket: string): Promise<boolean> {
  const pages = await Promise.all(targetsOf(node).map((t) => listOn(node, t, bucket, { prefix: '', delimiter: '', after: '', maxKeys: 1 })));
  return pages.every((p) => p.entries.length === 0);
}

/** Every multipart upload in progress in the bucket, on all targets, by key then upload id. */
export async function uploadsCluster(node: Node, bucket: string): Promise<UploadEntry[]> {
  const lists = await Promise.all(
    targetsOf(node).map((t) =>
      t.id === node.self.id ? mpuStore(node.target).uploads(bucket) : intraMsg<UploadEntry[]>(nodeUrl(t), `/v1/intra/uploads/${encodeURIComponent(bucket)}`, { secret: node.secret }),
    ),
  );
  return lists.flat().sort((a, b) => compareNames(a.key, b.key) || (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : 0));
}
