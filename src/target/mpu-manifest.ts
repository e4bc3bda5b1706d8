// The manifest of a multipart upload (`%mp/<uploadId>/manifest`): what CreateMultipartUpload was told,
// msgpack framed like the LOM (fs/framed: version byte, XXH64 of the payload, payload), so a damaged
// manifest is recognized and its upload ignored rather than completed with wrong metadata.
import fs from 'node:fs';
import { pack, unpack } from 'msgpackr';
import { frame, unframe } from '../fs/framed';
import { log } from '../util/log';
import type { Upload } from './mpu';

export const MANIFEST = 'manifest';
const MANIFEST_VERSION = 1;

export type Manifest = Omit<Upload, 'id' | 'dir' | 'mp'>;

export function encodeManifest(m: Manifest): Buffer {
  return frame(MANIFEST_VERSION, pack(m));
}

/** Undefined for any damage: the caller only needs to know the upload cannot be trusted. */
export function decodeManifest(buf: Buffer): Manifest | undefined {
  const payload = unframe(buf, MANIFEST_VERSION);
  if (typeof payload === 'string') return undefined;
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
