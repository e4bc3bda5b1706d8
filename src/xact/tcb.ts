// copy-bck and etl-bck (AIStore's "transform/copy bucket", TCB) on one target: it walks the objects of
// the source bucket that HRW gives it, reads each off its own disks (verified: read-verified.ts), runs
// it through the ETL if the job names one, and PUTs the result to the destination's owner (itself or
// another target) through that target's S3 PUT path, marked as forwarded: the destination gets its
// bucket's checksum and MD5 ETag, a work file and an atomic rename, as any PUT. A source that fails its
// checksum never reaches the destination whole (its last piece is held back until the hash matched, so
// the PUT ends short and is dropped). Every target works in parallel; errors are counted, the job goes on.
import type { Readable } from 'node:stream';
import type { Node } from '../cluster/node';
import type { BucketProps } from '../cluster/config';
import { listPage } from '../target/list';
import { log } from '../util/log';
import { etls } from '../etl/etl';
import { MAX_ETL_OBJECT } from '../etl/comm';
import { etlBytes } from '../etl/budget';
import { xactRegistry, Xaction } from './xaction';
import { expandTemplate, parseTemplate } from './template';
import { copySource, putToOwner } from './put-owner';

/** AIStore's TCBMsg, the fields tais acts on. */
export interface TcbMsg {
  prefix?: string;
  prepend?: string;
  dry_run?: boolean;
  'num-workers'?: number;
  /** ETL name (etl-bck). */
  id?: string;
  /** Replace name extensions: {"jpg":"png"}. */
  ext?: Record<string, string>;
  /** ETL arguments, sent with every object. */
  etl_args?: string;
  /** copy-objects / etl-objects (AIStore's TCO, "copy-listrange"): the objects by list or template. */
  objnames?: string[];
  template?: string;
}

export type TcbKind = 'copy-bucket' | 'etl-bucket' | 'copy-objects' | 'etl-objects';

const DEFAULT_WORKERS = 4;

/** Checks a message before any target starts. */
export function validateTcb(raw: unknown, kind: TcbKind): TcbMsg {
  const m = (raw ?? {}) as Record<string, unknown>;
  if (typeof m !== 'object' || Array.isArray(m)) throw new Error('the value must be a TCBMsg object ({"prefix":..., "prepend":..., "dry_run":...})');
  for (const k of ['latest-ver', 'synchronize', 'non-recurs'] as const) {
    if (m[k] === true) throw new Error(`"${k}" is not supported by tais`);
  }
  for (const k of ['prefix', 'prepend', 'id', 'etl_args'] as const) {
    if (m[k] !== undefined && typeof m[k] !== 'string') throw new Error(`${k} must be a string`);
  }
  if (m.dry_run !== undefined && typeof m.dry_run !== 'boolean') throw new Error('dry_run must be true or false');
  const w = m['num-workers'];
  if (w !== undefined && w !== 0 && (!Number.isInteger(w) || (w as number) < 1 || (w as number) > 64)) throw new Error('num-workers must be 1..64');
  if (m.ext !== undefined) {
    if (m.ext === null || typeof m.ext !== 'object' || Object.entries(m.ext).some(([k, v]) => k === '' || typeof v !== 'string' || v === '')) throw new Error('ext must map extensions to extensions: {"jpg":"png"}');
  }
  const etl = kind === 'etl-bucket' || kind === 'etl-objects';
  if (etl && !m.id) throw new Error('an ETL job needs the ETL name in "id"');
  if (!etl && m.id) throw new Error('a copy with an ETL ("id") is etl-bck / etl-listrange');
  const objs = kind === 'copy-objects' || kind === 'etl-objects';
  const hasList = m.objnames !== undefined;
  const hasTpl = typeof m.template === 'string' && m.template !== '';
  if (objs && hasList === hasTpl) throw new Error('give one of objnames and template');
  if (!objs && (hasList || hasTpl)) throw new Error('objnames and template are for copy-listrange / etl-listrange');
  if (hasList && (!Array.isArray(m.objnames) || m.objnames.some((n) => typeof n !== 'string' || n === ''))) throw new Error('objnames must be a list of object names');
  if (hasTpl && !parseTemplate(m.template as string)) throw new Error(`template "${String(m.template)}" has no range ({0000..0999}): use prefix with copy-bck`);
  return {
    ...(m.prefix ? { prefix: m.prefix as string } : {}),
    ...(m.prepend ? { prepend: m.prepend as string } : {}),
    ...(m.dry_run ? { dry_run: true } : {}),
    ...(w ? { 'num-workers': w as number } : {}),
    ...(m.id ? { id: m.id as string } : {}),
    ...(m.ext ? { ext: m.ext as Record<string, string> } : {}),
    ...(m.etl_args ? { etl_args: m.etl_args as string } : {}),
    ...(hasList ? { objnames: m.objnames as string[] } : {}),
    ...(hasTpl ? { template: m.template as string } : {}),
  };
}

