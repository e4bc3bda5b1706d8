// ais etl init | show | view-logs | stop | start | rm | object | bucket, and ais bucket cp (ais cp):
// ETLs and the copy / transform-bucket jobs, over /v1/etl and /v1/buckets.
import fs from 'node:fs';
import { CliError, UsageError, needArgs, type Command, type Ctx, type Flags } from './command';
import { bpath, bucketArg } from './bucket';
import { listRangeValue, selection, waitJob } from './job';
import { bucketString, encodePath, parseUri, providerQuery, sizeIEC, table, type BucketName } from './format';
import type { EtlInfo } from '../etl/etl';

function etlName(pos: string[], path: string, max = 1): string {
  needArgs(pos, 1, max, 'ETL name', path);
  return pos[0]!;
}

const init: Command = {
  name: 'init',
  summary: 'start an ETL on every target: a transformer each target runs (the command after --), or one already running (--endpoint)',
  args: '[-- COMMAND [ARG...]]',
  description:
    'Each target starts COMMAND with PORT (where it must listen), AIS_TARGET_URL and AIS_ETL_NAME in its\n' +
    'environment and waits for its GET /health; then objects go to it over a WebSocket at /ws (ws://, the\n' +
    "default) or as PUT /BUCKET/OBJECT (hpush://). --spec takes AIStore's spec as a JSON file instead of flags\n" +
    '(name, communication, runtime.command, runtime.env, endpoint, init_timeout, obj_timeout, argument).',
  options: {
    name: { type: 'string', arg: 'NAME', help: 'the ETL name: 6-32 lowercase letters, digits and "-"' },
    'comm-type': { type: 'string', arg: 'TYPE', help: 'ws:// (default) or hpush://' },
    endpoint: { type: 'string', arg: 'URL', help: 'a running transformer every target uses (http://host:port) instead of a command' },
    spec: { type: 'string', arg: 'FILE', help: 'the whole spec as JSON' },
    'init-timeout': { type: 'string', arg: 'DURATION', help: 'how long a target waits for the transformer (default 45s)' },
    'obj-timeout': { type: 'string', arg: 'DURATION', help: 'how long one object may take (default 10s)' },
    'arg-type': { type: 'string', arg: 'fqn', help: 'fqn: send the transformer the object\'s file path (checked against its checksum first) instead of its bytes' },
  },
  examples: ['ais etl init --name upper-case -- node dist/src/etl/example-transformer.js upper', 'ais etl init --name md5-sums --comm-type hpush:// -- node dist/src/etl/example-transformer.js md5', 'ais etl init --name shared-one --endpoint http://10.0.0.5:8000', 'ais etl init --spec spec.json'],
  async run(ctx, pos, flags) {
    const p = 'ais etl init';
    let spec: Record<string, unknown>;
    if (typeof flags.spec === 'string') {
      try {
        spec = JSON.parse(fs.readFileSync(flags.spec, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new CliError(`cannot read the spec ${flags.spec}: ${(err as Error).message} (a JSON file)`);
      }
      if (typeof flags.name === 'string') spec.name = flags.name;
    } else {
      if (typeof flags.name !== 'string') throw new UsageError('missing --name (or --spec FILE)', p);
      spec = { name: flags.name };
      if (pos.length) spec.runtime = { command: pos };
      if (typeof flags.endpoint === 'string') spec.endpoint = flags.endpoint;
      if (!pos.length && typeof flags.endpoint !== 'string') throw new UsageError('give the transformer: a command after "--", or --endpoint URL', p);
    }
    if (typeof flags['comm-type'] === 'string') spec.communication = flags['comm-type'];
    if (typeof flags['init-timeout'] === 'string') spec.init_timeout = flags['init-timeout'];
    if (typeof flags['obj-timeout'] === 'string') spec.obj_timeout = flags['obj-timeout'];
    if (typeof flags['arg-type'] === 'string') spec.argument = flags['arg-type'];
    await ctx.api.call('PUT', '/v1/etl', { json: spec });
    ctx.out(`ETL "${String(spec.name)}" is running on every target`);
  },
};

const show: Command = {
  name: 'show',
  aliases: ['ls'],
  summary: 'list ETLs, or show one (its spec and each target\'s part)',
  args: '[NAME]',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  async run(ctx, pos, flags) {
    needArgs(pos, 0, 1, '', 'ais etl show');
    if (pos[0] === undefined) {
      const list = JSON.parse((await ctx.api.call('GET', '/v1/etl')).body.toString('utf8')) as EtlInfo[];
      if (flags.json) return ctx.out(JSON.stringify(list, null, 2));
      if (list.length === 0) return ctx.out('No ETLs.');
      return ctx.out(table(['NAME', 'STAGE', 'OBJECTS', 'IN', 'OUT', 'ERRORS'], list.map((i) => [i.id, i.stage, String(i.obj_count), sizeIEC(i.in_bytes), sizeIEC(i.out_bytes), String(i.err_count)])));
    }
    const d = JSON.parse((await ctx.api.call('GET', `/v1/etl/${encodeURIComponent(pos[0])}`)).body.toString('utf8')) as { init_msg: unknown; targets: Record<string, EtlInfo> };
    if (flags.json) return ctx.out(JSON.stringify(d, null, 2));
    ctx.out(`spec: ${JSON.stringify(d.init_msg)}`);
    ctx.out(table(['TARGET', 'STAGE', 'PID', 'OBJECTS', 'IN', 'OUT', 'ERRORS', 'LAST ERROR'], Object.entries(d.targets).sort().map(([t, i]) => [t, i.stage, i.pid ? String(i.pid) : '-', String(i.obj_count), sizeIEC(i.in_bytes), sizeIEC(i.out_bytes), String(i.err_count), i.err ?? ''])));
  },
};

const logs: Command = {
  name: 'view-logs',
  aliases: ['logs'],
  summary: "print the transformer's output (the last 64 KiB on each target)",
  args: 'NAME',
  async run(ctx, pos) {
    const name = etlName(pos, 'ais etl view-logs');
    const all = JSON.parse((await ctx.api.call('GET', `/v1/etl/${encodeURIComponent(name)}/logs`)).body.toString('utf8')) as { target_id: string; logs: string }[];
    for (const l of all) ctx.out(`--- ${l.target_id} ---\n${l.logs.trimEnd()}`);
  },
};

function lifecycle(name: 'stop' | 'start' | 'rm', summary: string, done: string): Command {
  return {
    name,
    summary,
    args: 'NAME',
    async run(ctx, pos) {
      const etl = etlName(pos, `ais etl ${name}`);
      if (name === 'rm') await ctx.api.call('DELETE', `/v1/etl/${encodeURIComponent(etl)}`);
      else await ctx.api.call('POST', `/v1/etl/${encodeURIComponent(etl)}/${name}`);
      ctx.out(`ETL "${etl}" ${done}`);
    },
  };
}

const object: Command = {
  name: 'object',
  summary: 'get one object transformed by an ETL (to a file, or stdout with "-")',
  args: 'NAME BUCKET/OBJECT OUT|-',
  options: { args: { type: 'string', arg: 'ARGS', help: 'etl_args for the transformer' } },
  examples: ['ais etl object upper-case ais://docs/readme.txt -', 'ais etl object md5-sums ais://data/shard-0001.tar md5.txt'],
  async run(ctx, pos, flags) {
    const p = 'ais etl object';
    needArgs(pos, 3, 3, 'ETL name, object and output (- for stdout)', p);
    let r;
    try {
      r = parseUri(pos[1]!);
    } catch (err) {
      throw new UsageError((err as Error).message, p);
    }
    if (r.obj === '') throw new UsageError(`"${pos[1]}" names a bucket; expected BUCKET/OBJECT`, p);
    const query = { ...providerQuery(r.bucket), etl_name: pos[0]!, ...(typeof flags.args === 'string' ? { etl_args: flags.args } : {}) };
    const res = await ctx.api.call('GET', `/v1/objects/${encodeURIComponent(r.bucket.name)}/${encodePath(r.obj)}`, { query });
    if (pos[2] === '-') process.stdout.write(res.body);
    else fs.writeFileSync(pos[2]!, res.body);
  },
};

const tcbOptions = {
  ...selection,
  prepend: { type: 'string', arg: 'PREFIX', help: 'put PREFIX in front of every destination name' },
  'dry-run': { type: 'boolean', help: 'count what would be copied; write nothing' },
} as const;

async function startTcb(ctx: Ctx, bucketAction: 'copy-bck' | 'etl-bck', src: BucketName, dst: BucketName, flags: Flags, p: string, extra: Record<string, unknown>): Promise<void> {
  const value: Record<string, unknown> = { ...extra, ...listRangeValue(flags, p) };
  // A list or a template makes it AIStore's list/range job (copy-listrange, etl-listrange).
  const objects = value.objnames !== undefined || value.template !== undefined;
  const action = objects ? (bucketAction === 'copy-bck' ? 'copy-listrange' : 'etl-listrange') : bucketAction;
  if (typeof flags.prepend === 'string') value.prepend = flags.prepend;
  if (flags['dry-run']) value.dry_run = true;
  const bckTo = `${dst.provider}/@#/${dst.name}/`;
  const r = await ctx.api.call('POST', bpath(src), { query: { ...providerQuery(src), bck_to: bckTo }, json: { action, value } });
  const id = r.body.toString('utf8').trim();
  const kind = `${bucketAction === 'copy-bck' ? 'copy' : 'etl'}-${objects ? 'objects' : 'bucket'}`;
  ctx.out(`${kind}[${id}]: ${bucketString(src)} => ${bucketString(dst)}${flags['dry-run'] ? ' (dry run)' : ''}. To monitor the progress, run 'ais show job ${id}'`);
  if (flags.wait) await waitJob(ctx, id);
}

const bucket: Command = {
  name: 'bucket',
  summary: "transform a bucket's objects into another bucket (a job on every target)",
  args: 'NAME SRC_BUCKET DST_BUCKET',
  description: 'The destination is created if it does not exist (an ais:// bucket with the source\'s checksum props).',
  options: { ...tcbOptions, args: { type: 'string', arg: 'ARGS', help: 'etl_args for the transformer' } },
  examples: ['ais etl bucket upper-case ais://docs ais://docs-upper --wait', 'ais etl bucket md5-sums ais://data ais://sums --prefix train/'],
  async run(ctx, pos, flags) {
    const p = 'ais etl bucket';
    needArgs(pos, 3, 3, 'ETL name, source and destination buckets', p);
    await startTcb(ctx, 'etl-bck', bucketArg(pos[1]!, p), bucketArg(pos[2]!, p), flags, p, { id: pos[0], ...(typeof flags.args === 'string' ? { etl_args: flags.args } : {}) });
  },
};

export const etlCommand: Command = {
  name: 'etl',
  summary: 'transform objects on the fly (inline GET) or bucket to bucket, with transformers of your own',
  sub: [init, show, logs, lifecycle('stop', 'stop an ETL (its transformers are stopped; start runs it again)', 'stopped'), lifecycle('start', 'start a stopped ETL again', 'is running'), lifecycle('rm', 'stop and remove an ETL', 'removed'), object, bucket],
};

export const copyCommand: Command = {
  name: 'cp',
  summary: 'copy a bucket (or the objects under a prefix) into another bucket (a job on every target)',
  args: 'SRC_BUCKET DST_BUCKET',
  description: "The destination is created if it does not exist (an ais:// bucket with the source's checksum props).\nObjects keep their content type, user metadata and tags; the destination computes its own checksum and MD5.",
  options: tcbOptions,
  examples: ['ais cp ais://src ais://dst --wait', 'ais cp ais://src ais://dst --prefix train/ --prepend copy/', 'ais bucket cp ais://src ais://dst --dry-run --wait'],
  async run(ctx, pos, flags) {
    const p = 'ais cp';
    needArgs(pos, 2, 2, 'source and destination buckets', p);
    await startTcb(ctx, 'copy-bck', bucketArg(pos[0]!, p), bucketArg(pos[1]!, p), flags, p, {});
  },
};
