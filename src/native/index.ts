/**
 * TypeScript face of the C++ addon (build/Release/tais.node, built by `npm run build:native`).
 * This file is the only importer of the .node file; everything else imports from here.
 *
 * Hashing: XXH64, CRC-32C, CRC-32 and CRC-64/NVME are implemented in the addon; MD5, SHA-1, SHA-256 and SHA-512 use the
 * OpenSSL that is linked into (and exported by) the node binary. Streaming states are plain
 * bytes: copy them, post them to a worker, keep them in a SharedArrayBuffer — any thread
 * can continue any hash.
 */
import * as path from 'node:path';

export type HashKind = 'xxhash' | 'md5' | 'sha256' | 'sha512' | 'crc32c' | 'crc32' | 'crc64nvme' | 'sha1';

export const HASH_KINDS: readonly HashKind[] = Object.freeze([
  'xxhash',
  'md5',
  'sha256',
  'sha512',
  'crc32c',
  // Appended for S3 flexible checksums (ids are positions: never reorder).
  'crc32',
  'crc64nvme',
  'sha1',
] as const);

/** Shape of the addon's exports (kinds are passed as ids: index in HASH_KINDS). */
interface NativeAddon {
  hashInit(kind: number): Uint8Array;
  hashUpdate(kind: number, state: Uint8Array, data: Uint8Array): void;
  hashDigest(kind: number, state: Uint8Array): string;
  hashDigestBytes(kind: number, state: Uint8Array): Buffer;
  xxh64(data: Uint8Array, seed?: bigint): bigint;
  xxh64String(s: string, seed?: bigint): bigint;
  readonly crc32cHardware: boolean;
  mmapThreshold(bytes: number): boolean;
  addressMod(view: Uint8Array): number;
  setDirect(fd: number, on: boolean): void;
  probeDirectIO(dir: string): boolean;
  fsetxattr(fd: number, name: string, value: Uint8Array): void;
  fdCtime(fd: number, out: Float64Array): number;
  fgetxattr(fd: number, name: string): Buffer | undefined;
  getxattr(path: string, name: string): Buffer | undefined;
  readHash(fd: number, buf: Uint8Array, position: number, kind: number | null, state: Uint8Array | null): Promise<number>;
  readHashSync(fd: number, buf: Uint8Array, position: number, kind: number | null, state: Uint8Array | null): number;
  writeHashSync(fd: number, data: Uint8Array, position: number, kinds: number[], states: Uint8Array[]): void;
  socketFd(res: object, port: number): number;
  sendObject(
    sock: number,
    file: number,
    start: number,
    length: number,
    tail: number,
    kind: number | null,
    state: Uint8Array | null,
    expected: string | null,
    cb: (r: SendResult) => void,
    maxActive: number,
  ): boolean;
  HashStrand: new (kinds: number[], states: Uint8Array[], onHashed: (n: number) => void) => HashStrand;
}

const ADDON_PATH = path.join(__dirname, '../../../build/Release/tais.node');

function loadAddon(): NativeAddon {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(ADDON_PATH) as NativeAddon;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND') {
      throw new Error(`tais native addon not found at ${ADDON_PATH}: run \`npm run build:native\` first`, {
        cause: err,
      });
    }
    throw new Error(
      `tais native addon at ${ADDON_PATH} failed to load (rebuild it with \`npm run build:native\`): ${String(err)}`,
      { cause: err },
    );
  }
}

const addon: NativeAddon = loadAddon();

const KIND_IDS: ReadonlyMap<string, number> = new Map(HASH_KINDS.map((k, i) => [k, i]));

function kindId(kind: unknown): number {
  const id = typeof kind === 'string' ? KIND_IDS.get(kind) : undefined;
  if (id === undefined) {
    throw new TypeError(`unknown hash kind ${JSON.stringify(kind)} (expected one of ${HASH_KINDS.join(', ')})`);
  }
  return id;
}

/** Fresh streaming state. The state is plain bytes (fixed size per kind) so it can be copied,
 *  posted to another worker thread, or live inside a SharedArrayBuffer: any thread continues any hash. */
export function hashInit(kind: HashKind): Uint8Array {
  return addon.hashInit(kindId(kind));
}

/** Update `state` in place with `data` (any Uint8Array view, including views on SharedArrayBuffer). */
export function hashUpdate(kind: HashKind, state: Uint8Array, data: Uint8Array): void {
  addon.hashUpdate(kindId(kind), state, data);
}

/** Hex digest (lowercase) of the bytes seen so far; does not change `state`.
 *  xxhash → 16 hex digits (XXH64, seed 0, big-endian like AIStore's), crc32c → 8 hex digits. */
export function hashDigest(kind: HashKind, state: Uint8Array): string {
  return addon.hashDigest(kindId(kind), state);
}

/** Raw digest bytes (big-endian for xxhash and the CRCs), e.g. for S3 multipart ETags and base64 checksums. */
export function hashDigestBytes(kind: HashKind, state: Uint8Array): Buffer {
  return addon.hashDigestBytes(kindId(kind), state);
}

/** One-shot XXH64 with a seed (default 0n), as a bigint (HRW uses seed 1103515245). */
export function xxh64(data: Uint8Array, seed?: bigint): bigint {
  return addon.xxh64(data, seed);
}

/** One-shot XXH64 of the UTF-8 bytes of `s` (short strings are encoded without allocating). */
/** glibc's M_MMAP_THRESHOLD: allocations of at least `bytes` get their own mapping (see process-setup.ts). */
export function mmapThreshold(bytes: number): boolean {
  return addon.mmapThreshold(bytes);
}

export function xxh64String(s: string, seed?: bigint): bigint {
  return addon.xxh64String(s, seed);
}

const DIRECT_ALIGN = 4096;