/** The destination name of a source object. */
export function dstName(name: string, msg: TcbMsg): string {
  let out = name;
  if (msg.ext) {
    const dot = out.lastIndexOf('.');
    const ext = dot > out.lastIndexOf('/') ? out.slice(dot + 1) : undefined;
    if (ext !== undefined && Object.hasOwn(msg.ext, ext)) out = `${out.slice(0, dot)}.${msg.ext[ext]}`;
  }
  return (msg.prepend ?? '') + out;
}

export function startTcb(node: Node, kind: TcbKind, id: string, src: string, srcProps: BucketProps, dst: string, msg: TcbMsg): Xaction {
  const x = new Xaction(id, kind, src, srcProps.provider);
  xactRegistry.add(x);
  run(node, x, dst, msg)
    .catch((err: Error) => {
      x.lastErr = err.message;
      log.warn(`${kind}[${id}] ${src} => ${dst}: ${err.message}`);
    })
    .finally(() => x.finish());
  return x;
}

async function run(node: Node, x: Xaction, dst: string, msg: TcbMsg): Promise<void> {
  const provider = node.bmd.get(x.bucket)?.provider ?? 'ais';
  const mine = (name: string): boolean => node.smap.owner(x.bucket, name, provider)?.id === node.self.id;
  async function* names(): AsyncGenerator<string> {
    if (msg.objnames || msg.template) {
      for (const n of msg.objnames ?? expandTemplate(parseTemplate(msg.template!)!)) if (mine(n) && (!msg.prefix || n.startsWith(msg.prefix))) yield n;
      return;
    }
    let after = '';
    for (;;) {
      const page = await listPage(node.target, x.bucket, { prefix: msg.prefix ?? '', delimiter: '', after, maxKeys: 1000 });
      for (const e of page.entries) if (mine(e.key)) yield e.key;
      if (!page.truncated || x.aborted) return;
      after = page.last;
    }
  }
  const it = names();
  const worker = async (): Promise<void> => {
    for (;;) {
      if (x.aborted) return;
      const next = await it.next();
      if (next.done) return;
      try {
        await copyOne(node, x, dst, msg, next.value);
      } catch (err) {
        x.errs++;
        x.lastErr = `${next.value}: ${(err as Error).message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: msg['num-workers'] ?? DEFAULT_WORKERS }, worker));
}

async function copyOne(node: Node, x: Xaction, dst: string, msg: TcbMsg, name: string): Promise<void> {
  const h = node.target.openObject(x.bucket, name);
  if (!h) {
    if (msg.objnames || msg.template) throw new Error('does not exist'); // named, not listed
    return; // gone since it was listed
  }
  let release: (() => void) | undefined;
  try {
    let body: Buffer | Readable;
    let headers: Record<string, string> = {};
    if (msg.dry_run) {
      x.objs++;
      x.bytes += h.lom.size;
      return;
    }
    if (msg.id) {
      const etl = etls.get(msg.id);
      if (!etl) throw new Error(`ETL "${msg.id}" does not exist on target ${node.self.id}`);
      if (h.lom.size > MAX_ETL_OBJECT) throw new Error(`too large for an ETL (${h.lom.size} > ${MAX_ETL_OBJECT} bytes)`);
      release = await etlBytes.take(etl.budget(h.lom.size));
      body = await etl.transform({ bucket: x.bucket, objName: name, ...(await etl.input(h)), ...(msg.etl_args ? { args: msg.etl_args } : {}) });
    } else {
      ({ body, headers } = copySource(h));
    }
    const size = Buffer.isBuffer(body) ? body.length : h.lom.size;
    await putToOwner(node, dst, dstName(name, msg), body, { ...headers, 'content-length': String(size) }, 's3');
    x.objs++;
    x.bytes += size;
  } finally {
    release?.();
    node.target.closeObject(h);
  }
}
