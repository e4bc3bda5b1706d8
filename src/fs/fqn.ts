// Object name <-> path inside a mountpath. Layout (AIStore's, see docs/architecture.md):
//   <mountpath>/@ais/<bucket>/%ob/<object name>   objects, '/' in names become directories
//   <mountpath>/@ais/<bucket>/%ln/<sha256(name)>  objects whose name cannot be a path (segment > 255 bytes)
//   <mountpath>/@ais/<bucket>/%wk/<unique>        work files, renamed into %ob or %ln when complete
//   <mountpath>/@ais/<bucket>/%mp/<uploadId>/     multipart uploads in progress (manifest, part.<n>)
// Names are hostile input. Each '/'-separated segment is escaped so that every S3 key maps to a path that
// stays inside %ob: '%' -> %25, '' -> %, '.' -> %2E, '..' -> %2E%2E. Escapes always start with '%', so
// the mapping is reversible and a segment can never be '.', '..' or empty on disk.
import { createHash } from 'node:crypto';

export const CT_OBJ = '%ob';
export const CT_WORK = '%wk';
export const CT_LONG = '%ln';
/** Multipart uploads in progress: %mp/<uploadId>/{manifest,part.<n>} (target/mpu.ts). */
export const CT_MPU = '%mp';
const MAX_SEGMENT_BYTES = 255;
// Keeps the object path well below PATH_MAX (4096) for any mountpath of reasonable length.
const MAX_REL_PATH_BYTES = 3072;

export function escapeSegment(seg: string): string {
  if (seg === '') return '%';
  if (seg === '.') return '%2E';
  if (seg === '..') return '%2E%2E';
  return seg.includes('%') ? seg.replaceAll('%', '%25') : seg;
}

export function unescapeSegment(seg: string): string {
  if (seg === '%') return '';
  if (!seg.includes('%')) return seg;
  return seg.replace(/%(25|2E)/g, (_m, hex: string) => (hex === '25' ? '%' : '.'));
}

export interface ObjectPath {
  /** Relative to the bucket folder, e.g. "%ob/dir/a.jpg" or "%ln/ab12...". */
  readonly rel: string;
  /** True when the object is stored under its hashed name (the real name is in its metadata). */
  readonly long: boolean;
}

export function objectPath(objName: string): ObjectPath {
  const segs = objName.split('/');
  let rel = CT_OBJ;
  let long = false;
  for (const s of segs) {
    const e = escapeSegment(s);
    if (Buffer.byteLength(e) > MAX_SEGMENT_BYTES) {
      long = true;
      break;
    }
    rel += '/' + e;
  }
  if (long || Buffer.byteLength(rel) > MAX_REL_PATH_BYTES) {
    return { rel: `${CT_LONG}/${createHash('sha256').update(objName).digest('hex')}`, long: true };
  }
  return { rel, long: false };
}

/** Inverse of objectPath for names under %ob: "dir%25/a" (relative to %ob) -> "dir%/a". */
export function objectNameOf(relUnderObj: string): string {
  return relUnderObj.split('/').map(unescapeSegment).join('/');
}

/**
 * Compares object names in UTF-8 byte order, as S3 lists them. JS compares UTF-16 code units, which
 * differs only where surrogates (U+D800-DFFF) meet U+E000-FFFF: shift those to restore code-point order.
 */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let ca = a.charCodeAt(i);
    let cb = b.charCodeAt(i);
    if (ca === cb) continue;
    if (ca >= 0xd800) ca = ca >= 0xe000 ? ca - 0x800 : ca + 0x2000;
    if (cb >= 0xd800) cb = cb >= 0xe000 ? cb - 0x800 : cb + 0x2000;
    return ca - cb;
  }
  return a.length - b.length;
}
