// An object's bytes as jobs read them off the disk: hashed as they are read and checked against the
// stored checksum before the last bytes are handed on, so nothing a copy or a transformer gets is
// unverified. Whole (ETL: the transformer takes the object in one message) or in pieces (copy: any size).
import { hashDigest, hashInit, readHash, type HashKind } from '../native';
import type { ObjectHandle } from '../target/target';

export class CorruptObject extends Error {}

const PIECE = 1 << 20;

function verifier(h: ObjectHandle): { kind: HashKind | null; state: Uint8Array | null; check: () => void } {
  const kind = h.lom.cksumType === 'none' ? null : (h.lom.cksumType as HashKind);
  const state = kind ? hashInit(kind) : null;
  return {
    kind,
    state,
    check: () => {
      if (kind && state && hashDigest(kind, state) !== h.lom.cksumValue) {
        throw new CorruptObject(`stored object is corrupted (${kind} ${hashDigest(kind, state)} != stored ${h.lom.cksumValue}): ${h.path}`);
      }
    },
  };
}

/** The whole object, verified. */
export async function readWhole(h: ObjectHandle): Promise<Buffer> {
  const v = verifier(h);
  const buf = Buffer.allocUnsafe(h.lom.size);
  let pos = 0;
  while (pos < buf.length) {
    const n = await readHash(h.fd, buf.subarray(pos), pos, v.kind, v.state);
    if (n === 0) throw new CorruptObject(`stored object is shorter than its metadata says (${pos} of ${buf.length} bytes): ${h.path}`);
    pos += n;
  }
  v.check();
  return buf;
}

/** Reads the whole object through its checksum without keeping it (a transformer will read the file itself). */
export async function verifyWhole(h: ObjectHandle): Promise<void> {
  const v = verifier(h);
  const buf = Buffer.allocUnsafe(Math.min(PIECE, Math.max(1, h.lom.size)));
  let pos = 0;
  while (pos < h.lom.size) {
    const n = await readHash(h.fd, buf.subarray(0, Math.min(buf.length, h.lom.size - pos)), pos, v.kind, v.state);
    if (n === 0) throw new CorruptObject(`stored object is shorter than its metadata says (${pos} of ${h.lom.size} bytes): ${h.path}`);
    pos += n;
  }
  v.check();
}

/** The object in pieces; the last one only once the checksum matched (else the generator throws). */
export async function* readPieces(h: ObjectHandle): AsyncGenerator<Buffer> {
  const v = verifier(h);
  let pos = 0;
  let held: Buffer | undefined;
  while (pos < h.lom.size) {
    const buf = Buffer.allocUnsafe(Math.min(PIECE, h.lom.size - pos));
    let got = 0;
    while (got < buf.length) {
      const n = await readHash(h.fd, buf.subarray(got), pos + got, v.kind, v.state);
      if (n === 0) throw new CorruptObject(`stored object is shorter than its metadata says (${pos + got} of ${h.lom.size} bytes): ${h.path}`);
      got += n;
    }
    pos += got;
    if (held) yield held;
    held = buf;
  }
  v.check();
  if (held) yield held;
}
