// Rebalance, receiving side of `/v1/intra/reb` (framing in reb-send.ts). The object goes through the
// PUT data path (PutStream: pooled buffers, hashing in the pool, work file, fsync, rename) with its own
// LOM: hashed with the LOM's checksum type, its size and checksum must match before the rename, and the
// LOM is stored as it came — checksum, MD5/ETag (multipart too), flexible checksum, content type, user
// metadata, mtime — so the object is the same object on its new owner. A copy here that is as new or
// newer (a client wrote it to its new owner during the rebalance) is kept, and the sender told so.
import fs from 'node:fs';
import { unpack } from 'msgpackr';
import type { HttpResponse } from '../util/uws';
import { reply, type Req } from '../api/http';
import type { Node } from '../cluster/node';
import { decodeLom, type Lom } from '../fs/lom';
import { PutStream, type PutError } from './put';
import type { MovedHeader } from './reb-send';
import { pruneEmptyDirs } from './target';
import { CT_OBJ } from '../fs/fqn';
import { log } from '../util/log';

const MAX_HEADER = 64 << 10;
const JSON_CT: [string, string] = ['Content-Type', 'application/json'];

export function receiveMoved(node: Node, res: HttpResponse, req: Req, onStored: (bucket: string, name: string, lom: Lom) => void): void {
  const parts: Buffer[] = [];
  let have = 0;
  let need = -1;
  let stream: PutStream | undefined;
  /** Set when the body is to be read and dropped: the answer goes out at its end. */
  let answer: { status: string; body: object } | undefined;

  const begin = (all: Buffer, isLast: boolean): void => {
    let hdr: MovedHeader;
    let lom: Lom;
    try {
      hdr = unpack(all.subarray(4, need)) as MovedHeader;
      lom = decodeLom(Buffer.from(hdr.lom));
      if (typeof hdr.bucket !== 'string' || typeof hdr.name !== 'string' || hdr.name === '') throw new Error('bad header');
    } catch (err) {
      answer = { status: '400 Bad Request', body: { message: `moved object: ${(err as Error).message}`, status: 400 } };
      return finishEarly(isLast);
    }
    const props = node.bmd.get(hdr.bucket);
    if (!props) {
      answer = { status: '404 Not Found', body: { message: `bucket "${hdr.bucket}" does not exist`, status: 404 } };
      return finishEarly(isLast);
    }
    // Not ours under our Smap: the sender's map is older (it will resend under the newer one) or ours is
    // (we will get theirs). Storing it could leave it here after our own walk has already passed it.
    const owner = node.smap.owner(hdr.bucket, hdr.name, props.provider);
    if (owner && owner.id !== node.self.id) {
      answer = { status: '409 Conflict', body: { message: `not the owner of ${hdr.bucket}/${hdr.name} in Smap v${node.smap.version} (${owner.id} is)`, status: 409 } };
      return finishEarly(isLast);
    }
    if (node.reb?.deletedSince(hdr.bucket, hdr.name, lom.mtime)) {
      answer = { status: '200 OK', body: { outcome: 'kept' } }; // deleted here meanwhile: the sender drops its copy
      return finishEarly(isLast);
    }
    const target = node.target;
    const old = target.openObject(hdr.bucket, hdr.name);
    if (old) fs.closeSync(old.fd);
    if (old && old.lom.mtime >= lom.mtime) {
      answer = { status: '200 OK', body: { outcome: 'kept' } };
      return finishEarly(isLast);
    }
    const dst = target.objectFile(target.mountpathFor(hdr.bucket, hdr.name), hdr.bucket, hdr.name);
    const params = {
      bucket: hdr.bucket,
      objName: hdr.name,
      props: { ...props, checksum: { ...props.checksum, type: lom.cksumType, md5_etag: false } },
      size: lom.size,
      // Without a checksum, the MD5 (if any) is what proves the bytes.
      ...(lom.cksumType === 'none' && lom.md5 ? { contentMd5: lom.md5 } : {}),
      moved: lom,
    };
    stream = new PutStream(target, res, req, params, (err?: PutError, stored?: Lom) => {
      if (err) {
        log.warn(`rebalance: receiving ${hdr.bucket}/${hdr.name}: ${err.code} ${err.message}`);
        const bad = err.code === 'BadDigest' || err.code === 'IncompleteBody' || err.code === 'InvalidRequest';
        const status = bad ? '400 Bad Request' : err.code === 'ENOSPC' ? '507 Insufficient Storage' : '500 Internal Server Error';
        return reply(res, req, status, [JSON_CT], JSON.stringify({ message: `${err.code}: ${err.message}`, status: parseInt(status, 10) }));
      }
      // An older copy on another mountpath (left by a mountpath change) would be a stale duplicate: remove it.
      if (old && old.path !== dst) {
        fs.promises
          .unlink(old.path)
          .then(() => pruneEmptyDirs(old.path.slice(0, old.path.lastIndexOf('/')), CT_OBJ))
          .catch(() => undefined);
      }
      if (node.reb?.deletedSince(hdr.bucket, hdr.name, lom.mtime)) {
        // A DELETE ran while the bytes were on their way: it wins.
        void target.deleteObject(hdr.bucket, hdr.name).catch(() => undefined);
        return reply(res, req, '200 OK', [JSON_CT], JSON.stringify({ outcome: 'kept' }));
      }
      reply(res, req, '200 OK', [JSON_CT], JSON.stringify({ outcome: 'stored' }));
      onStored(hdr.bucket, hdr.name, stored!);
    });
    stream.onData(all.subarray(need), isLast);
  };

  const finishEarly = (isLast: boolean): void => {
    if (isLast) sendAnswer();
  };
  const sendAnswer = (): void => {
    const a = answer!;
    reply(res, req, a.status, [JSON_CT], JSON.stringify(a.body));
  };

  res.onData((ab, isLast) => {
    const chunk = new Uint8Array(ab);
    if (stream) return stream.onData(chunk, isLast);
    if (answer) {
      if (isLast) sendAnswer();
      return;
    }
    parts.push(Buffer.from(chunk)); // copied: uWS reuses the chunk after this callback
    have += chunk.length;
    const all = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    parts.splice(0, parts.length, all);
    if (need < 0 && have >= 4) {
      need = 4 + all.readUInt32BE(0);
      if (need > MAX_HEADER) {
        answer = { status: '400 Bad Request', body: { message: 'moved object: header too large', status: 400 } };
        return finishEarly(isLast);
      }
    }
    if (need >= 0 && have >= need) return begin(all, isLast);
    if (isLast) {
      answer = { status: '400 Bad Request', body: { message: 'moved object: body ends inside its header', status: 400 } };
      sendAnswer();
    }
  });
}