/** Bytes to skip from the start of `buf` so that the address is 4096-aligned
 *  (for O_DIRECT buffers carved out of a SharedArrayBuffer). */
export function alignOffset(buf: ArrayBuffer | SharedArrayBuffer): number {
  if (buf.byteLength === 0) return 0;
  // Node-API (Node 20) cannot inspect a SharedArrayBuffer directly, but it can a view on one.
  const mod = addon.addressMod(new Uint8Array(buf, 0, 1));
  return (DIRECT_ALIGN - mod) % DIRECT_ALIGN;
}

/** fcntl(F_SETFL) toggling O_DIRECT on an open fd (used to write the unaligned tail of a file buffered). */
export function setDirect(fd: number, on: boolean): void {
  addon.setDirect(fd, on);
}

/** Probe at start: can files in `dir` be opened with O_DIRECT and written with aligned buffers?
 *  (Some file systems say no.) Creates and removes a probe file; throws if `dir` is unusable. */
export function probeDirectIO(dir: string): boolean {
  return addon.probeDirectIO(dir);
}

/** Set an extended attribute on an open fd (errors carry errno code in err.code, like Node's fs). */
export function fsetxattr(fd: number, name: string, value: Uint8Array): void {
  addon.fsetxattr(fd, name, value);
}

/** One fstat: the file's link count (0 once replaced or deleted); its ctime goes to out[0] (s) and out[1] (ns). */
export function fdCtime(fd: number, out: Float64Array): number {
  return addon.fdCtime(fd, out);
}

/** Extended attribute of an open fd; undefined when absent (ENODATA), throws on other errors. */
export function fgetxattr(fd: number, name: string): Buffer | undefined {
  return addon.fgetxattr(fd, name);
}

/** Extended attribute of a path; undefined when absent (ENODATA), throws on other errors. */
export function getxattr(path: string, name: string): Buffer | undefined {
  return addon.getxattr(path, name);
}

/** Async pread on the libuv thread pool of up to buf.length bytes at `position`, fused with a hash
 *  update over exactly the bytes read when kind/state are given. Resolves with the number of bytes
 *  read (0 at EOF). JS must not touch buf/state until it resolves. */
export function readHash(
  fd: number,
  buf: Uint8Array,
  position: number,
  kind: HashKind | null,
  state: Uint8Array | null,
): Promise<number> {
  try {
    return addon.readHash(fd, buf, position, kind === null ? null : kindId(kind), state);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Sync version of readHash, for worker threads (piscina tasks) and small objects. */
export function readHashSync(
  fd: number,
  buf: Uint8Array,
  position: number,
  kind: HashKind | null,
  state: Uint8Array | null,
): number {
  return addon.readHashSync(fd, buf, position, kind === null ? null : kindId(kind), state);
}

/**
 * The socket fd under a uWS HttpResponse whose local port is `port`, or -1 when it cannot be had with
 * certainty (native/sendfile.cc says how it is found and checked).
 */
export function socketFd(res: object, port: number): number {
  return addon.socketFd(res, port);
}

/** How a native send ended (`sendObject`). */
export interface SendResult {
  /** Bytes sent. */
  sent: number;
  /** A failed syscall (EPIPE and ECONNRESET when the client left). */
  error?: NodeJS.ErrnoException;
  /** The file ended here, before the bytes it should hold. */
  fileEnd?: number;
  /** The digest, when it did not match `expected`. */
  digest?: string;
}

/**
 * Sends bytes [start, start+length-tail) of `file` on the socket `sock` with sendfile(2), from a
 * native thread; with `verify`, continues `state` over all of [start, start+length) and compares its
 * digest with `expected` (the caller sends the tail only if it matched). `done` runs on this thread
 * at the end; the caller keeps `file` open until then. False when `maxActive` sends run in this
 * process already.
 */
export function sendObject(
  sock: number,
  file: number,
  range: { start: number; length: number; tail: number },
  verify: { kind: HashKind; state: Uint8Array; expected: string } | null,
  done: (r: SendResult) => void,
  maxActive: number,
): boolean {
  const kind = verify ? kindId(verify.kind) : null;
  return addon.sendObject(sock, file, range.start, range.length, range.tail, kind, verify?.state ?? null, verify?.expected ?? null, done, maxActive);
}

/** Sync pwrite of the whole of `data` at `position` (partial writes and EINTR retried), fused with
 *  hash updates of several states in one pass over the bytes. The states are updated only if the
 *  write succeeds. */
export function writeHashSync(
  fd: number,
  data: Uint8Array,
  position: number,
  hashes: ReadonlyArray<{ kind: HashKind; state: Uint8Array }>,
): void {
  const kinds: number[] = [];
  const states: Uint8Array[] = [];
  for (const h of hashes) {
    kinds.push(kindId(h.kind));
    states.push(h.state);
  }
  addon.writeHashSync(fd, data, position, kinds, states);
}

/**
 * The streaming hashes of one upload, advanced in order over its buffers by the addon's own threads
 * (native/hash_strand.cc): no JS thread between one buffer and the next. `onHashed(n)` is called on
 * this thread each time the next `n` pushed buffers are hashed, in push order; a buffer must not
 * change until it is reported. The states are updated in place. Nothing to close: an idle strand is
 * collected with its owner.
 */
export interface HashStrand {
  push(buf: Uint8Array): void;
  /** Report the buffers still queued without hashing them (the upload failed). */
  drop(): void;
}

export function hashStrand(
  hashes: ReadonlyArray<{ kind: HashKind; state: Uint8Array }>,
  onHashed: (n: number) => void,
): HashStrand {
  return new addon.HashStrand(
    hashes.map((h) => kindId(h.kind)),
    hashes.map((h) => h.state),
    onHashed,
  );
}
