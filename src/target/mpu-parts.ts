// The part layout of a completed multipart object: kept in its LOM so that GET/HEAD ?partNumber=N and
// the write-through to a remote bucket (same boundaries, so the same multipart ETag) find part N's
// bytes without the upload, which is gone once it completes.
import { encodeLom, type Lom } from '../fs/lom';

/** The LOM of a completed multipart object carries its part layout, for GET ?partNumber. */
export type MpuLom = Lom & {
  /** Part sizes run-length encoded: [size, count, size, count, ...]; absent when too irregular to keep. */
  parts?: number[];
};
/** The LOM xattr shares ext4's 4 KiB with user metadata and a long name: a layout that does not fit is left out. */
const MAX_LOM_BYTES = 3072;

/** Records the part sizes in `lom`, unless the LOM would then be too large for its xattr. */
export function setPartLayout(lom: MpuLom, sizes: readonly number[]): void {
  lom.parts = partLayout(sizes);
  if (encodeLom(lom).length > MAX_LOM_BYTES) delete lom.parts;
}

/** Byte range of part n (1-based) of a multipart object, from its LOM; undefined when unknown. */
export function partRange(lom: MpuLom, n: number): { start: number; length: number; count: number } | undefined {
  const count = partsCount(lom);
  if (count === undefined || !lom.parts || n < 1 || n > count) return undefined;
  let start = 0;
  let seen = 0;
  for (let i = 0; i + 1 < lom.parts.length; i += 2) {
    const size = lom.parts[i]!;
    const runs = lom.parts[i + 1]!;
    if (n <= seen + runs) return { start: start + (n - 1 - seen) * size, length: size, count };
    start += size * runs;
    seen += runs;
  }
  return undefined;
}

/** N of a multipart ETag "<hex>-N"; undefined for other objects. */
export function partsCount(lom: Lom): number | undefined {
  const m = lom.etag ? /-(\d+)$/.exec(lom.etag) : null;
  return m ? Number(m[1]) : undefined;
}

function partLayout(sizes: readonly number[]): number[] {
  const out: number[] = [];
  for (const s of sizes) {
    if (out.length && out[out.length - 2] === s) out[out.length - 1]!++;
    else out.push(s, 1);
  }
  return out;
}
