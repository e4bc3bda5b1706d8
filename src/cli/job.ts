// ais prefetch | evict (list/range jobs on s3:// buckets), ais show job [ID], ais stop job ID.
import { CliError, UsageError, needArgs, type Command, type Ctx, type Flags } from './command';
import { bpath } from './bucket';
import { ZERO_TIME, type XactSnap } from '../xact/xaction';
import { bucketString, parseUri, providerQuery, sizeIEC, table, type BucketName } from './format';

/** The flags that name a job's objects, and its workers and --wait (also copy, transform, delete, archive). */
export const selection = {
  prefix: { type: 'string', arg: 'PREFIX', help: 'objects whose names start with PREFIX' },
  template: { type: 'string', arg: 'TEMPLATE', help: 'names from a range template, e.g. "shard-{0000..0999}.tar"' },
  list: { type: 'string', arg: 'NAMES', help: 'comma-separated object names' },
  'num-workers': { type: 'string', arg: 'N', help: 'objects in flight per target (default 4)' },
  wait: { type: 'boolean', help: 'wait for the job to finish, then print its totals' },
} as const;

/** Those flags as AIStore's ListRange value: objnames, template or prefix, and num-workers. */
export function listRangeValue(flags: Flags, path: string): Record<string, unknown> {
  const given = ['prefix', 'template', 'list'].filter((f) => typeof flags[f] === 'string');
  if (given.length > 1) throw new UsageError(`give one of --prefix, --template, --list (got --${given.join(', --')})`, path);
  const v: Record<string, unknown> = {};
  if (typeof flags.prefix === 'string') v.prefix = flags.prefix;
  if (typeof flags.template === 'string') v.template = flags.template;
  if (typeof flags.list === 'string') v.objnames = flags.list.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (typeof flags['num-workers'] === 'string') {
    const n = Number(flags['num-workers']);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`invalid --num-workers "${flags['num-workers']}" (1..64)`, path);
    v['num-workers'] = n;
  }
  return v;
}

function remoteBucket(arg: string, path: string): BucketName {
  let r;
  try {
    r = parseUri(arg);
  } catch (err) {
    throw new UsageError((err as Error).message, path);
  }
  if (r.obj !== '') throw new UsageError(`"${arg}" names an object; expected a bucket (use --list or --prefix for objects)`, path);
  return r.bucket;
}

function what(flags: Flags): string {
  if (typeof flags.list === 'string') return `[${flags.list}]`;
  if (typeof flags.template === 'string') return `"${flags.template}"`;
  if (typeof flags.prefix === 'string') return `prefix "${flags.prefix}"`;
  return 'all objects';
}

async function startJob(ctx: Ctx, kind: 'prefetch' | 'evict', pos: string[], flags: Flags): Promise<void> {
  const path = `ais ${kind}`;
  needArgs(pos, 1, 1, 'bucket (e.g. s3://data)', path);
  const b = remoteBucket(pos[0]!, path);
  const value = listRangeValue(flags, path);
  const r =
    kind === 'prefetch'
      ? await ctx.api.call('POST', bpath(b), { query: providerQuery(b), json: { action: 'prefetch-listrange', value } })
      : await ctx.api.call('DELETE', bpath(b), { query: providerQuery(b), json: { action: 'evict-listrange', value } });
  const id = r.body.toString('utf8').trim();
  const xkind = kind === 'prefetch' ? 'prefetch-objects' : 'evict-objects';
  ctx.out(`${xkind}[${id}]: ${kind} ${what(flags)} ${kind === 'prefetch' ? 'from' : 'in'} ${bucketString(b)}. To monitor the progress, run 'ais show job ${id}'`);
  if (flags.wait) await waitJob(ctx, id);
}

