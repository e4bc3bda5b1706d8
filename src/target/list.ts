// One page of a bucket listing on this target: merge the sorted walks of all mountpaths, roll names up
// into common prefixes, and read each listed object's size, time and ETag from its metadata.
import { walkBucket, mergeWalks } from '../fs/walk';
import { compareNames } from '../fs/fqn';
import { loadLomPath, etagOf } from '../fs/lom';
import type { Target } from './target';

export interface ListQuery {
  prefix: string;
  delimiter: string;
  /** Exclusive start (marker, start-after, or the last name of the previous page). */
  after: string;
  maxKeys: number;
}

export interface ListedObject {
  key: string;
  size: number;
  mtimeMs: number;
  etag: string;
  /** Stored checksum value ('' for none); its type is the bucket's at the time of the PUT. */
  cksum?: string;
}

export interface ListResult {
  entries: ListedObject[];
  commonPrefixes: string[];
  truncated: boolean;
  /** Last name returned (an object or a common prefix): where the next page starts. */
  last: string;
}

export async function listPage(target: Target, bucket: string, q: ListQuery): Promise<ListResult> {
  const out: ListResult = { entries: [], commonPrefixes: [], truncated: false, last: '' };
  if (q.maxKeys <= 0) return out;
  const walks = target.mountpaths.flatMap((mp) => walkBucket(mp.bucketDir(bucket), q));
  let count = 0;
  let lastPrefix: string | undefined;
  for await (const item of mergeWalks(walks)) {
    let cp: string | undefined;
    if (!item.file) cp = item.name;
    else if (q.delimiter) {
      const i = item.name.indexOf(q.delimiter, q.prefix.length);
      if (i >= 0) cp = item.name.slice(0, i + q.delimiter.length);
    }
    if (cp !== undefined && (cp === lastPrefix || compareNames(cp, q.after) <= 0)) continue;
    if (count === q.maxKeys) {
      out.truncated = true;
      break;
    }
    if (cp !== undefined) {
      lastPrefix = cp;
      out.commonPrefixes.push(cp);
      out.last = cp;
      count++;
      continue;
    }
    const lom = safeLom(item.file!);
    if (!lom) continue; // vanished, or not an object of ours
    out.entries.push({ key: item.name, size: lom.size, mtimeMs: lom.mtime, etag: etagOf(lom) ?? '', cksum: lom.cksumValue });
    out.last = item.name;
    count++;
  }
  for (const w of walks) void w.return(undefined);
  target.stats.lstCount++;
  return out;
}

function safeLom(file: string): ReturnType<typeof loadLomPath> {
  try {
    return loadLomPath(file);
  } catch {
    return undefined;
  }
}

/** True when the bucket holds no object on any mountpath. */
export async function bucketIsEmpty(target: Target, bucket: string): Promise<boolean> {
  const r = await listPage(target, bucket, { prefix: '', delimiter: '', after: '', maxKeys: 1 });
  return r.entries.length === 0;
}
