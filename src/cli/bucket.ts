// ais bucket create | rm | ls | props show | props set | props reset (and the aliases ais create, ais rmb).
import { CliError, UsageError, needArgs, type Command, type Ctx, type Flags } from './command';
import { bucketString, flattenProps, parseKeyValues, parseUri, providerQuery, table, type BucketName } from './format';
import { listCommand } from './ls';

export function bucketArg(arg: string, path: string): BucketName {
  let r;
  try {
    r = parseUri(arg);
  } catch (err) {
    throw new UsageError((err as Error).message, path);
  }
  if (r.obj !== '') throw new UsageError(`"${arg}" names an object; expected a bucket (e.g. ${bucketString(r.bucket)})`, path);
  return r.bucket;
}

export function bpath(b: BucketName): string {
  return `/v1/buckets/${encodeURIComponent(b.name)}`;
}

/** "a.b=c" pairs → {a:{b:"c"}} as set-bprops and create-bck take them. */
export function nestProps(pairs: [string, string][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of pairs) {
    const parts = k.split('.');
    let o = out;
    for (const p of parts.slice(0, -1)) o = (o[p] ??= {}) as Record<string, unknown>;
    o[parts[parts.length - 1]!] = v;
  }
  return out;
}

/** The bucket's props (HEAD → Ais-Bucket-Props); a clear error when it does not exist. */
export async function bucketProps(ctx: Ctx, b: BucketName): Promise<Record<string, unknown>> {
  const r = await ctx.api.call('HEAD', bpath(b), { query: providerQuery(b), allow404: true });
  if (r.status === 404) throw new CliError(`bucket "${bucketString(b)}" does not exist`);
  const h = r.headers['ais-bucket-props'];
  if (typeof h !== 'string') throw new CliError('the cluster sent no bucket props (Ais-Bucket-Props)');
  return JSON.parse(h) as Record<string, unknown>;
}

function propRows(props: Record<string, unknown>): [string, string][] {
  return flattenProps(props).map(([k, v]) => [k, k === 'created' && /^\d+$/.test(v) ? new Date(Number(v)).toISOString() : v]);
}

const create: Command = {
  name: 'create',
  summary: 'create ais:// buckets, or attach s3:// (aws://) buckets to the cluster',
  args: 'BUCKET [BUCKET...]',
  options: { props: { type: 'string', arg: "'K=V [K=V...]'", help: "bucket props to create with, e.g. --props 'checksum.type=md5'" } },
  examples: [
    'ais bucket create ais://demo',
    "ais bucket create ais://b1 ais://b2 --props 'checksum.type=sha256'",
    "ais bucket create s3://data --props 'extra.aws.endpoint=http://minio:9000 extra.aws.cloud_region=us-east-1'",
  ],
  async run(ctx, pos, flags) {
    const path = 'ais bucket create';
    needArgs(pos, 1, Infinity, 'bucket name (e.g. ais://demo)', path);
    const buckets = pos.map((a) => bucketArg(a, path));
    let value: Record<string, unknown> | undefined;
    if (typeof flags.props === 'string') {
      try {
        value = nestProps(parseKeyValues(flags.props.split(/\s+/).filter((s) => s !== '')));
      } catch (err) {
        throw new UsageError(`--props: ${(err as Error).message}`, path);
      }
    }
    for (const b of buckets) {
      await ctx.api.call('POST', bpath(b), { query: providerQuery(b), json: { action: 'create-bck', ...(value ? { value } : {}) } });
      ctx.out(b.provider === 'aws' ? `"${bucketString(b)}" bucket added to the cluster (remote, cached in-cluster)` : `"${bucketString(b)}" bucket created`);
    }
  },
};

const rm: Command = {
  name: 'rm',
  summary: 'destroy buckets with all their objects',
  args: 'BUCKET [BUCKET...]',
  examples: ['ais bucket rm ais://demo'],
  async run(ctx, pos) {
    const path = 'ais bucket rm';
    needArgs(pos, 1, Infinity, 'bucket name (e.g. ais://demo)', path);
    for (const b of pos.map((a) => bucketArg(a, path))) {
      await ctx.api.call('DELETE', bpath(b), { query: providerQuery(b), json: { action: 'destroy-bck' } });
      ctx.out(`"${bucketString(b)}" bucket destroyed`);
    }
  },
};

