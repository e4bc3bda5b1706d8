// The tar format (POSIX ustar, with pax extended headers and GNU long names), written from the POSIX
// pax specification: reading the member index of a shard (where each file's bytes are) and writing the
// headers a shard is made of. A tar is a sequence of 512-byte headers, each followed by its file's
// bytes padded to 512; two zero blocks end it.
export const BLOCK = 512;

export interface TarMember {
  name: string;
  /** Offset of the member's bytes in the tar. */
  offset: number;
  size: number;
}

export class TarError extends Error {}

/** Reads `length` bytes at `position` (short at the end of the file). */
export type ReadAt = (position: number, length: number) => Promise<Buffer>;

function octal(b: Buffer, off: number, len: number): number {
  // GNU base-256 for large sizes: the first byte's high bit set.
  if (b[off]! & 0x80) {
    let n = b[off]! & 0x7f;
    for (let i = 1; i < len; i++) n = n * 256 + b[off + i]!;
    return n;
  }
  const s = b.toString('latin1', off, off + len).replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`invalid octal field "${s}"`);
  return parseInt(s, 8);
}

function cstr(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString('utf8', off, end < 0 || end > off + len ? off + len : end);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === octal(h, 148, 8);
}

/** pax records "LEN key=value\n": the path, when given. */
function paxPath(data: Buffer): string | undefined {
  let off = 0;
  let path: string | undefined;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number(data.toString('latin1', off, sp));
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) throw new TarError('invalid pax record');
    const rec = data.toString('utf8', sp + 1, off + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    off += len;
  }
  return path;
}

/** What a header block says: a file's name and size, an extended header, or something to skip. */
function parseHeader(h: Buffer, off: number): { type: string; len: number; name: string } {
  if (!checksumOk(h)) throw new TarError(`bad header checksum at offset ${off}: not a tar, or a damaged one`);
  const len = octal(h, 124, 12);
  const type = String.fromCharCode(h[156]!);
  // The name prefix is POSIX ustar's ("ustar\0"); GNU's header ("ustar  \0") keeps times there.
  const prefix = h.toString('latin1', 257, 263) === 'ustar\0' ? cstr(h, 345, 155) : '';
  const base = cstr(h, 0, 100);
  return { type, len, name: prefix ? `${prefix}/${base}` : base };
}

const isFile = (type: string): boolean => type === '0' || type === '\0' || type === '7';

