// The Range header of GET/HEAD object, as Amazon S3 reads it (RFC 9110 §14 for a single byte range).
//
// Where RFC 9110 leaves a choice, we do what S3 was observed to do:
// - several ranges ("bytes=0-1,5-6"): S3 ignores the header and sends the whole object with 200
//   (awslabs/aws-c-s3#257, basho/riak_cs#304). AIStore answers 416 instead; we follow S3.
// - a syntactically invalid range ("bytes=5-1", "bytes=x-", other units): ignored, 200 with the whole
//   object (RFC 9110 §14.2; S3 per noobaa/noobaa-core#9889, getmoto/moto#3531).
// - first byte at or past the end, including any "bytes=0-..." of an empty object: 416 InvalidRange
//   with "Content-Range: bytes */size" (minio/minio-java#636 and minio/minio#17713, both checked
//   against AWS).
// - a suffix range on an empty object ("bytes=-5", size 0): 200 with the empty body, as S3 does
//   (apache/arrow-rs-object-store#846); there is no byte range that could describe the answer.
// - "bytes=-0": unsatisfiable by RFC 9110 §14.1.1 (a suffix-range must have non-zero length).

export interface ByteRange {
  readonly start: number;
  /** Inclusive, always < size. */
  readonly end: number;
}

const FIRST_LAST = /^(\d+)-(\d*)$/;
const SUFFIX = /^-(\d+)$/;

/**
 * Returns the byte range to send, null to ignore the header and send the whole object (200), or
 * 'unsatisfiable' for a 416 (see contentRangeUnsatisfied).
 */
export function parseRange(header: string, size: number): ByteRange | null | 'unsatisfiable' {
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  // Empty list elements are allowed by the list syntax (RFC 9110 §5.6.1), so "bytes=0-1," is one range.
  const specs = header.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return null;
  const spec = specs[0] as string;

  let m = FIRST_LAST.exec(spec);
  if (m !== null) {
    const first = Number(m[1]);
    const last = m[2] === '' ? Infinity : Number(m[2]);
    if (last < first) return null;
    if (first >= size) return 'unsatisfiable';
    return { start: first, end: Math.min(last, size - 1) };
  }
  m = SUFFIX.exec(spec);
  if (m !== null) {
    const n = Number(m[1]);
    if (n === 0) return 'unsatisfiable';
    if (size === 0) return null;
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  return null;
}

/** Content-Range of a 206 answer, e.g. "bytes 0-99/1000". */
export function contentRange(start: number, end: number, size: number): string {
  return 'bytes ' + start + '-' + end + '/' + size;
}

/** Content-Range of a 416 answer, e.g. "bytes *\/1000". */
export function contentRangeUnsatisfied(size: number): string {
  return 'bytes */' + size;
}
