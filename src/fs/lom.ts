// LOM: the local object's metadata, kept with the object itself in the xattr `user.tais.lom`, so that
// the rename that publishes a new object publishes its metadata in the same atomic step (a sidecar file
// would need a second rename and could tear). Format: a msgpack payload framed by ./framed (version
// byte, XXH64 of the payload): metadata on disk is never trusted without its checksum.
import { pack, unpack } from 'msgpackr';
import { fgetxattr, getxattr, fsetxattr } from '../native';
import { frame, unframe } from './framed';
import type { ChecksumType } from '../cluster/config';
import type { FlexChecksum } from '../s3/checksums';
import type { TagSet } from '../s3/tagging';

export const LOM_XATTR = 'user.tais.lom';
const LOM_VERSION = 1;

export interface Lom {
  /** Object name; stored only for objects kept under a hashed path (%ln). */
  name?: string;
  size: number;
  cksumType: ChecksumType;
  cksumValue: string;
  /** Hex MD5 of the content when the bucket computes MD5 ETags. */
  md5?: string;
  /** Explicit ETag (unquoted), e.g. S3 multipart "<md5 of md5s>-N"; wins over md5 and checksum. */
  etag?: string;
  /** Last-Modified, ms since epoch. */
  mtime: number;
  contentType?: string;
  /** User metadata (x-amz-meta-*), keys lower-case without the prefix. */
  meta?: Record<string, string>;
  /** S3 flexible checksum (x-amz-checksum-<alg>) given or asked for at PUT / multipart completion. */
  flex?: FlexChecksum;
  /** Remote buckets: the remote's ETag (unquoted) and VersionId when this copy was fetched or written through. */
  remote?: { etag: string; version?: string };
  /** S3 object tags (x-amz-tagging, PutObjectTagging). */
  tags?: TagSet;
}

export class LomError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LomError';
  }
}

export function encodeLom(lom: Lom): Buffer {
  return frame(LOM_VERSION, pack(lom));
}

export function decodeLom(buf: Buffer): Lom {
  const payload = unframe(buf, LOM_VERSION);
  if (payload === 'version') throw new LomError('object metadata: unknown version or truncated');
  if (payload === 'checksum') throw new LomError('object metadata: checksum mismatch');
  const lom = unpack(payload) as Lom;
  if (typeof lom?.size !== 'number' || typeof lom.mtime !== 'number') throw new LomError('object metadata: malformed');
  return lom;
}

/**
 * Writes the LOM xattr of an open file. ext4 gives all of a file's xattrs one 4 KiB block: a LOM that
 * does not fit (large user metadata and tags together) fails with the code 'MetadataTooLarge', which
 * is the client's to fix, not a full disk.
 */
export function writeLomFd(fd: number, lom: Lom): void {
  const buf = encodeLom(lom);
  try {
    fsetxattr(fd, LOM_XATTR, buf);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if ((code === 'ENOSPC' || code === 'E2BIG' || code === 'ERANGE') && buf.length > 2048) {
      throw Object.assign(new Error(`object metadata of ${buf.length} bytes does not fit the filesystem's extended attributes`), { code: 'MetadataTooLarge' });
    }
    throw err;
  }
}

/** Reads the LOM of an open object file; undefined when the file has none (not one of our objects). */
export function loadLomFd(fd: number): Lom | undefined {
  const raw = fgetxattr(fd, LOM_XATTR);
  return raw === undefined ? undefined : decodeLom(raw);
}

export function loadLomPath(path: string): Lom | undefined {
  const raw = getxattr(path, LOM_XATTR);
  return raw === undefined ? undefined : decodeLom(raw);
}

/** The ETag clients see (unquoted): explicit > MD5 > derived from the checksum, as AIStore derives it. */
export function etagOf(lom: Lom): string | undefined {
  if (lom.etag) return lom.etag;
  if (lom.md5) return lom.md5;
  if (lom.cksumType === 'md5') return lom.cksumValue;
  if (lom.cksumType === 'none') return undefined;
  return `v1-${lom.cksumValue}-${(BigInt(Math.round(lom.mtime)) * 1_000_000n).toString(36)}`;
}
