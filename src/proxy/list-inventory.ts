// Listing a remote (s3://) bucket from its S3 bucket inventory instead of ListObjectsV2 calls:
// `ais ls s3://B --inventory [--inv-name NAME] [--inv-id ID]`, or the headers AIStore uses
// (`Ais-Bucket-Inventory: true`, `Ais-Inv-Name`, `Ais-Inv-Id`) on S3 ListObjects and native list.
//
// Where the inventory is (AIStore's convention): NAME is the inventory's destination prefix inside the
// bucket itself, default `.inventory`, so S3 writes `s3://B/.inventory/B/<config-id>/<stamp>/manifest.json`.
// A NAME of the form `s3://DEST[/PREFIX]` names another destination bucket (reached with B's endpoint and
// credentials), as S3 inventory configurations usually do.
//
// The gateway loads an inventory once (src/backend/inventory.ts: streamed, MD5-checked, sorted) and
// keeps it; every page after that is a binary search plus the cluster's listing of the same name range
// for the cached flags. It looks for a newer manifest at most once a minute.
import type { BucketProps } from '../cluster/config';
import type { Node } from '../cluster/node';
import { InventoryIndex, findManifest, readManifest, InventoryError, type InventoryLocation } from '../backend/inventory';
import { inventoryStore, BackendError } from '../backend/s3';
import { s3err, type S3Error } from '../s3/errors';
import type { ListQuery, ListResult } from '../target/list';
import { markCached, type RemoteListed } from './list-remote';

export const HDR_INVENTORY = 'ais-bucket-inventory';
export const HDR_INV_NAME = 'ais-inv-name';
export const HDR_INV_ID = 'ais-inv-id';
/** Response header: when S3 made the inventory the page came from (RFC 3339). */
export const HDR_INV_TIME = 'Ais-Inv-Time';

export const DEFAULT_INV_NAME = '.inventory';
const RECHECK_MS = 60_000;

export interface InventoryAsk {
  name: string;
  id?: string;
}

/** The inventory a request asks for, from its headers; undefined when it asks for a regular listing. */
export function inventoryAsk(get: (name: string) => string): InventoryAsk | undefined {
  if (get(HDR_INVENTORY).toLowerCase() !== 'true') return undefined;
  const id = get(HDR_INV_ID);
  return { name: get(HDR_INV_NAME) || DEFAULT_INV_NAME, ...(id ? { id } : {}) };
}

interface Loaded {
  index?: InventoryIndex;
  loading?: Promise<InventoryIndex>;
  checkedAt: number;
}

const cache = new Map<string, Loaded>();

export async function listInventory(
  bucket: string,
  props: BucketProps,
  ask: InventoryAsk,
  node: Node,
  q: ListQuery,
): Promise<ListResult & { entries: RemoteListed[]; createdMs: number }> {
  let index: InventoryIndex;
  try {
    index = await inventoryFor(bucket, props, ask);
  } catch (err) {
    throw asS3Error(err);
  }
  const page = index.page(q);
  const entries = await markCached(node, bucket, q, page.entries, page.last);
  return { ...page, entries, createdMs: index.manifest.createdMs };
}

async function inventoryFor(bucket: string, props: BucketProps, ask: InventoryAsk): Promise<InventoryIndex> {
  const { dest, loc } = locate(bucket, ask);
  const key = JSON.stringify([props.extra?.aws ?? null, dest, loc]);
  let c = cache.get(key);
  if (c === undefined) {
    c = { checkedAt: 0 };
    cache.set(key, c);
  }
  if (c.loading) return c.loading;
  if (c.index && Date.now() - c.checkedAt < RECHECK_MS) return c.index;
  const entry = c;
  entry.loading = (async () => {
    const store = inventoryStore(dest, props);
    const manifestKey = await findManifest(store, loc);
    entry.checkedAt = Date.now();
    if (entry.index?.manifest.key === manifestKey) return entry.index;
    entry.index = await InventoryIndex.load(store, await readManifest(store, manifestKey));
    return entry.index;
  })();
  try {
    return await entry.loading;
  } finally {
    entry.loading = undefined;
  }
}

function locate(bucket: string, ask: InventoryAsk): { dest: string; loc: InventoryLocation } {
  let dest = bucket;
  let prefix = ask.name;
  if (ask.name.startsWith('s3://') || ask.name.startsWith('aws://')) {
    const rest = ask.name.slice(ask.name.indexOf('://') + 3);
    const slash = rest.indexOf('/');
    dest = slash < 0 ? rest : rest.slice(0, slash);
    prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (dest === '') throw new InventoryError(`inventory name "${ask.name}": no bucket`);
  }
  return { dest, loc: { prefix: prefix.replace(/\/+$/, ''), sourceBucket: bucket, ...(ask.id ? { configId: ask.id } : {}) } };
}

/** What a client is told (S3 and native alike: both answer an S3Error with its status and message). */
function asS3Error(err: unknown): S3Error | unknown {
  if (err instanceof InventoryError) return s3err('InvalidRequest', `inventory listing: ${err.message}`);
  if (err instanceof BackendError) {
    if (err.status === 404) return s3err('NoSuchBucket', `inventory listing: ${err.message}`);
    if (err.status === 403) return s3err('AccessDenied', `inventory listing: ${err.message}`);
    return s3err('ServiceUnavailable', `inventory listing: ${err.message}`);
  }
  return err;
}