/** Polls a job until every target's part has ended, then prints its table and totals. */
export async function waitJob(ctx: Ctx, id: string): Promise<void> {
  for (;;) {
    const snaps = await jobSnaps(ctx, id);
    if (snaps.every(([, s]) => s['end-time'] !== ZERO_TIME)) {
      printJob(ctx, snaps, false);
      if (snaps.some(([, s]) => Number(s.stats['err-objs']) > 0)) throw new CliError(`job ${id} finished with errors`);
      return;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

async function jobSnaps(ctx: Ctx, id: string | undefined): Promise<[string, XactSnap][]> {
  const r = await ctx.api.call('GET', '/v1/cluster', { query: { what: 'qryxstats', ...(id ? { id } : {}) }, allow404: true });
  if (r.status === 404) throw new CliError(`job "${id}" does not exist`);
  const byTarget = JSON.parse(r.body.toString('utf8')) as Record<string, XactSnap[]>;
  const out: [string, XactSnap][] = [];
  for (const tid of Object.keys(byTarget).sort()) for (const s of byTarget[tid]!) out.push([tid, s]);
  return out;
}

function state(s: XactSnap): string {
  if (s.aborted) return 'Aborted';
  if (s['end-time'] === ZERO_TIME) return 'Running';
  return s.err ? 'Finished (with errors)' : 'Finished';
}

const hhmmss = (t: string): string => (t === ZERO_TIME ? '-' : new Date(t).toISOString().slice(11, 19));

function printJob(ctx: Ctx, snaps: [string, XactSnap][], noHeaders: boolean): void {
  const rows = snaps.map(([tid, s]) => [
    tid,
    s.id,
    s.kind,
    bucketString({ provider: s.bck.provider === 'aws' ? 'aws' : 'ais', name: s.bck.name }),
    s.stats['loc-objs'],
    sizeIEC(Number(s.stats['loc-bytes'])),
    s.stats['err-objs'],
    hhmmss(s['start-time']),
    hhmmss(s['end-time']),
    state(s),
  ]);
  ctx.out(table(['NODE', 'ID', 'KIND', 'BUCKET', 'OBJECTS', 'BYTES', 'ERRORS', 'START', 'END', 'STATE'], rows, noHeaders));
  if (noHeaders) return;
  const ids = new Set(snaps.map(([, s]) => s.id));
  if (ids.size === 1) {
    const objs = snaps.reduce((n, [, s]) => n + Number(s.stats['loc-objs']), 0);
    const bytes = snaps.reduce((n, [, s]) => n + Number(s.stats['loc-bytes']), 0);
    const done = snaps.every(([, s]) => s['end-time'] !== ZERO_TIME);
    ctx.out(`Total: ${objs} object${objs === 1 ? '' : 's'}, ${sizeIEC(bytes)}${done ? ' ✓' : ''}`);
  }
  for (const [tid, s] of snaps) if (s.err) ctx.out(`${tid}: ${s.err}`);
}

export const prefetchCommand: Command = {
  name: 'prefetch',
  summary: 'fetch objects of a remote bucket into the cluster (a job on every target)',
  args: 'BUCKET',
  options: selection,
  examples: ['ais prefetch s3://data --prefix train/', 'ais prefetch s3://data --template "shard-{0000..0999}.tar"', 'ais prefetch s3://data --list a.jpg,b.jpg --wait'],
  run: (ctx, pos, flags) => startJob(ctx, 'prefetch', pos, flags),
};

export const evictCommand: Command = {
  name: 'evict',
  summary: "remove cached copies of a remote bucket's objects from the cluster (the remote keeps them)",
  args: 'BUCKET',
  description:
    'Without --prefix, --template or --list the whole bucket is evicted: its cached objects and, unless\n--keep-md, the bucket itself (it is detached from the cluster; the remote keeps everything).',
  options: { ...selection, 'keep-md': { type: 'boolean', short: 'k', help: 'evicting the whole bucket: keep it attached (its props), drop only the cached objects' } },
  examples: ['ais evict s3://data --prefix train/', 'ais evict s3://data --template "shard-{0000..0099}.tar"', 'ais evict s3://data --keep-md', 'ais evict s3://data'],
  async run(ctx, pos, flags) {
    const whole = flags.prefix === undefined && flags.template === undefined && flags.list === undefined;
    if (!whole) return startJob(ctx, 'evict', pos, flags);
    needArgs(pos, 1, 1, 'bucket (e.g. s3://data)', 'ais evict');
    const b = remoteBucket(pos[0]!, 'ais evict');
    const keep = Boolean(flags['keep-md']);
    const r = await ctx.api.call('DELETE', bpath(b), { query: providerQuery(b), json: { action: 'evict-remote-bck', value: keep } });
    if (!keep) return ctx.out(`Evicted bucket ${bucketString(b)} from aistore`);
    const id = r.body.toString('utf8').trim();
    // The contents go in a job on every target; wait for it, so "empty" is true when printed.
    for (;;) {
      const snaps = await jobSnaps(ctx, id);
      if (snaps.every(([, s]) => s['end-time'] !== ZERO_TIME)) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    ctx.out(`Evicted ${bucketString(b)} contents from aistore: the bucket is now empty`);
  },
};

const showJob: Command = {
  name: 'job',
  summary: "show jobs (all, or one by ID): each target's part and the total",
  args: '[JOB_ID]',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' }, 'no-headers': { type: 'boolean', short: 'H', help: 'no table headers and footers' } },
  examples: ['ais show job', 'ais show job MV4ex8u6h --json'],
  async run(ctx, pos, flags) {
    needArgs(pos, 0, 1, '', 'ais show job');
    const snaps = await jobSnaps(ctx, pos[0]);
    if (flags.json) return ctx.out(JSON.stringify(Object.fromEntries(groupBy(snaps)), null, 2));
    if (snaps.length === 0) return ctx.out('No jobs.');
    printJob(ctx, snaps, Boolean(flags['no-headers']));
  },
};

function groupBy(snaps: [string, XactSnap][]): Map<string, XactSnap[]> {
  const m = new Map<string, XactSnap[]>();
  for (const [tid, s] of snaps) m.set(tid, [...(m.get(tid) ?? []), s]);
  return m;
}

export const showJobCommand = showJob;

const stopJob: Command = {
  name: 'job',
  summary: 'stop a job on every target',
  args: 'JOB_ID',
  examples: ['ais stop job MV4ex8u6h'],
  async run(ctx, pos) {
    needArgs(pos, 1, 1, 'job ID', 'ais stop job');
    await ctx.api.call('PUT', '/v1/cluster', { json: { action: 'stop', value: { id: pos[0] } } });
    ctx.out(`Stopped job ${pos[0]}`);
  },
};

export const stopCommand: Command = { name: 'stop', summary: 'stop jobs', sub: [stopJob] };
