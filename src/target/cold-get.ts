// Cold GET: an object of a remote (s3://) bucket that is not in the cluster is fetched from the remote
// by its HRW owner and stored through the PUT path (PutStream: bucket checksum and MD5 in the pool,
// work file, rename when complete), so a cut remote read never leaves a partial object. One fetch per
// object per target: concurrent cold GETs of the same object wait for the fetch in flight and are then
// served from disk. With a `tap` (Streaming-Cold-GET), the requester that started the fetch also gets
// the bytes as they arrive; the remote stream is paused while either the disk side or that client
// is behind.
import type { Readable } from 'node:stream';
import type { Req } from '../api/http';
import type { BucketProps } from '../cluster/config';
import type { Lom } from '../fs/lom';
import type { HttpResponse } from '../util/uws';
import { getObject, BackendError, type RemoteObject } from '../backend/s3';
import { PutStream, PutError } from './put';
import type { Target } from './target';
import { log } from '../util/log';
import { coldClaims } from './conditions';
import fs from 'node:fs';

const EMPTY = new Uint8Array(0);

/** A client that takes the bytes while they are stored (Streaming-Cold-GET). */
export interface ColdTap {
  /** The remote answered: write status and headers. */
  head(obj: RemoteObject): void;
  /** A piece of the body; false: the client is behind, call `resume` when it has taken it. */
  data(chunk: Buffer, resume: () => void): boolean;
  /** The remote read failed or was cut after `head`: the client must see an incomplete body. */
  cut(): void;
  /** Registers what to call when the client goes away (it then no longer holds the remote stream). */
  onGone(release: () => void): void;
}

/** The remote has no such object. */
export class RemoteNotFound extends Error {}

const inflight = new WeakMap<Target, Map<string, Promise<Lom>>>();

/** True when a fetch of bucket/key is running on this target (a new GET would join it). */
export function fetchInFlight(target: Target, bucket: string, key: string): boolean {
  return inflight.get(target)?.has(`${bucket}\n${key}`) === true;
}

/** Where a cold GET reads from: the SDK's GetObject by default, a re-issued presigned request otherwise. */
export type ColdSource = () => Promise<{ obj: RemoteObject; body: Readable } | undefined>;

/**
 * Fetches bucket/key from the remote and stores it; resolves with its LOM. A fetch of the same object
 * already in flight on this target is joined instead (then `tap` is not used: the caller serves the
 * stored object). Rejects with RemoteNotFound, BackendError or PutError; nothing is stored then.
 *
 * "In flight on this target" spans the node's HTTP threads: a thread claims the object's slot in the
 * shared claim table (conditions.ts `coldClaims`) before it fetches; a request on another thread that
 * finds the slot taken waits (Atomics.waitAsync, no thread blocked) and then serves what was stored —
 * or claims and fetches itself if nothing was (the fetch failed, or two names share the slot).
 */
export function coldFetch(target: Target, bucket: string, key: string, props: BucketProps, tap?: ColdTap, source?: ColdSource): { lom: Promise<Lom>; joined: boolean } {
  let map = inflight.get(target);
  if (!map) inflight.set(target, (map = new Map()));
  const id = `${bucket}\n${key}`;
  const cur = map.get(id);
  if (cur) return { lom: cur, joined: true };
  const from = source ?? (() => getObject(bucket, key, props));
  const claims = coldClaims();
  const slot = claims.slot(id);
  const mine = Atomics.compareExchange(claims.table, slot, 0, 1) === 0;
  const p = (mine ? claimedFetch(target, bucket, key, props, tap, from, claims.table, slot) : waitAndLoad(target, bucket, key, props, from, claims.table, slot)).finally(() =>
    map.delete(id),
  );
  map.set(id, p);
  return { lom: p, joined: !mine };
}

function claimedFetch(target: Target, bucket: string, key: string, props: BucketProps, tap: ColdTap | undefined, source: ColdSource, table: Int32Array, slot: number): Promise<Lom> {
  return fetchAndStore(target, bucket, key, props, tap, source).finally(() => {
    Atomics.store(table, slot, 0);
    Atomics.notify(table, slot);
  });
}

async function waitAndLoad(target: Target, bucket: string, key: string, props: BucketProps, source: ColdSource, table: Int32Array, slot: number): Promise<Lom> {
  for (;;) {
    const w = Atomics.waitAsync(table, slot, 1, 60_000);
    if (w.async) await w.value;
    const h = target.openObject(bucket, key);
    if (h) {
      fs.closeSync(h.fd);
      return h.lom;
    }
    if (Atomics.compareExchange(table, slot, 0, 1) === 0) return claimedFetch(target, bucket, key, props, undefined, source, table, slot);
  }
}

async function fetchAndStore(target: Target, bucket: string, key: string, props: BucketProps, tap: ColdTap | undefined, source: ColdSource): Promise<Lom> {
  target.stats.remoteGetCount++;
  const r = await source();
  if (!r) throw new RemoteNotFound(`s3://${bucket}/${key}`);
  const { obj, body } = r;
  return new Promise<Lom>((resolve, reject) => {
    // The remote stream flows only while neither the disk side nor the streaming client holds it.
    let putHold = false;
    let tapHold = false;
    const apply = (): void => {
      if (putHold || tapHold) body.pause();
      else body.resume();
    };
    const flow = { pause: () => ((putHold = true), apply()), resume: () => ((putHold = false), apply()) } as unknown as HttpResponse;
    // The fetch is the cluster's, not the requester's: a client going away does not stop it.
    const fetchReq: Req = { method: 'GET', url: `/${bucket}/${key}`, query: '', headers: {}, aborted: false, id: 'cold-get' };
    let ended = false;
    let tapping = tap !== undefined;
    const stream = new PutStream(
      target,
      flow,
      fetchReq,
      { bucket, objName: key, props, size: obj.size, contentType: obj.contentType, meta: obj.meta, remote: { etag: obj.etag, version: obj.version, mtime: obj.mtime } },
      (err, lom) => {
        if (!ended) body.destroy();
        if (err) {
          if (tapping) tap!.cut();
          log.warn(`cold GET s3://${bucket}/${key}: ${err.code}: ${err.message}; nothing stored`);
          reject(err);
          return;
        }
        target.stats.remoteGetBytes += lom!.size;
        resolve(lom!);
      },
    );
    if (tap) tap.head(obj);
    body.on('data', (chunk: Buffer) => {
      stream.onData(chunk, false);
      if (tapping && !tap!.data(chunk, () => ((tapHold = false), apply()))) {
        tapHold = true;
        apply();
      }
    });
    body.on('end', () => {
      ended = true;
      stream.onData(EMPTY, true);
    });
    body.on('error', () => {}); // reported by 'close' below
    body.on('close', () => {
      if (!ended) stream.abort('RemoteReadFailed', 'the remote read ended early');
    });
    tap?.onGone(() => ((tapping = false), (tapHold = false), apply()));
  });
}

export function isRemoteFailure(err: unknown): err is BackendError | PutError {
  return err instanceof BackendError || (err instanceof PutError && err.code === 'RemoteReadFailed');
}
