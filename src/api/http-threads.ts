// A node's extra HTTP threads (config `net.http_threads`, default one per core). One uWS thread cannot
// keep up with more than one core's worth of requests, so each extra worker thread runs its own uWS App
// listening on the node's port (SO_REUSEPORT: the kernel spreads new connections over the listeners)
// with the same data-path handlers as the main thread. The main thread stays the one owner of shared
// state:
//   - cluster metadata (Smap, BMD, config, RMD) is changed and persisted only here; after every change
//     the whole set is posted to each thread on its own MessagePort and a generation counter in shared
//     memory is bumped. A thread compares that counter at the start of every request and, when it moved,
//     takes the queued sets synchronously (receiveMessageOnPort) — so a bucket the primary created is
//     visible on every connection by the time its creator gets the 200, with no ack round trip;
//   - the primary's duties, keepalive, rebalance, intra-cluster and admin routes run only here: a thread
//     streams those requests to the main thread's private loopback listener (forwardRequest, as a
//     gateway forwards), which is cheap for what is control traffic;
//   - counters (one row per thread in a shared table), the PUT buffer budget and the conditional-PUT
//     lock table are SharedArrayBuffers made here and shared by all threads.
// Each thread has its own Piscina pool and buffer pools (buffers travel to the pool of their thread).
import path from 'node:path';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Node, NodeOptions } from '../cluster/node';
import type { MetaSet } from '../cluster/meta';
import type { Snode } from '../cluster/snode';
import type { TlsFiles } from './server';
import { intraTlsSettings, type IntraTlsSettings } from '../cluster/intra-tls';
import { lockTableBuffer } from '../target/conditions';
import { log } from '../util/log';

/** What the main thread posts after every metadata change. */
export interface MetaPost {
  set: MetaSet;
  secret: string;
  self: Snode;
  ready: boolean;
  /** Targets: the mountpaths as the main thread has them now (attach/detach change them at run time). */
  mountpaths: { path: string; direct: boolean; detaching: boolean }[];
}

/** workerData of an HTTP thread (http-thread.ts). */
export interface HttpThreadInit {
  index: number;
  host: string;
  port: number;
  mainPort: number;
  /** With TLS: the certificate files and the node's intra-cluster (plain) port, served here too. */
  tls?: TlsFiles;
  intraPort?: number;
  /** The intra-cluster port speaks HTTPS too (--intra-tls). */
  intraTls?: boolean;
  /** How this node verifies others over TLS (cluster/intra-tls.ts), set in each thread too. */
  tlsClient?: IntraTlsSettings;
  node: NodeOptions;
  meta: MetaPost;
  metaPort: MessagePort;
  metaGen: SharedArrayBuffer;
  locks: SharedArrayBuffer;
  logTag: string;
}

export class HttpThreads {
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly gen = new Int32Array(new SharedArrayBuffer(4));

  private constructor(private readonly node: Node) {}

  /** Starts `count` threads listening on host:port next to the main thread; resolves when all listen. */
  static async start(node: Node, opts: NodeOptions, count: number, host: string, port: number, mainPort: number, tls?: { files: TlsFiles; intraPort: number; intraTls: boolean }): Promise<HttpThreads> {
    const t = new HttpThreads(node);
    const mountpaths = node.isTarget ? node.target.mountpaths.map((m) => ({ path: m.path, direct: m.direct })) : [];
    const started: Promise<void>[] = [];
    // From now on: a change while the threads start is queued in their ports and taken at their start.
    node.onMetaChanged = () => t.publish();
    for (let i = 1; i <= count; i++) {
      const { port1, port2 } = new MessageChannel();
      const init: HttpThreadInit = {
        index: i,
        host,
        port,
        mainPort,
        ...(tls ? { tls: tls.files, intraPort: tls.intraPort, intraTls: tls.intraTls } : {}),
        ...(intraTlsSettings() ? { tlsClient: intraTlsSettings() } : {}),
        node: { ...opts, replica: { mountpaths, shared: { ...node.shared, statsRow: i } } },
        meta: t.post(),
        metaPort: port2,
        metaGen: t.gen.buffer as SharedArrayBuffer,
        locks: lockTableBuffer(),
        logTag: node.self.id,
      };
      const w = new Worker(path.join(__dirname, 'http-thread.js'), { workerData: init, transferList: [port2] });
      t.workers.push(w);
      t.ports.push(port1);
      started.push(
        new Promise<void>((resolve, reject) => {
          w.once('message', (m: { listening?: boolean }) => (m.listening ? resolve() : reject(new Error(`HTTP thread ${i}: ${JSON.stringify(m)}`))));
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`HTTP thread ${i} exited (${code}) before listening`)));
        }),
      );
      // A thread that dies later takes its connections with it; the node cannot serve half its clients.
      w.on('error', (err) => {
        log.error(`HTTP thread ${i}: ${err.stack ?? err.message}`);
        process.exit(1);
      });
    }
    await Promise.all(started);
    node.httpThreads = 1 + count;
    return t;
  }

  private post(): MetaPost {
    const n = this.node;
    const mountpaths = n.isTarget ? n.target.mountpaths.map((m) => ({ path: m.path, direct: m.direct, detaching: m.detaching })) : [];
    return { set: n.metaSet(), secret: n.secret, self: n.self, ready: n.ready, mountpaths };
  }

  /** Posts the current metadata to every thread, then bumps the generation they check per request. */
  private publish(): void {
    const m = this.post();
    for (const p of this.ports) p.postMessage(m);
    Atomics.add(this.gen, 0, 1);
  }

  get count(): number {
    return this.workers.length;
  }

  /** Each thread closes its uWS App and exits by itself (see http-thread.ts); terminate() only as a last resort. */
  async close(): Promise<void> {
    this.node.onMetaChanged = undefined;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => void w.terminate().finally(resolve), 5000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.postMessage('close');
          }),
      ),
    );
  }
}
