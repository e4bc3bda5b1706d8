// Listing a remote (s3://) bucket: one page of the remote's ListObjectsV2 (StartAfter = the last name
// the client saw, so the continuation token stays "the last name" as for ais:// buckets), merged with
// what the cluster holds in the same name range: cached objects are flagged and carry their stored
// checksum. `ais ls s3://B --cached` (LsoMsg flag 1) lists the cluster alone and never asks the remote.
import type { BucketProps } from '../cluster/config';
import type { Node } from '../cluster/node';
import { compareNames } from '../fs/fqn';
import type { ListQuery, ListResult, ListedObject } from '../target/list';
import { listPage } from '../backend/s3';
import { listCluster } from './fanout';

export interface RemoteListed extends ListedObject {
  /** The object is also in the cluster. */
  cached: boolean;
}

/** S3's page maximum, and AIStore's for aws buckets. */
export const MAX_PAGE_REMOTE = 1000;

// A name that sorts after every key under a prefix that ended the previous page ("dir/" rolled up by
// the delimiter): StartAfter "dir/" would list "dir/a" again and roll it up into the same prefix.
const AFTER_ALL = '\u{10FFFF}';

export async function listRemote(node: Node, bucket: string, props: BucketProps, q: ListQuery): Promise<ListResult & { entries: RemoteListed[] }> {
  const after = q.delimiter !== '' && q.after.endsWith(q.delimiter) ? q.after + AFTER_ALL : q.after;
  const page = await listPage(bucket, props, { prefix: q.prefix, delimiter: q.delimiter, after, maxKeys: Math.min(q.maxKeys, MAX_PAGE_REMOTE) });
  let last = '';
  for (const n of [page.entries[page.entries.length - 1]?.name, page.commonPrefixes[page.commonPrefixes.length - 1]]) {
    if (n !== undefined && compareNames(n, last) > 0) last = n;
  }
  const entries = await markCached(
    node,
    bucket,
    q,
    page.entries.map((e) => ({ key: e.name, size: e.size, mtimeMs: e.mtime, etag: e.etag })),
    last,
  );
  return { entries, commonPrefixes: page.commonPrefixes, truncated: page.next !== undefined, last };
}

/**
 * Flags the remote names of one page that the cluster also holds (and gives them their stored
 * checksum): the cluster's listing over the same name range (q.after, last], as many pages as it takes.
 */
export async function markCached(node: Node, bucket: string, q: ListQuery, remote: ListedObject[], last: string): Promise<RemoteListed[]> {
  const cached = new Map<string, ListedObject>();
  let from = q.after;
  while (remote.length > 0) {
    const c = await listCluster(node, bucket, { prefix: q.prefix, delimiter: '', after: from, maxKeys: Math.max(q.maxKeys, 100) });
    for (const e of c.entries) cached.set(e.key, e);
    if (!c.truncated || compareNames(c.last, last) >= 0) break;
    from = c.last;
  }
  return remote.map((e) => {
    const c = cached.get(e.key);
    return { ...e, cached: c !== undefined, ...(c?.cksum !== undefined ? { cksum: c.cksum } : {}) };
  });
}