const propsShow: Command = {
  name: 'show',
  summary: "show a bucket's props (all, or one section)",
  args: 'BUCKET [SECTION]',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  examples: ['ais bucket props show ais://demo', 'ais bucket props show ais://demo checksum --json'],
  async run(ctx, pos, flags) {
    const path = 'ais bucket props show';
    needArgs(pos, 1, 2, 'bucket name (e.g. ais://demo)', path);
    const b = bucketArg(pos[0]!, path);
    const props = await bucketProps(ctx, b);
    const section = pos[1];
    let rows = propRows(props);
    if (section !== undefined) {
      rows = rows.filter(([k]) => k === section || k.startsWith(`${section}.`));
      if (rows.length === 0) throw new UsageError(`no such bucket props section "${section}" (sections: ${[...new Set(propRows(props).map(([k]) => k.split('.')[0]))].join(', ')})`, path);
    }
    if (flags.json) {
      const obj = section === undefined ? props : section.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], props);
      ctx.out(JSON.stringify(section === undefined ? obj : { [section]: obj }, null, 2));
    } else ctx.out(table(['PROPERTY', 'VALUE'], rows));
  },
};

const propsSet: Command = {
  name: 'set',
  summary: 'change bucket props: KEY=VALUE (or KEY VALUE) pairs',
  args: 'BUCKET KEY=VALUE [KEY=VALUE...]',
  description: 'Props: checksum.type (xxhash, md5, sha256, sha512, crc32c, none), checksum.validate_warm_get (true|false),\nchecksum.md5_etag (true|false). The change is in the cluster\'s bucket metadata: every node has it at once.',
  examples: ['ais bucket props set ais://demo checksum.type=md5', 'ais bucket props set ais://demo checksum.validate_warm_get false'],
  async run(ctx, pos, flags: Flags) {
    void flags;
    const path = 'ais bucket props set';
    needArgs(pos, 2, Infinity, pos.length === 0 ? 'bucket name (e.g. ais://demo)' : 'KEY=VALUE (e.g. checksum.type=md5)', path);
    const b = bucketArg(pos[0]!, path);
    let pairs: [string, string][];
    try {
      pairs = parseKeyValues(pos.slice(1));
    } catch (err) {
      throw new UsageError((err as Error).message, path);
    }
    const before = new Map(propRows(await bucketProps(ctx, b)));
    const r = await ctx.api.call('PATCH', bpath(b), { query: providerQuery(b), json: { action: 'set-bprops', value: nestProps(pairs) } });
    const after = new Map(propRows(JSON.parse(r.body.toString('utf8')) as Record<string, unknown>));
    ctx.out('Bucket props successfully updated.');
    for (const [k] of pairs) ctx.out(`"${k}" set to: "${after.get(k) ?? ''}" (was: "${before.get(k) ?? ''}")`);
  },
};

const propsReset: Command = {
  name: 'reset',
  summary: "reset a bucket's props to the cluster config",
  args: 'BUCKET',
  async run(ctx, pos) {
    const path = 'ais bucket props reset';
    needArgs(pos, 1, 1, 'bucket name (e.g. ais://demo)', path);
    const b = bucketArg(pos[0]!, path);
    await ctx.api.call('PATCH', bpath(b), { query: providerQuery(b), json: { action: 'reset-bprops' } });
    ctx.out(`Bucket "${bucketString(b)}" props reset to the cluster's defaults.`);
  },
};

export const propsCommand: Command = {
  name: 'props',
  summary: 'show, set or reset bucket props',
  sub: [propsShow, propsSet, propsReset],
};

export const bucketCommand: Command = {
  name: 'bucket',
  summary: 'create, destroy and list buckets; show and change their props',
  sub: [create, rm, { ...listCommand, summary: 'list buckets, or the objects of a bucket (same as ais ls)' }, propsCommand],
};

export const createAlias: Command = { ...create, name: 'create', summary: 'create ais:// buckets (ais bucket create)' };
export const rmbAlias: Command = { ...rm, name: 'rmb', summary: 'destroy buckets (ais bucket rm)' };
