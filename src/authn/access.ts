// Access bits (AIStore's apc.AccessAttrs: one bit per permission, in AIStore's order, so an AuthN
// token's "perm" means the same here) and the check of a token against what a request needs.
import type { Token } from './token';

let bit = 0n;
const next = (): bigint => 1n << bit++;
export const Ace = {
  // objects
  GET: next(),
  OBJ_HEAD: next(),
  PUT: next(),
  APPEND: next(),
  OBJ_DELETE: next(),
  OBJ_MOVE: next(),
  PROMOTE: next(),
  OBJ_UPDATE: next(),
  // bucket metadata
  BCK_HEAD: next(),
  OBJ_LIST: next(),
  PATCH: next(),
  BCK_SET_ACL: next(),
  // cluster
  LIST_BUCKETS: next(),
  SHOW_CLUSTER: next(),
  CREATE_BUCKET: next(),
  DESTROY_BUCKET: next(),
  MOVE_BUCKET: next(),
  ADMIN: next(),
} as const;

/** Bits only a cluster ACL grants; the rest may come from a bucket ACL. */
const CLUSTER_BITS = Ace.LIST_BUCKETS | Ace.CREATE_BUCKET | Ace.DESTROY_BUCKET | Ace.MOVE_BUCKET | Ace.ADMIN;

/** AuthN's "ro" and "rw" (what `ais auth token --bucket NAME:ro` grants). */
export const ACCESS_RO = Ace.GET | Ace.OBJ_HEAD | Ace.LIST_BUCKETS | Ace.BCK_HEAD | Ace.OBJ_LIST;
export const ACCESS_RW = ACCESS_RO | Ace.PUT | Ace.APPEND | Ace.OBJ_DELETE | Ace.OBJ_MOVE;
export const ACCESS_ALL = (1n << 64n) - 1n;

/** Names for error messages. */
export function describeAccess(perm: bigint): string {
  const names = Object.entries(Ace)
    .filter(([, b]) => (perm & b) === b)
    .map(([n]) => n);
  return names.length ? names.join(',') : 'none';
}

/**
 * Whether the token grants `need` (on `bucket` when the request names one). As AuthN: an admin may do
 * anything; a bucket's ACL in the token decides for that bucket; otherwise the token's ACL for this
 * cluster (its UUID), else its default cluster ACL (id ""). No ACL at all: nothing is granted.
 */
export function allowed(tok: Token, need: bigint, clusterId: string, bucket?: { name: string; provider: string }): boolean {
  if (tok.admin) return true;
  const clu = tok.clusters.find((a) => a.id === clusterId) ?? tok.clusters.find((a) => a.id === '');
  const cluPerm = clu?.perm ?? 0n;
  const cluNeed = need & CLUSTER_BITS;
  if (cluNeed !== 0n && (cluPerm & cluNeed) !== cluNeed) return false;
  const objNeed = need & ~CLUSTER_BITS;
  if (objNeed === 0n) return true;
  const bck = bucket ? tok.buckets.find((a) => a.name === bucket.name && a.provider === bucket.provider) : undefined;
  if (bck) return (bck.perm & objNeed) === objNeed;
  return (cluPerm & objNeed) === objNeed;
}
