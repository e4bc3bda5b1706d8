// Get-from-neighbour (AIStore's "gfn"): while a rebalance runs, an object's new owner may not have it
// yet — it still sits on its previous owner, which is sending it. A GET or HEAD that misses locally
// asks the other targets (a HEAD each, with the FWD header) and streams the request through to the one
// that has it; the bytes are not stored here (the rebalance brings them). A neighbour that no longer
// has it when the request arrives (it finished sending meanwhile) answers 404, and the request is then
// served here, where the object has landed.
import fs from 'node:fs';
import { header, type Req } from '../api/http';
import type { HttpResponse } from '../util/uws';
import type { Node } from '../cluster/node';
import { FWD_HEADER, intraCall, objectsPath } from '../cluster/intra';
import { intraAddr, nodeUrl, type Snode } from '../cluster/snode';
import { forwardRequest } from '../proxy/forward';
import { log } from '../util/log';

/** Marks a request a target sends to its neighbours: served from local storage only, never asked around again. */
export const GFN_HEADER = 'ais-gfn';
const PROBE_TIMEOUT_MS = 3000;

/** One GET/HEAD of an object this target owns, carried whole through `ask`'s retries. */
export interface GfnRequest {
  node: Node;
  res: HttpResponse;
  req: Req;
  bucket: string;
  objName: string;
  /** Serves the request from this target's own storage. */
  local: () => Promise<void>;
  /** Answers an error `local` throws when it runs after a neighbour's 404 (outside the caller's chain). */
  fail: (err: unknown) => void;
}

/**
 * Serves a GET/HEAD of an object this target owns: `local()` when the object is here, when no
 * rebalance runs, or when the request already comes from a neighbour; else from the neighbour that has it.
 */
export function getOrAskNeighbours(g: GfnRequest): Promise<void> {
  const { node, req, local } = g;
  // Until its join completes a target does not know the RMD yet, but gateways may already send it requests.
  if ((!node.rmd.running && node.ready) || !node.isTarget || !node.smap || header(req, GFN_HEADER) !== '' || node.smap.targets().length < 2) return local();
  if (!node.secret) return local(); // not joined at all: cannot ask anyone
  return ask(g, GFN_ATTEMPTS);
}

/**
 * With two rebalances in a row an object can hop twice (old owner → owner under the first new map →
 * owner under the newest), and a probe can fall between a hop's confirm and the next: nobody answers,
 * or the holder found has just sent it on (its 404). Such a miss is looked for again, a few times, a
 * moment later; only then is the request served from here (a real 404 if the object is nowhere).
 */
const GFN_ATTEMPTS = 4;
const GFN_RETRY_MS = 150;

function ask(g: GfnRequest, attempts: number): Promise<void> {
  const { node, res, req, bucket, objName, local, fail } = g;
  const h = node.target.openObject(bucket, objName);
  if (h) {
    fs.closeSync(h.fd);
    return local();
  }
  const again = (): Promise<void> =>
    new Promise<void>((r) => setTimeout(r, GFN_RETRY_MS)).then(() => (req.aborted ? undefined : ask(g, attempts - 1)));
  return findHolder(node, bucket, objName).then((holder) => {
    if (req.aborted) return undefined;
    if (!holder) return attempts > 1 ? again() : local();
    node.target.stats.gfnCount++;
    const pathAndQuery = req.query ? `${req.url}?${req.query}` : req.url;
    forwardRequest(res, req, intraAddr(holder), pathAndQuery, { [FWD_HEADER]: node.secret, [GFN_HEADER]: '1' }, undefined, (status) => {
      if (status !== 404) return false;
      Promise.resolve()
        .then(() => (attempts > 1 ? again() : local()))
        .catch((err: unknown) => {
          if (!req.aborted) fail(err);
          else log.warn(`GET ${bucket}/${objName} after gfn miss: ${(err as Error).message}`);
        });
      return true;
    });
    return undefined;
  });
}

/** What another target's own storage says of bucket/objName (a native HEAD with the gfn header). */
export interface StoredThere {
  etag: string;
  size: number;
  /** ms (from Ais-Atime, ns: Last-Modified has whole seconds only). */
  mtime: number;
}

/** HEAD of bucket/objName on target `t`, from its storage only; undefined when it does not have it. Throws when unreachable. */
export async function headOn(node: Node, t: Snode, bucket: string, objName: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<StoredThere | undefined> {
  const path = objectsPath(bucket, objName);
  const r = await intraCall(nodeUrl(t), path, { method: 'HEAD', headers: { [FWD_HEADER]: node.secret, [GFN_HEADER]: '1' }, timeoutMs });
  if (r.status !== 200) return undefined;
  const etag = String(r.headers['etag'] ?? '').replace(/^"|"$/g, '');
  return { etag, size: Number(r.headers['content-length'] ?? 0), mtime: Math.round((Number(r.headers['ais-atime'] ?? 0) || 0) / 1e6) };
}

/** The other target holding bucket/objName (the newest copy when several do), or undefined. */
async function findHolder(node: Node, bucket: string, objName: string): Promise<Snode | undefined> {
  const others = node.smap.targets().filter((t) => t.id !== node.self.id);
  const found = await Promise.all(
    others.map((t) =>
      headOn(node, t, bucket, objName).then(
        (there) => (there ? { t, mtime: there.mtime } : undefined),
        () => undefined, // unreachable: it cannot serve the object either
      ),
    ),
  );
  let best: { t: Snode; mtime: number } | undefined;
  for (const f of found) if (f && (!best || f.mtime > best.mtime)) best = f;
  return best?.t;
}

/**
 * During a rebalance a DELETE on the owner also goes to every other target (FWD + gfn headers): a copy
 * still waiting on its previous owner would otherwise come back when that target sends it. True when
 * some other target had the object. (A copy already in flight to the owner can still land after this:
 * the window is one transfer.)
 */
export async function deleteOnNeighbours(node: Node, req: Req | undefined, bucket: string, objName: string): Promise<boolean> {
  if ((node.rmd.running === false && node.ready) || !node.isTarget) return false;
  node.reb?.deleted(bucket, objName); // on the owner and on every neighbour asked: any may be a copy's receiver
  if (!node.secret || !node.smap || (req && header(req, GFN_HEADER) !== '')) return false;
  const path = objectsPath(bucket, objName);
  const others = node.smap.targets().filter((t) => t.id !== node.self.id);
  const deleted = await Promise.all(
    others.map((t) =>
      intraCall(nodeUrl(t), path, { method: 'DELETE', headers: { [FWD_HEADER]: node.secret, [GFN_HEADER]: '1' }, timeoutMs: PROBE_TIMEOUT_MS }).then(
        (r) => r.status === 200,
        () => false,
      ),
    ),
  );
  return deleted.includes(true);
}
