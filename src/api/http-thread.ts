// Entry of one extra HTTP thread of a node (started by http-threads.ts, which explains the split): a
// replica Node fed by the main thread's metadata posts, and a uWS App on the node's port serving the
// data path, with control routes streamed to the main thread.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { Node } from '../cluster/node';
import { Mountpath } from '../fs/mountpath';
import { startServer } from './server';
import { setIntraTls } from '../cluster/intra';
import { useLockTable } from '../target/conditions';
import { log } from '../util/log';
import { guardRejections } from '../util/guard';
import type { HttpThreadInit, MetaPost } from './http-threads';

const init = workerData as HttpThreadInit;
log.setNode(`${init.logTag}/h${init.index}`);
useLockTable(init.locks);

const node = new Node(init.node);
node.mainAddr = { host: '127.0.0.1', port: init.mainPort };
apply(init.meta);

function apply(m: MetaPost): void {
  node.secret = m.secret;
  node.self = m.self;
  // force: the main thread's set is the truth even where the files this replica read at start say
  // otherwise (the main thread may have taken an older config from the primary at join).
  node.applyMeta(m.set, true);
  node.ready = m.ready;
  if (node.isTarget) syncMountpaths(m.mountpaths);
}

// The main thread's resilver attaches and detaches mountpaths; this thread's Target places and finds
// objects on the same list (same order, same detaching flags), reusing its Mountpath objects.
function syncMountpaths(want: MetaPost['mountpaths']): void {
  const mps = node.target.mountpaths;
  const next = want.map((w) => {
    const mp = mps.find((m) => m.path === w.path) ?? new Mountpath(w.path, w.direct);
    mp.detaching = w.detaching;
    return mp;
  });
  mps.splice(0, mps.length, ...next);
}

// Called first in every request: one atomic load when nothing changed; otherwise the posted sets are
// taken synchronously, in order, before the request sees any metadata.
const gen = new Int32Array(init.metaGen);
let seen = -1; // sets posted while this thread was starting wait in the port: take them now
catchUp();
function catchUp(): void {
  const now = Atomics.load(gen, 0);
  if (now === seen) return;
  for (let m = receiveMessageOnPort(init.metaPort); m; m = receiveMessageOnPort(init.metaPort)) apply(m.message as MetaPost);
  seen = now;
}

guardRejections('HTTP thread');
// workerData turned the CA's Buffer into a plain Uint8Array: a Buffer again for tls.
if (init.tlsClient) setIntraTls({ ...init.tlsClient, ...(init.tlsClient.ca ? { ca: Buffer.from(init.tlsClient.ca) } : {}) });
startServer(node, init.host, init.port, { mainPort: init.mainPort, onRequest: catchUp, ...(init.tls ? { tls: init.tls, intraPort: init.intraPort, intraTls: init.intraTls === true } : {}) }).then(
  (server) => {
    // Stop: close uWS first (listener and connections), then exit. Terminating a thread whose loop
    // still holds uWS's poll handles aborts the whole process (uv_loop_close with open handles).
    parentPort!.on('message', (m: unknown) => {
      if (m !== 'close') return;
      server.close();
      for (const app of server.apps) app.close();
      node.close().finally(() => process.exit(0));
    });
    parentPort!.postMessage({ listening: true });
  },
  (err: Error) => parentPort!.postMessage({ error: err.message }),
);