/** Regular files (and hard links' targets are not followed) of a tar, in order, read header by header. */
export async function readTarIndex(readAt: ReadAt, size: number, maxMembers = 1_000_000): Promise<TarMember[]> {
  const out: TarMember[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= size) {
    const h = await readAt(off, BLOCK);
    if (h.length < BLOCK) throw new TarError(`truncated header at ${off}`);
    if (h.every((x) => x === 0)) break;
    const { type, len, name } = parseHeader(h, off);
    const dataOff = off + BLOCK;
    const next = dataOff + Math.ceil(len / BLOCK) * BLOCK;
    if (dataOff + len > size) throw new TarError(`member at ${off} runs past the end (${dataOff + len} > ${size})`);
    if (type === 'L' || type === 'x') {
      if (len > 1 << 20) throw new TarError(`extended header of ${len} bytes at ${off}`);
      const data = await readAt(dataOff, len);
      const n = type === 'L' ? cstr(data, 0, len) : paxPath(data);
      if (n !== undefined) longName = n;
    } else if (isFile(type)) {
      out.push({ name: (longName ?? name).replace(/^\.\//, ''), offset: dataOff, size: len });
      if (out.length > maxMembers) throw new TarError(`more than ${maxMembers} members`);
      longName = undefined;
    } else longName = undefined; // directories, links, globals: not files to read
    off = next;
  }
  return out;
}

function field(h: Buffer, off: number, len: number, value: string): void {
  h.write(value, off, len, 'latin1');
}

function octalField(h: Buffer, off: number, len: number, n: number): void {
  field(h, off, len, `${n.toString(8).padStart(len - 1, '0')}\0`);
}

function header(name: string, size: number, mtimeSec: number, type: '0' | 'x'): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  octalField(h, 100, 8, 0o644);
  octalField(h, 108, 8, 0);
  octalField(h, 116, 8, 0);
  if (size > 0o77777777777) {
    // GNU base-256 for members of 8 GiB and more.
    h[124] = 0x80;
    let n = size;
    for (let i = 135; i > 124; i--) {
      h[i] = n % 256;
      n = Math.floor(n / 256);
    }
  } else octalField(h, 124, 12, size);
  octalField(h, 136, 12, mtimeSec);
  field(h, 156, 1, type);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += h[i]!;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The header block(s) of one member: ustar when the name fits, else a pax header with its path. */
export function memberHeader(name: string, size: number, mtimeMs: number): Buffer {
  const mtime = Math.floor(mtimeMs / 1000);
  if (Buffer.byteLength(name) <= 100) return header(name, size, mtime, '0');
  const rec = (body: string): string => {
    // The length counts its own digits.
    let len = body.length + 3;
    for (;;) {
      const s = `${len} ${body}\n`;
      const n = Buffer.byteLength(s);
      if (n === len) return s;
      len = n;
    }
  };
  const pax = Buffer.from(rec(`path=${name}`), 'utf8');
  const short = `PaxHeaders/${Buffer.from(name).subarray(-80).toString('utf8').replace(/^[^/]*\//, '')}`.slice(0, 99);
  return Buffer.concat([header(short, pax.length, mtime, 'x'), pad(pax), header(short, size, mtime, '0')]);
}

/** `b` followed by zeros to a whole number of blocks. */
export function pad(b: Buffer): Buffer {
  const rest = b.length % BLOCK;
  return rest === 0 ? b : Buffer.concat([b, Buffer.alloc(BLOCK - rest)]);
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}

/** The end of a tar: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

/** Reads exact byte counts off a stream of chunks (a decompressed shard). */
class ChunkReader {
  private bufs: Buffer[] = [];
  private have = 0;
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else {
        this.bufs.push(r.value);
        this.have += r.value.length;
      }
    }
  }

  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const all = this.bufs.length === 1 ? this.bufs[0]! : Buffer.concat(this.bufs);
    const out = all.subarray(0, Math.min(n, all.length));
    const rest = all.subarray(out.length);
    this.bufs = rest.length ? [rest] : [];
    this.have = rest.length;
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const b = await this.read(Math.min(n, 1 << 20));
      if (b.length === 0) throw new TarError('the archive ends inside a member');
      n -= b.length;
    }
  }
}

export interface StreamedMember {
  name: string;
  size: number;
  /** The member's bytes, when `want` said so. */
  data?: Buffer;
}

/**
 * The files of a tar read as a stream (a compressed shard cannot be read at offsets): each member with
 * its bytes when `want(name, size)` says so, skipped otherwise.
 */
export async function* streamTar(chunks: AsyncIterable<Buffer>, want: (name: string, size: number) => boolean = () => false): AsyncGenerator<StreamedMember> {
  const r = new ChunkReader(chunks[Symbol.asyncIterator]());
  let off = 0;
  let longName: string | undefined;
  for (;;) {
    const h = await r.read(BLOCK);
    if (h.length === 0 || h.every((x) => x === 0)) return;
    if (h.length < BLOCK) throw new TarError(`truncated header at ${off}`);
    const { type, len, name } = parseHeader(h, off);
    const padded = Math.ceil(len / BLOCK) * BLOCK;
    off += BLOCK + padded;
    if (type === 'L' || type === 'x') {
      if (len > 1 << 20) throw new TarError(`extended header of ${len} bytes`);
      const data = await r.read(len);
      if (data.length < len) throw new TarError('the archive ends inside a header');
      await r.skip(padded - len);
      const n = type === 'L' ? cstr(data, 0, len) : paxPath(data);
      if (n !== undefined) longName = n;
      continue;
    }
    if (!isFile(type)) {
      longName = undefined;
      await r.skip(padded);
      continue;
    }
    const file = (longName ?? name).replace(/^\.\//, '');
    longName = undefined;
    if (want(file, len)) {
      const data = await r.read(len);
      if (data.length < len) throw new TarError(`the archive ends inside ${file}`);
      await r.skip(padded - len);
      yield { name: file, size: len, data };
    } else {
      await r.skip(padded);
      yield { name: file, size: len };
    }
  }
}
