// Reading .zip shards, written from PKWARE's APPNOTE (the ZIP file format specification): the central
// directory at the end of the file lists every member with its compression method, sizes, CRC-32 and
// where its local header is; the member's bytes follow that local header (whose name and extra field
// lengths may differ from the central directory's). ZIP64 (more than 65,535 members, or sizes and
// offsets past 4 GiB) is read from its end-of-central-directory record and extra fields. Members are
// stored (method 0) or deflated (method 8); each one read is checked against its CRC-32.
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { hashInit, hashUpdate, hashDigest } from '../native';
import type { ReadAt } from './tar';

export interface ZipMember {
  name: string;
  method: number;
  /** Bytes stored in the zip. */
  compressedSize: number;
  /** Bytes of the file. */
  size: number;
  /** CRC-32 of the file, hex as our hashers print it. */
  crc: string;
  /** Offset of the member's local header. */
  localOffset: number;
  encrypted: boolean;
}

export class ZipError extends Error {}

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
/** The central directory is read whole: more than this is not a shard we serve. */
const MAX_CENTRAL = 256 << 20;
// On the libuv pool: a large member does not hold the HTTP thread while it inflates.
const inflateRaw = promisify(zlib.inflateRaw) as (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>;

async function readExact(readAt: ReadAt, position: number, length: number, what: string): Promise<Buffer> {
  const b = await readAt(position, length);
  if (b.length !== length) throw new ZipError(`truncated ${what} at ${position}`);
  return b;
}

/** The members of a zip of `zipSize` bytes, in central-directory order (directories left out). */
export async function readZipIndex(readAt: ReadAt, zipSize: number, maxMembers = 1_000_000): Promise<ZipMember[]> {
  if (zipSize < 22) throw new ZipError('too short for a zip');
  const tailLen = Math.min(zipSize, 22 + MAX_COMMENT);
  const tail = await readExact(readAt, zipSize - tailLen, tailLen, 'end of central directory');
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD && i + 22 + tail.readUInt16LE(i + 20) === tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw new ZipError('no end of central directory record');
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locAt = zipSize - tailLen + at - 20;
    if (locAt < 0) throw new ZipError('ZIP64 locator missing');
    const loc = await readExact(readAt, locAt, 20, 'ZIP64 locator');
    if (loc.readUInt32LE(0) !== EOCD64_LOCATOR) throw new ZipError('ZIP64 locator missing');
    const recAt = Number(loc.readBigUInt64LE(8));
    const rec = await readExact(readAt, recAt, 56, 'ZIP64 end of central directory');
    if (rec.readUInt32LE(0) !== EOCD64) throw new ZipError('bad ZIP64 end of central directory');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  if (count > maxMembers) throw new ZipError(`more than ${maxMembers} members`);
  if (cdSize > MAX_CENTRAL || cdOffset + cdSize > zipSize) throw new ZipError('central directory out of bounds');
  const cd = await readExact(readAt, cdOffset, cdSize, 'central directory');
  const out: ZipMember[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL) throw new ZipError(`bad central directory entry ${n}`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16).toString(16).padStart(8, '0');
    let compressedSize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let localOffset = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new ZipError(`central directory entry ${n} runs past its end`);
    // Bit 11: UTF-8 names; otherwise CP437, of which ASCII is the common part.
    const name = cd.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen);
    // ZIP64 extended information: the 8-byte values, in this order, for the fields that are 0xffffffff.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen; ) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        const next = (): number => {
          if (q + 8 > e + 4 + len) throw new ZipError(`short ZIP64 field in ${name}`);
          const v = Number(cd.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      e += 4 + len;
    }
    p = end;
    if (localOffset + 30 + compressedSize > zipSize) throw new ZipError(`${name}: data past the end of the zip`);
    if (name.endsWith('/')) continue; // a directory
    out.push({ name: name.replace(/^\.?\//, ''), method, compressedSize, size, crc, localOffset, encrypted: (flags & 1) !== 0 });
  }
  return out;
}

/** A member's bytes, decompressed and checked against its size and CRC-32. */
export async function readZipMember(readAt: ReadAt, m: ZipMember): Promise<Buffer> {
  if (m.encrypted) throw new ZipError(`${m.name} is encrypted`);
  if (m.method !== 0 && m.method !== 8) throw new ZipError(`${m.name}: compression method ${m.method} (tais reads stored and deflated members)`);
  // A stored member is its bytes; deflate grows incompressible data by 5 bytes per 64 KiB block at most.
  const most = m.method === 0 ? m.size : m.size + 5 * Math.ceil(m.size / 65535) + 64;
  if (m.compressedSize > most) throw new ZipError(`${m.name}: ${m.compressedSize} bytes stored for a file of ${m.size}`);
  const local = await readExact(readAt, m.localOffset, 30, `local header of ${m.name}`);
  if (local.readUInt32LE(0) !== LOCAL) throw new ZipError(`bad local header of ${m.name}`);
  const dataAt = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = await readExact(readAt, dataAt, m.compressedSize, `data of ${m.name}`);
  let data: Buffer;
  try {
    data = m.method === 0 ? raw : await inflateRaw(raw, { maxOutputLength: Math.max(1, m.size) });
  } catch (err) {
    throw new ZipError(`${m.name}: ${(err as Error).message}`);
  }
  if (data.length !== m.size) throw new ZipError(`${m.name}: ${data.length} bytes, the directory says ${m.size}`);
  const st = hashInit('crc32');
  hashUpdate('crc32', st, data);
  const crc = hashDigest('crc32', st);
  if (crc !== m.crc) throw new ZipError(`${m.name}: CRC-32 ${crc}, the directory says ${m.crc} (damaged)`);
  return data;
}
