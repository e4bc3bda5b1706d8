// Sorted walk of one bucket on one mountpath. Object names map to folders (fqn.ts), so a depth-first walk
// that visits each folder's entries in name order yields names in S3's lexicographic order; subtrees
// entirely before the start key, outside the prefix, or rolled up into one common prefix ('/' delimiter)
// are never opened, so a page costs what it returns plus one folder read per level.
import fs from 'node:fs';
import path from 'node:path';
import { CT_OBJ, CT_LONG, unescapeSegment, compareNames } from './fqn';
import { loadLomPath } from './lom';

export interface WalkOpts {
  prefix: string;
  /** Exclusive start: only names greater than this. */
  after: string;
  /** '/' lets the walk report whole folders as common prefixes without opening them. */
  delimiter: string;
}

export interface WalkItem {
  name: string;
  /** Absolute path of the object file; undefined for a common prefix. */
  file?: string;
}

interface DirEntry {
  key: string;
  disk: string;
  isDir: boolean;
}

export function walkBucket(bucketDir: string, opts: WalkOpts): AsyncGenerator<WalkItem>[] {
  return [walkObjects(path.join(bucketDir, CT_OBJ), '', opts), walkLongNames(path.join(bucketDir, CT_LONG), opts)];
}

async function* walkObjects(dir: string, keyPrefix: string, opts: WalkOpts): AsyncGenerator<WalkItem> {
  let dirents: fs.Dirent[];
  try {
    dirents = await fs.promises.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // pruned by a concurrent delete
    throw err;
  }
  const entries: DirEntry[] = [];
  for (const d of dirents) {
    const isDir = d.isDirectory();
    if (!isDir && !d.isFile()) continue;
    entries.push({ key: keyPrefix + unescapeSegment(d.name) + (isDir ? '/' : ''), disk: d.name, isDir });
  }
  entries.sort((a, b) => compareNames(a.key, b.key));
  const { prefix, after, delimiter } = opts;
  for (const e of entries) {
    const k = e.key;
    if (!e.isDir) {
      if (k.startsWith(prefix) && compareNames(k, after) > 0) yield { name: k, file: path.join(dir, e.disk) };
      continue;
    }
    if (!k.startsWith(prefix) && !prefix.startsWith(k)) continue;
    if (delimiter === '/' && k.startsWith(prefix) && k.indexOf('/', prefix.length) === k.length - 1) {
      if (compareNames(k, after) > 0) yield { name: k };
      continue;
    }
    if (!after.startsWith(k) && compareNames(k, after) < 0) continue;
    yield* walkObjects(path.join(dir, e.disk), k, opts);
  }
}

/** Objects stored under hashed names: their real names are in their metadata. */
async function* walkLongNames(dir: string, opts: WalkOpts): AsyncGenerator<WalkItem> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const items: WalkItem[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const name = loadLomPath(file)?.name;
    if (name !== undefined && name.startsWith(opts.prefix) && compareNames(name, opts.after) > 0) items.push({ name, file });
  }
  items.sort((a, b) => compareNames(a.name, b.name));
  yield* items;
}

/** Merges sorted walks into one sorted stream; equal names (a common prefix seen on several mountpaths) once. */
export async function* mergeWalks(walks: AsyncGenerator<WalkItem>[]): AsyncGenerator<WalkItem> {
  const heads: (WalkItem | undefined)[] = await Promise.all(walks.map(async (w) => (await w.next()).value ?? undefined));
  let last: string | undefined;
  for (;;) {
    let min = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (min < 0 || compareNames(h.name, heads[min]!.name) < 0)) min = i;
    }
    if (min < 0) return;
    const item = heads[min]!;
    heads[min] = (await walks[min].next()).value ?? undefined;
    if (item.name === last) continue;
    last = item.name;
    yield item;
  }
}
