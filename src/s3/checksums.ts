// S3 flexible checksums (x-amz-checksum-crc32 / crc32c / crc64nvme / sha1 / sha256): which algorithm
// a request asks for and with what value (header, or aws-chunked trailer named by x-amz-trailer), the
// S3 errors for bad ones, and the composite checksum of a multipart object. The hashing itself runs in
// the PUT's pool tasks (target/put.ts, workers/put-chunk.ts) with the addon's hash kinds.
import { hashInit, hashUpdate, hashDigestBytes, type HashKind } from '../native';
import { s3err } from './errors';

export type FlexAlg = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
export type FlexType = 'FULL_OBJECT' | 'COMPOSITE';

export const FLEX_ALGS: readonly FlexAlg[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

const DIGEST_BYTES: Record<FlexAlg, number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

/** The stored form (LOM and part LOMs): algorithm, base64 value ("<b64>-N" when composite), type. */
export interface FlexChecksum {
  alg: FlexAlg;
  value: string;
  type: FlexType;
}

/** What a request body must be checked against: `expected` comes from the header at once, or from the
 *  trailer at the end of an aws-chunked body (`trailer` names it); without either the checksum is only
 *  computed and stored (x-amz-sdk-checksum-algorithm alone). */
export interface FlexRequest {
  alg: FlexAlg;
  expected?: string;
  trailer?: string;
}

export function hashKindOf(alg: FlexAlg): HashKind {
  return alg;
}

/** Header (and trailer) name of an algorithm: x-amz-checksum-crc32, ... */
export function checksumHeader(alg: FlexAlg): string {
  return `x-amz-checksum-${alg}`;
}

/** XML element of an algorithm: ChecksumCRC32, ChecksumCRC64NVME, ... */
export function checksumElement(alg: FlexAlg): string {
  return `Checksum${alg.toUpperCase()}`;
}

/** "CRC32" / "crc32" -> 'crc32'; undefined for anything else. */
export function algFromName(name: string): FlexAlg | undefined {
  const a = name.trim().toLowerCase();
  return (FLEX_ALGS as readonly string[]).includes(a) ? (a as FlexAlg) : undefined;
}

/** Checks a base64 checksum value of `alg` (exact digest length, canonical base64); InvalidRequest otherwise. */
export function checkValue(alg: FlexAlg, value: string, where = `${checksumHeader(alg)} header`): string {
  const v = value.trim();
  const raw = Buffer.from(v, 'base64');
  if (raw.length !== DIGEST_BYTES[alg] || raw.toString('base64') !== v) throw s3err('InvalidRequest', `Value for ${where} is invalid.`);
  return v;
}

/**
 * The flexible checksum a PUT / UploadPart asks for, from its headers (names lower-case):
 * x-amz-checksum-<alg> (one at most), x-amz-sdk-checksum-algorithm, x-amz-trailer. Throws InvalidRequest
 * for an unknown algorithm, malformed value, several checksum headers or an algorithm that disagrees
 * with the header or trailer given. undefined when the request carries none.
 */
export function requestChecksum(get: (name: string) => string, awsChunked: boolean): FlexRequest | undefined {
  const given = FLEX_ALGS.filter((a) => get(checksumHeader(a)) !== '');
  if (given.length > 1) throw s3err('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const sdkName = get('x-amz-sdk-checksum-algorithm');
  const sdkAlg = sdkName === '' ? undefined : algFromName(sdkName);
  if (sdkName !== '' && sdkAlg === undefined) throw s3err('InvalidRequest', 'Value for x-amz-sdk-checksum-algorithm header is invalid.');
  const trailerName = get('x-amz-trailer').trim().toLowerCase();
  let trailerAlg: FlexAlg | undefined;
  if (trailerName !== '') {
    if (!awsChunked) throw s3err('InvalidRequest', 'x-amz-trailer is only allowed with an aws-chunked body (Content-Encoding: aws-chunked).');
    trailerAlg = trailerName.startsWith('x-amz-checksum-') ? algFromName(trailerName.slice('x-amz-checksum-'.length)) : undefined;
    if (trailerAlg === undefined) throw s3err('InvalidRequest', 'The value specified in the x-amz-trailer header is not supported');
    if (given.length) throw s3err('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  }
  const alg = given[0] ?? trailerAlg ?? sdkAlg;
  if (alg === undefined) return undefined;
  if (sdkAlg !== undefined && sdkAlg !== alg) {
    throw s3err('InvalidRequest', `Value for x-amz-sdk-checksum-algorithm header is invalid: it is ${sdkAlg.toUpperCase()}, the checksum given is ${alg.toUpperCase()}.`);
  }
  if (given[0] !== undefined) return { alg, expected: checkValue(alg, get(checksumHeader(alg))) };
  if (trailerAlg !== undefined) return { alg, trailer: trailerName };
  return { alg };
}

/** The trailer's value once the aws-chunked body is complete; InvalidRequest when missing or malformed. */
export function trailerValue(req: FlexRequest, trailers: ReadonlyMap<string, string>): string {
  const v = trailers.get(req.trailer!);
  if (v === undefined || v.trim() === '') throw s3err('InvalidRequest', `The trailer ${req.trailer} named in x-amz-trailer is missing from the body.`);
  return checkValue(req.alg, v, `${req.trailer} trailer`);
}

/** S3's BadDigest message for a flexible checksum that does not match the body. */
export function badDigestMessage(alg: FlexAlg): string {
  return `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`;
}

/** x-amz-checksum-algorithm of CreateMultipartUpload (InvalidRequest when unknown). */
export function uploadAlgorithm(get: (name: string) => string): { alg: FlexAlg; type: FlexType } | undefined {
  const name = get('x-amz-checksum-algorithm');
  const typeName = get('x-amz-checksum-type').trim().toUpperCase();
  if (typeName !== '' && typeName !== 'FULL_OBJECT' && typeName !== 'COMPOSITE') throw s3err('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  if (name === '') {
    if (typeName !== '') throw s3err('InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return undefined;
  }
  const alg = algFromName(name);
  if (alg === undefined) throw s3err('InvalidRequest', 'Value for x-amz-checksum-algorithm header is invalid.');
  // As S3: CRC-64/NVME only as a full-object checksum; SHA-1/SHA-256 only composite; CRC32/CRC32C either (composite by default).
  const type: FlexType = (typeName || (alg === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE')) as FlexType;
  if (type === 'COMPOSITE' && alg === 'crc64nvme') throw s3err('InvalidRequest', 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.');
  if (type === 'FULL_OBJECT' && (alg === 'sha1' || alg === 'sha256')) {
    throw s3err('InvalidRequest', `The FULL_OBJECT checksum type cannot be used with the ${alg} checksum algorithm.`);
  }
  return { alg, type };
}

/** Composite checksum of a multipart object: the checksum of the concatenated binary part checksums, "-N". */
export function compositeChecksum(alg: FlexAlg, partValues: readonly string[]): string {
  const kind = hashKindOf(alg);
  const st = hashInit(kind);
  for (const v of partValues) hashUpdate(kind, st, Buffer.from(v, 'base64'));
  return `${hashDigestBytes(kind, st).toString('base64')}-${partValues.length}`;
}

/** Response headers of a stored checksum (GET/HEAD with x-amz-checksum-mode: ENABLED, PUT replies). */
export function checksumHeaders(c: FlexChecksum | undefined): [string, string][] {
  if (!c) return [];
  return [
    [checksumHeader(c.alg), c.value],
    ['x-amz-checksum-type', c.type],
  ];
}

/** x-amz-checksum-mode: ENABLED (case-insensitive, as S3). */
export function checksumModeEnabled(get: (name: string) => string): boolean {
  return get('x-amz-checksum-mode').trim().toUpperCase() === 'ENABLED';
}

/** Content-MD5 is the base64 of the 16-byte digest; anything else is InvalidDigest. */
export function parseContentMd5(value: string): string | undefined {
  if (value === '') return undefined;
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 16 || raw.toString('base64') !== value.trim()) throw s3err('InvalidDigest');
  return raw.toString('hex');
}
