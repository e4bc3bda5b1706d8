// How a PUT-like request body (PutObject, UploadPart) reaches a PutStream: its size from the headers,
// then raw or aws-chunked framing, with the SigV4 chunk-signature chain and trailer when authentication
// is on, and the flexible checksum from the trailer. (A plain body's sha256 is hashed in the pool.)
import type { HttpResponse } from '../util/uws';
import { header, type Req } from '../api/http';
import { s3err, S3Error } from '../s3/errors';
import { AwsChunkedDecoder, type AwsChunkedError, isAwsChunked, checkDecodedLength, parseDecodedContentLength } from '../s3/aws-chunked';
import { chunkVerifier } from '../s3/sigv4-stream';
import { trailerValue, type FlexRequest } from '../s3/checksums';
import type { PutStream } from './put';

const EMPTY = new Uint8Array(0);
const META_PREFIX = 'x-amz-meta-';
/** S3 limits user metadata to 2 KiB; our xattr holds 4 KiB with everything else. */
const MAX_META_BYTES = 2048;

export interface BodyShape {
  /** aws-chunked framing (x-amz-content-sha256 STREAMING-* or Content-Encoding aws-chunked). */
  chunked: boolean;
  /** Decoded body size in bytes, -1 when unknown (HTTP chunked transfer without a decoded length). */
  size: number;
}

export function bodyShape(req: Req): BodyShape {
  const lenHeader = header(req, 'content-length');
  if (lenHeader === '' && !header(req, 'transfer-encoding').includes('chunked')) throw s3err('MissingContentLength');
  const chunked = isAwsChunked(header(req, 'x-amz-content-sha256'), header(req, 'content-encoding'));
  let size = lenHeader === '' ? -1 : Number(lenHeader);
  if (!Number.isSafeInteger(size) || size < -1) throw s3err('InvalidArgument', 'Content-Length is not a valid size');
  if (chunked) {
    const decoded = header(req, 'x-amz-decoded-content-length');
    size = decoded === '' ? -1 : parseDecodedContentLength(decoded);
  }
  return { chunked, size };
}

/** Registers res.onData so that the decoded body flows into `stream`, failing it on bad framing or signatures. */
export function feedBody(res: HttpResponse, req: Req, stream: PutStream, chunked: boolean, flex: FlexRequest | undefined): void {
  if (!chunked) {
    // A hex x-amz-content-sha256 is checked in the pool (PutParams.expectSha256), not here.
    res.onData((chunk, isLast) => stream.onData(new Uint8Array(chunk), isLast));
    return;
  }
  // aws-chunked (what current SDKs send for streams): decode the framing on the way in.
  const sigs = chunkVerifier(req); // auth on and STREAMING-AWS4-HMAC-SHA256-PAYLOAD*: the chunk-signature chain
  const decoder = new AwsChunkedDecoder(
    sigs
      ? { onData: (data) => (sigs.onData(data), stream.onData(data, false)), onChunkSignature: (sig, n) => sigs.onChunkSignature(sig, n) }
      : { onData: (data) => stream.onData(data, false) },
  );
  res.onData((chunk, isLast) => {
    try {
      decoder.push(new Uint8Array(chunk));
      if (!isLast) return;
      decoder.end();
      sigs?.end(decoder.trailers);
      checkDecodedLength(decoder, header(req, 'x-amz-decoded-content-length') || undefined);
      if (flex?.trailer) stream.expectChecksum(trailerValue(flex, decoder.trailers));
      stream.onData(EMPTY, true);
    } catch (err) {
      const e = err as AwsChunkedError;
      stream.abort(e.s3Code ?? (err instanceof S3Error ? err.code : 'InvalidRequest'), e.message);
    }
  });
}

/** x-amz-meta-* headers, keys without the prefix. */
export function userMeta(req: Req): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [k, v] of Object.entries(req.headers)) {
    if (!k.startsWith(META_PREFIX)) continue;
    const name = k.slice(META_PREFIX.length);
    meta[name] = v;
    bytes += Buffer.byteLength(name) + Buffer.byteLength(v);
  }
  if (bytes > MAX_META_BYTES) throw s3err('MetadataTooLarge', `Your metadata headers are ${bytes} bytes, the limit is ${MAX_META_BYTES}.`, { Size: String(bytes), MaxSizeAllowed: String(MAX_META_BYTES) });
  return meta;
}
