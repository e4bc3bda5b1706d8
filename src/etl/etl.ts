// An ETL on one target: its transformer (a process this target started, or a shared endpoint), the
// connection to it, its stage and counters. AIStore's stages: Initializing → Running → Aborted (stopped
// or its transformer died; `start` runs it again) → gone (DELETE). Kept in memory, like the jobs: a
// target that restarts, or joins later, has no ETLs until they are initialized again.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { EtlSpec } from './spec';
import { HpushCommunicator, WsCommunicator, TransformError, type Communicator, type EtlTask } from './comm';
import { log } from '../util/log';
import { readWhole, verifyWhole } from '../xact/read-verified';
import type { ObjectHandle } from '../target/target';

const EMPTY = Buffer.alloc(0);

export type Stage = 'Initializing' | 'Running' | 'Aborted';

/** What `GET /v1/etl` lists, per target (AIStore's etl.Info plus the error of an aborted one). */
export interface EtlInfo {
  id: string;
  stage: Stage;
  obj_count: number;
  in_bytes: number;
  out_bytes: number;
  err_count: number;
  err?: string;
  pid?: number;
}

/** WebSockets per target to a ws:// transformer (AIStore: bundle_multiplier × 4 for offline jobs). */
const WS_CONNS = 4;
/** Transformer output kept for `ais etl view-logs`, per target. */
const LOG_TAIL = 64 << 10;

export class Etl {
  stage: Stage = 'Initializing';
  objs = 0;
  inBytes = 0;
  outBytes = 0;
  errs = 0;
  lastErr: string | undefined;
  private child: ChildProcess | undefined;
  private comm: Communicator | undefined;
  private logs = '';

  constructor(
    readonly spec: EtlSpec,
    private readonly targetUrl: string,
  ) {}

  /** Starts the transformer (if this target runs one) and waits for its /health. */
  async start(): Promise<void> {
    this.stage = 'Initializing';
    this.lastErr = undefined;
    let base = this.spec.endpoint;
    if (this.spec.runtime) {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      this.spawnChild(port);
    }
    const deadline = Date.now() + this.spec.initTimeoutMs;
    for (;;) {
      if (this.spec.runtime && !this.child) throw new Error(`the transformer exited during init${this.logTail()}`);
      if (await healthy(base!)) break;
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`the transformer at ${base} did not answer GET /health within ${this.spec.initTimeoutMs} ms${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.comm =
      this.spec.communication === 'ws://'
        ? new WsCommunicator(`${base!.replace(/^http/, 'ws')}/ws`, WS_CONNS, this.spec.objTimeoutMs)
        : new HpushCommunicator(base!, this.spec.objTimeoutMs);
    this.stage = 'Running';
  }

  /** Bytes of the node's ETL budget (etl/budget.ts) an object of `size` holds: its answer, and the object unless sent by path. */
  budget(size: number): number {
    return this.spec.argument === 'fqn' ? size : size * 2;
  }

  /**
   * What this ETL is sent of a stored object, read through its checksum (CorruptObject otherwise): its
   * bytes, or with `argument: "fqn"` its file's path once the whole file verified.
   */
  async input(h: ObjectHandle): Promise<Pick<EtlTask, 'body' | 'fqn' | 'size'>> {
    if (this.spec.argument !== 'fqn') return { body: await readWhole(h) };
    await verifyWhole(h);
    return { body: EMPTY, fqn: h.path, size: h.lom.size };
  }

  async transform(t: EtlTask): Promise<Buffer> {
    if (this.stage !== 'Running' || !this.comm) throw new TransformError(`ETL "${this.spec.name}" is not running (${this.stage}${this.lastErr ? `: ${this.lastErr}` : ''})`);
    try {
      const out = await this.comm.transform(t);
      this.objs++;
      this.inBytes += t.fqn ? (t.size ?? 0) : t.body.length;
      this.outBytes += out.length;
      return out;
    } catch (err) {
      this.errs++;
      this.lastErr = `${t.objName}: ${(err as Error).message}`;
      throw err;
    }
  }

  /** Aborted: the transformer process is killed, the connections closed. */
  stop(reason = 'stopped by user'): void {
    this.comm?.close();
    this.comm = undefined;
    this.kill();
    this.stage = 'Aborted';
    this.lastErr ??= reason;
  }

  info(): EtlInfo {
    return {
      id: this.spec.name,
      stage: this.stage,
      obj_count: this.objs,
      in_bytes: this.inBytes,
      out_bytes: this.outBytes,
      err_count: this.errs,
      ...(this.lastErr ? { err: this.lastErr } : {}),
      ...(this.child?.pid ? { pid: this.child.pid } : {}),
    };
  }

  logText(): string {
    return this.logs;
  }

  private spawnChild(port: number): void {
    const [cmd, ...args] = this.spec.runtime!.command;
    const child = spawn(cmd!, args, {
      env: { ...process.env, ...this.spec.runtime!.env, PORT: String(port), AIS_TARGET_URL: this.targetUrl, AIS_ETL_NAME: this.spec.name },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (b: Buffer): void => {
      this.logs = (this.logs + b.toString('utf8')).slice(-LOG_TAIL);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.on('error', (err) => keep(Buffer.from(`cannot start ${cmd}: ${err.message}\n`)));
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stage === 'Aborted') return;
      const why = `the transformer exited (${signal ?? `code ${code}`})`;
      log.warn(`etl ${this.spec.name}: ${why}`);
      this.lastErr = why;
      this.stop(why);
    });
  }

  private kill(): void {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 2000);
    force.unref();
    child.once('exit', () => clearTimeout(force));
  }

  private logTail(): string {
    const t = this.logs.trim();
    return t ? `; its output ends with: ${t.slice(-500)}` : '';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function healthy(base: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${base}/health`, { timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** The ETLs of this target, by name. Their transformer processes go when the target exits. */
export const etls = new Map<string, Etl>();

/**
 * Whether this target starts transformer commands (`runtime.command`): a node-local choice made when
 * aisnode starts (--etl-commands, AIS_ETL_COMMANDS=true), never over the API, because a command is
 * code run on the target by whoever may init an ETL. Off by default: an `endpoint` works either way.
 */
export const etlPolicy = { commands: false };

export function commandsRefused(name: string, targetId: string): string {
  return `ETL "${name}": target ${targetId} does not start transformer commands (start its aisnode with --etl-commands or AIS_ETL_COMMANDS=true, or run the transformer yourself and init with endpoint)`;
}

process.once('exit', () => {
  for (const e of etls.values()) e.stop('target exiting');
});
