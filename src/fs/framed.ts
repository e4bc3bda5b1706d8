// The framing shared by the metadata tais keeps on disk (the LOM xattr, the multipart manifest):
// byte 0 = format version, bytes 1..8 = XXH64 of the payload (AIStore's seed) big-endian, then the
// payload. Metadata read back is never trusted without its checksum; the version byte lets a later
// format be told apart from damage. Changing anything here changes what existing objects read as.
import { xxh64 } from '../native';

const SEED = 1103515245n;
const HEAD = 9;

/** Why a buffer was not accepted; callers that report it (the LOM) tell the two apart. */
export type FrameFault = 'version' | 'checksum';

export function frame(version: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEAD + payload.length);
  out[0] = version;
  out.writeBigUInt64BE(xxh64(payload, SEED), 1);
  payload.copy(out, HEAD);
  return out;
}

/**
 * The payload of `buf` (a view, not a copy), or why it is refused: 'version' for another version or a
 * buffer too short to hold a header and a non-empty payload, 'checksum' when the payload is damaged.
 * A string rather than an exception or a result object: decoding a LOM is on every GET's path.
 */
export function unframe(buf: Buffer, version: number): Buffer | FrameFault {
  if (buf.length <= HEAD || buf[0] !== version) return 'version';
  const payload = buf.subarray(HEAD);
  return buf.readBigUInt64BE(1) === xxh64(payload, SEED) ? payload : 'checksum';
}
