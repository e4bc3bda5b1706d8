// Rebalance, sending side: one object file streams to its new owner as an intra-cluster PUT
// (`/v1/intra/reb`). The body is framed: a 4-byte big-endian length, a msgpack header {bucket, name,
// lom} — the LOM encoded as on disk, with its own XXH64, so the metadata is checked in transit too —
// then the object's bytes. The receiver (reb-recv.ts) verifies size and checksum before it publishes.
import fs from 'node:fs';
import { pack } from 'msgpackr';
import { INTRA_HEADER, IntraAgents } from '../cluster/intra';
import { encodeLom, loadLomFd, type Lom } from '../fs/lom';
import { intraAddr, type Snode } from '../cluster/snode';

export const REB_PATH = '/v1/intra/reb';
const agents = new IntraAgents({ maxSockets: 16 });
const TIMEOUT_MS = 60_000;

export interface MovedHeader {
  bucket: string;
  name: string;
  /** encodeLom() of the object's metadata. */
  lom: Uint8Array;
}

/** The receiver's Smap says it does not own the object (the two maps differ for a moment). */
export class NotOwnerError extends Error {}

export interface SendResult {
  /** 'stored': the receiver published it; 'kept': it already had this or a newer version. */
  outcome: 'stored' | 'kept';
  lom: Lom;
  /** The file as it was sent: the local copy is deleted only if it is still this file. */
  ino: number;
  mtimeMs: number;
}

/**
 * The node's rebalance bandwidth (`rebalance.bandwidth`, bytes/s; 0: none): one budget for all its
 * sends at once. Each chunk read is paid for before the next is read; a send that overdraws the budget
 * waits until the rate is back under the limit, so over any second or more the node sends at most about
 * `rate` bytes (plus one chunk per send in flight).
 */
class Bandwidth {
  private debt = 0;
  private last = Date.now();

  /** Milliseconds to wait after sending n bytes at `rate`. */
  take(n: number, rate: number): number {
    const now = Date.now();
    this.debt = Math.max(0, this.debt - ((now - this.last) / 1000) * rate) + n;
    this.last = now;
    // A second's worth may go at once (no wait for every chunk); beyond that the sender waits.
    return this.debt > rate ? ((this.debt - rate) / rate) * 1000 : 0;
  }
}
const bandwidth = new Bandwidth();

/**
 * Sends `file` (object bucket/name) to `to`; resolves once the receiver confirmed, rejects otherwise.
 * `rate`: the node's rebalance bandwidth (bytes/s) the body is sent within; 0 or absent: no limit.
 */
export async function sendObject(to: Snode, secret: string, bucket: string, name: string, file: string, rate = 0): Promise<SendResult | undefined> {
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // deleted or moved meanwhile
    throw err;
  }
  try {
    const lom = loadLomFd(fh.fd);
    if (!lom) return undefined; // not an object (no metadata)
    const st = await fh.stat();
    if (st.size !== lom.size) throw new Error(`${file}: file has ${st.size} bytes, its metadata says ${lom.size}`);
    const head = pack({ bucket, name, lom: encodeLom(lom) } satisfies MovedHeader);
    const prefix = Buffer.allocUnsafe(4 + head.length);
    prefix.writeUInt32BE(head.length, 0);
    head.copy(prefix, 4);
    const reply = await put(to, secret, prefix, fh, lom.size, rate);
    if (reply.status === 409) throw new NotOwnerError(`target ${to.id}: ${reply.body.slice(0, 300)}`);
    if (reply.status !== 200) throw new Error(`target ${to.id}: ${reply.status} ${reply.body.slice(0, 300)}`);
    const outcome = (JSON.parse(reply.body) as { outcome?: string }).outcome === 'kept' ? 'kept' : 'stored';
    return { outcome, lom, ino: st.ino, mtimeMs: st.mtimeMs };
  } finally {
    await fh.close(); // after any read still in flight
  }
}

function put(to: Snode, secret: string, prefix: Buffer, fh: fs.promises.FileHandle, size: number, rate: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = agents.request(
      intraAddr(to),
      {
        method: 'PUT',
        path: REB_PATH,
        timeout: TIMEOUT_MS,
        headers: { [INTRA_HEADER]: secret, 'content-type': 'application/octet-stream', 'content-length': String(prefix.length + size) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout sending to ${to.id}`)));
    req.on('error', reject);
    req.write(prefix);
    if (size === 0) return void req.end();
    const src = fh.createReadStream({ start: 0, end: size - 1, autoClose: false, highWaterMark: 1 << 20 });
    src.on('error', (err) => req.destroy(err));
    if (rate <= 0) return void src.pipe(req);
    src.on('data', (chunk: string | Buffer) => {
      const more = req.write(chunk);
      const wait = bandwidth.take(chunk.length, rate);
      if (wait <= 0 && more) return;
      src.pause();
      let waited = wait <= 0;
      let drained = more;
      const go = (): void => void (waited && drained && src.resume());
      if (!waited) setTimeout(() => ((waited = true), go()), wait);
      if (!drained) req.once('drain', () => ((drained = true), go()));
    });
    src.on('end', () => req.end());
  });
}
