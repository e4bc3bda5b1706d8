// The manifest of a multipart upload (`%mp/<uploadId>/manifest`): what CreateMultipartUpload was told,
// msgpack framed like the LOM (version byte, XXH64 of the payload, payload), so a damaged manifest is
// recognized and its upload ignored rather than completed with wrong metadata.
import fs from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { xxh64 } from '../native';
import { log } from '../util/log';
import type { Upload } from './mpu';

export const MANIFEST = 'manifest';
const MANIFEST_VERSION = 1;
const SEED = 1103515245n;

export type Manifest = Omit<Upload, 'id' | 'dir' | 'mp'>;

export function encodeManifest(m: Manifest): Buffer {
  const payload = pack(m);
  const out = Buffer.allocUnsafe(9 + payload.length);
  out[0] = MANIFEST_VERSION;
  out.writeBigUInt64BE(xxh64(payload, SEED), 1);
  payload.copy(out, 9);
  return out;
}

export function decodeManifest(buf: Buffer): Manifest | undefined {
  if (buf.length < 10 || buf[0] !== MANIFEST_VERSION) return undefined;
  const payload = buf.subarray(9);
  if (buf.readBigUInt64BE(1) !== xxh64(payload, SEED)) return undefined;
  const m = unpack(payload) as Manifest;
  return typeof m?.key === 'string' && typeof m.bucket === 'string' && typeof m.created === 'number' ? m : undefined;
}

export function readManifest(file: string): Manifest | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const m = decodeManifest(buf);
  if (!m) log.warn(`${file}: damaged multipart manifest, upload ignored`);
  return m;
}
