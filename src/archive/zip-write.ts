// Writing .zip shards as a stream, from PKWARE's APPNOTE: each member is stored (no compression: shard
// members are mostly compressed media already) behind a local header that defers its CRC-32 to a data
// descriptor after the bytes (flag bit 3), since the CRC is known only once the bytes went by; the
// central directory and its end record close the file. Names are UTF-8 (flag bit 11). No ZIP64 yet: a
// shard of 4 GiB or more, or of more than 65,534 files, is refused (write a .tar).
import { hashInit, hashUpdate, hashDigest } from '../native';

const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
const CENTRAL = 0x02014b50;
const EOCD = 0x06054b50;
/** Bit 3: CRC-32 and sizes in a data descriptor; bit 11: UTF-8 names. */
const FLAGS = 0x0808;
const VERSION = 20;
/** Made by: Unix (3), spec 3.0; external attributes carry the mode 0644 of a regular file. */
const MADE_BY = (3 << 8) | 30;
const FILE_MODE = 0o100644;
const LIMIT = 0xffffffff;
const MAX_FILES = 0xfffe;

interface Entry {
  name: Buffer;
  size: number;
  crc: number;
  time: number;
  date: number;
  offset: number;
}

export class ZipWriter {
  private offset = 0;
  private readonly entries: Entry[] = [];
  private cur: { entry: Entry; state: Uint8Array; got: number } | undefined;

  /** The local header of the next member (`size` bytes, then pass them to data(), then tail()). */
  head(name: string, size: number, mtimeMs: number): Buffer {
    if (this.cur) throw new Error('zip: the previous member has no tail yet');
    const n = Buffer.from(name, 'utf8');
    if (n.length > 0xffff) throw new Error(`zip: the name "${name.slice(0, 60)}..." is too long`);
    if (this.entries.length >= MAX_FILES || this.offset + 30 + n.length + size + 16 > LIMIT) {
      throw new Error('zip shards are written up to 4 GiB and 65,534 files (no ZIP64 yet): make a .tar shard');
    }
    const d = new Date(mtimeMs);
    const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
    const date = (Math.max(0, d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
    const entry: Entry = { name: n, size, crc: 0, time, date, offset: this.offset };
    const h = Buffer.alloc(30);
    h.writeUInt32LE(LOCAL, 0);
    h.writeUInt16LE(VERSION, 4);
    h.writeUInt16LE(FLAGS, 6);
    h.writeUInt16LE(0, 8); // stored
    h.writeUInt16LE(time, 10);
    h.writeUInt16LE(date, 12);
    // CRC-32 and sizes (14..25) stay zero: they follow the bytes in the data descriptor.
    h.writeUInt16LE(n.length, 26);
    h.writeUInt16LE(0, 28);
    this.cur = { entry, state: hashInit('crc32'), got: 0 };
    const out = Buffer.concat([h, n]);
    this.offset += out.length;
    return out;
  }

  /** Bytes of the current member, as they go out. */
  data(chunk: Uint8Array): void {
    if (!this.cur) throw new Error('zip: data before a header');
    hashUpdate('crc32', this.cur.state, chunk);
    this.cur.got += chunk.length;
  }

  /** The data descriptor that ends the current member. */
  tail(): Buffer {
    const c = this.cur;
    if (!c) throw new Error('zip: tail before a header');
    if (c.got !== c.entry.size) throw new Error(`zip: ${c.got} bytes of a ${c.entry.size}-byte member`);
    c.entry.crc = parseInt(hashDigest('crc32', c.state), 16);
    this.cur = undefined;
    this.entries.push(c.entry);
    const t = Buffer.alloc(16);
    t.writeUInt32LE(DESCRIPTOR, 0);
    t.writeUInt32LE(c.entry.crc, 4);
    t.writeUInt32LE(c.entry.size, 8);
    t.writeUInt32LE(c.entry.size, 12);
    this.offset += c.entry.size + t.length;
    return t;
  }

  /** The central directory and its end record. */
  end(): Buffer {
    if (this.cur) throw new Error('zip: the last member has no tail');
    const parts = this.entries.map((e) => {
      const h = Buffer.alloc(46);
      h.writeUInt32LE(CENTRAL, 0);
      h.writeUInt16LE(MADE_BY, 4);
      h.writeUInt16LE(VERSION, 6);
      h.writeUInt16LE(FLAGS, 8);
      h.writeUInt16LE(0, 10);
      h.writeUInt16LE(e.time, 12);
      h.writeUInt16LE(e.date, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(e.size, 20);
      h.writeUInt32LE(e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      // extra, comment, disk, internal attributes: 0
      h.writeUInt32LE((FILE_MODE << 16) >>> 0, 38);
      h.writeUInt32LE(e.offset, 42);
      return Buffer.concat([h, e.name]);
    });
    const cd = Buffer.concat(parts);
    if (this.offset + cd.length + 22 > LIMIT) throw new Error('zip shards are written up to 4 GiB (no ZIP64 yet): make a .tar shard');
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(EOCD, 0);
    eocd.writeUInt16LE(this.entries.length, 8);
    eocd.writeUInt16LE(this.entries.length, 10);
    eocd.writeUInt32LE(cd.length, 12);
    eocd.writeUInt32LE(this.offset, 16);
    return Buffer.concat([cd, eocd]);
  }
}
