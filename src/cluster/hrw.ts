// Highest-random-weight placement exactly as AIStore computes it (core/meta/hrw.go, fs/hrw.go), so that
// AIStore clients that pick targets themselves agree with us:
//   digest(node)  = XXH64(node id, seed MLCG32)          digest(mountpath) = XXH64(mountpath, seed MLCG32)
//   weight        = xoshiro256.Hash(digest XOR XXH64(uname, seed MLCG32))
//   owner         = argmax weight (ties: the later candidate wins, as with Go's `>=`)
import { xxh64String } from '../native';

export const MLCG32 = 1103515245n;
const M64 = 0xffff_ffff_ffff_ffffn;

/** xoshiro256's seed finalizer (cmn/xoshiro256), in wrapping 64-bit arithmetic. */
export function xoshiroHash(seed: bigint): bigint {
  let z = (seed + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  z = ((z ^ (z >> 31n)) + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  z = ((z ^ (z >> 31n)) * 5n) & M64;
  z = ((z << 7n) | (z >> 57n)) & M64;
  return (z * 9n) & M64;
}

export function digestOf(s: string): bigint {
  return xxh64String(s, MLCG32);
}

/** AIStore's object uname: provider/namespace/bucket/object; global namespace is "@#". */
export function objectUname(provider: string, bucket: string, objName: string): string {
  return `${provider}/@#/${bucket}/${objName}`;
}

export interface HrwCandidate {
  readonly digest: bigint;
}

/** The candidate with the highest weight for `uname`; undefined when there are none. */
export function hrwSelect<T extends HrwCandidate>(candidates: readonly T[], uname: string): T | undefined {
  if (candidates.length === 1) return candidates[0];
  const h = digestOf(uname);
  let best: T | undefined;
  let bestWeight = -1n;
  for (const c of candidates) {
    const w = xoshiroHash(c.digest ^ h);
    if (w >= bestWeight) {
      bestWeight = w;
      best = c;
    }
  }
  return best;
}
