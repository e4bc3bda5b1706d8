// The parts of SigV4 that need the body: the aws-chunked chunk-signature chain
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: each chunk signed over the previous signature, the
// seed being the request's) with its trailer signature (only when authentication is on), and the
// sha256 of a plain body whose x-amz-content-sha256 is a hash (whether authentication is on or off;
// PUT and UploadPart hash it in the pool with their other hashes, see target/put.ts).
import { createHash, type Hash } from 'node:crypto';
import type { Req } from '../api/http';
import type { HttpResponse } from '../util/uws';
import { sendS3Error } from './reply';
import { authOf, type AuthInfo } from './auth';
import { s3err } from './errors';
import { STREAMING_PAYLOAD_HMAC, STREAMING_PAYLOAD_HMAC_TRAILER } from './aws-chunked';
import { chunkStringToSign, signHex, signaturesEqual, trailerStringToSign } from './sigv4';

const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

/** Verifies the chunk signatures of an aws-chunked body as the decoder reports them. */
export class ChunkSignatureVerifier {
  private previous: string;
  private hash: Hash | undefined;
  private remaining = 0;
  private finalSeen = false;

  constructor(
    private readonly auth: Pick<AuthInfo, 'signingKey' | 'amzDate' | 'scope' | 'signature'>,
    private readonly trailer: boolean,
  ) {
    this.previous = auth.signature;
  }

  /** The decoder's onChunkSignature: the chunk's declared signature, before its data. */
  onChunkSignature(signature: string | undefined, size: number): void {
    if (signature === undefined) throw mismatch('an aws-chunked chunk carries no chunk-signature');
    this.expected = signature;
    this.remaining = size;
    this.hash = createHash('sha256');
    if (size === 0) {
      this.finish();
      this.finalSeen = true;
    }
  }

  private expected = '';

  /** Decoded data of the current chunk (the decoder's onData). */
  onData(data: Uint8Array): void {
    this.hash!.update(data);
    this.remaining -= data.length;
    if (this.remaining === 0) this.finish();
  }

  private finish(): void {
    const chunkHash = this.hash!.digest('hex');
    this.hash = undefined;
    const sts = chunkStringToSign(this.auth.amzDate, this.auth.scope, this.previous, chunkHash);
    const mine = signHex(this.auth.signingKey, sts);
    if (!signaturesEqual(mine, this.expected)) throw mismatch('The chunk signature does not match', sts);
    this.previous = mine;
  }

  /** Once the body is complete: the trailer signature over the trailing headers, when one is due. */
  end(trailers: ReadonlyMap<string, string>): void {
    if (!this.finalSeen) throw mismatch('the aws-chunked body has no signed final chunk');
    if (!this.trailer) return;
    const provided = trailers.get(TRAILER_SIGNATURE);
    if (provided === undefined) throw mismatch('the trailer section carries no x-amz-trailer-signature');
    let canonical = '';
    for (const [name, value] of trailers) if (name !== TRAILER_SIGNATURE) canonical += name + ':' + value + '\n';
    const sts = trailerStringToSign(this.auth.amzDate, this.auth.scope, this.previous, canonical);
    if (!signaturesEqual(signHex(this.auth.signingKey, sts), provided)) throw mismatch('The trailer signature does not match', sts);
  }
}

function mismatch(message: string, stringToSign?: string) {
  return s3err('SignatureDoesNotMatch', message, stringToSign === undefined ? undefined : { StringToSign: stringToSign });
}

/**
 * The chunk verifier a request's aws-chunked body needs: defined when authentication is on and the
 * payload is signed chunk by chunk; undefined otherwise (unsigned streaming, or auth off).
 */
export function chunkVerifier(req: Req): ChunkSignatureVerifier | undefined {
  const a = authOf(req);
  if (a === undefined) return undefined;
  if (a.contentSha256 === STREAMING_PAYLOAD_HMAC) return new ChunkSignatureVerifier(a, false);
  if (a.contentSha256 === STREAMING_PAYLOAD_HMAC_TRAILER) return new ChunkSignatureVerifier(a, true);
  return undefined;
}

/** sha256 of a plain body checked against the signed x-amz-content-sha256. */
export class PayloadHashCheck {
  private readonly hash = createHash('sha256');
  private got: string | undefined;
  constructor(private readonly expected: string) {}

  update(data: Uint8Array): void {
    // A handler that attaches res.onData again after the body ended (a copy draining its empty body
    // once more) sees the end twice: the body was verified, nothing more to hash.
    if (this.got === undefined) this.hash.update(data);
  }

  /** Throws XAmzContentSHA256Mismatch when the body is not what was signed. */
  verify(): void {
    const got = (this.got ??= this.hash.digest('hex'));
    if (got !== this.expected) {
      throw s3err('XAmzContentSHA256Mismatch', undefined, { ClientComputedContentSHA256: this.expected, S3ComputedContentSHA256: got });
    }
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The sha256 (hex) the body must have: the signed x-amz-content-sha256 when the request was verified,
 * else the header as sent (authentication off, or a request a node trusts) — S3 checks it whenever it
 * is a hash. undefined for UNSIGNED-PAYLOAD, STREAMING-* and presigned requests: no cost for them.
 */
export function expectedPayloadHash(req: Req): string | undefined {
  const a = authOf(req);
  const v = a !== undefined ? a.contentSha256 : (req.headers['x-amz-content-sha256'] ?? '').toLowerCase();
  return HEX64.test(v) ? v : undefined;
}

/** A payload hash check (on this thread: small bodies) when x-amz-content-sha256 is a hash; undefined otherwise. */
export function payloadHashCheck(req: Req): PayloadHashCheck | undefined {
  const expected = expectedPayloadHash(req);
  return expected === undefined ? undefined : new PayloadHashCheck(expected);
}

/**
 * For handlers that read a small body themselves (DeleteObjects, CompleteMultipartUpload, ...): wraps
 * res.onData so that the body's sha256 is checked before the handler sees its last piece; on a
 * mismatch the handler never sees the end of the body (it acts on complete bodies only) and the
 * error is sent instead. PUT and UploadPart check in their own streaming path (tgts3.ts, mpu-s3.ts).
 */
export function guardBodyHash(res: HttpResponse, req: Req, check: PayloadHashCheck): void {
  const onData = res.onData.bind(res);
  const wrapped = (handler: (chunk: ArrayBuffer, isLast: boolean) => void): HttpResponse =>
    onData((chunk, isLast) => {
      check.update(new Uint8Array(chunk));
      if (isLast) {
        try {
          check.verify();
        } catch (err) {
          try {
            sendS3Error(res, req, err);
          } catch {
            /* the handler answered already (an error of its own): nothing more to say */
          }
          return;
        }
      }
      handler(chunk, isLast);
    });
  (res as { onData: typeof wrapped }).onData = wrapped;
}
