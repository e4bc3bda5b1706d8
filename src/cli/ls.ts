// ais ls: the buckets of the cluster, or the objects of one bucket page by page (--prefix, --props,
// --limit, --page-size, --paged, --nr).
import { UsageError, intFlag, needArgs, type Command, type Ctx, type Flags } from './command';
import { bucketString, parseUri, providerQuery, sizeIEC, table, type BucketName } from './format';

interface LsoEntryJson {
  name: string;
  checksum?: string;
  atime?: string;
  version?: string;
  location?: string;
  'custom-md'?: string;
  size?: string;
  copies?: number;
  flags?: number;
}

interface LsoResJson {
  uuid: string;
  continuation_token: string;
  entries: LsoEntryJson[] | null;
}

const ALL_PROPS = ['name', 'size', 'checksum', 'atime', 'version', 'copies', 'custom', 'location', 'cached'];
const COLUMNS: Record<string, [string, (e: LsoEntryJson) => string]> = {
  name: ['NAME', (e) => e.name],
  size: ['SIZE', (e) => ((e.flags ?? 0) & 256 ? '' : sizeIEC(Number(e.size ?? 0)))],
  checksum: ['CHECKSUM', (e) => e.checksum || '-'],
  atime: ['ATIME', (e) => e.atime || '-'],
  version: ['VERSION', (e) => e.version || '-'],
  copies: ['COPIES', (e) => String(e.copies ?? '-')],
  custom: ['CUSTOM', (e) => e['custom-md'] || '-'],
  location: ['LOCATION', (e) => e.location || '-'],
  cached: ['CACHED', (e) => ((e.flags ?? 0) & CACHED_FLAG ? 'yes' : 'no')],
};
const CACHED_FLAG = 64;
const LS_CACHED = 1;
const DIR_FLAG = 256;
const LS_NO_RECURSION = 2048;
const LS_ARCH_DIR = 8;

export const listCommand: Command = {
  name: 'ls',
  summary: 'list buckets, or the objects of a bucket',
  args: '[BUCKET | PROVIDER://]',
  options: {
    prefix: { type: 'string', arg: 'PREFIX', help: 'only objects whose names start with PREFIX' },
    props: { type: 'string', arg: 'PROPS', help: `comma-separated object props to show (${ALL_PROPS.join(',')}) or "all" (default: name,size)` },
    limit: { type: 'string', arg: 'N', help: 'list at most N objects (0: all)' },
    'page-size': { type: 'string', arg: 'N', help: 'objects per page requested from the cluster (default and maximum 10000)' },
    paged: { type: 'boolean', help: 'print each page as it arrives, with a page footer' },
    nr: { type: 'boolean', help: 'non-recursive: objects and virtual directories directly under the prefix' },
    archive: { type: 'boolean', help: 'list the files inside .tar shards too (as SHARD.tar/FILE)' },
    cached: { type: 'boolean', help: 'remote (s3://) buckets: only the objects that are in the cluster (the remote is not asked)' },
    inventory: { type: 'boolean', help: 'remote (s3://) buckets: list from the bucket\'s S3 inventory (CSV) instead of ListObjects calls' },
    'inv-name': { type: 'string', arg: 'NAME', help: 'with --inventory: the inventory\'s destination prefix in the bucket (default .inventory), or s3://DEST[/PREFIX]' },
    'inv-id': { type: 'string', arg: 'ID', help: 'with --inventory: the inventory configuration ID (default: the newest inventory of any)' },
    json: { type: 'boolean', short: 'j', help: 'print JSON' },
    'no-headers': { type: 'boolean', short: 'H', help: 'no table headers and footers' },
  },
  examples: ['ais ls', 'ais ls ais://demo', 'ais ls ais://demo --prefix train/ --props name,size,checksum --limit 100', 'ais ls ais://demo --page-size 1000 --paged', 'ais ls s3://data --props name,size,cached', 'ais ls s3://data --cached', 'ais ls s3://data --inventory --paged'],
  async run(ctx, pos, flags) {
    const path = 'ais ls';
    needArgs(pos, 0, 1, '', path);
    const arg = pos[0];
    if (arg === undefined || /^[a-z0-9]+:(\/\/)?$/i.test(arg)) return listBuckets(ctx, arg, flags, path);
    let r;
    try {
      r = parseUri(arg);
    } catch (err) {
      throw new UsageError((err as Error).message, path);
    }
    // "ais ls ais://b/prefix" lists under the prefix, as AIStore's CLI does.
    const prefix = typeof flags.prefix === 'string' ? flags.prefix : r.obj;
    return listObjects(ctx, r.bucket, prefix, flags, path);
  },
};

async function listBuckets(ctx: Ctx, arg: string | undefined, flags: Flags, path: string): Promise<void> {
  const scheme = arg?.replace(/:(\/\/)?$/, '').toLowerCase();
  let provider: BucketName['provider'] = 'ais';
  if (scheme !== undefined) {
    if (scheme === 's3' || scheme === 'aws') provider = 'aws';
    else if (scheme !== 'ais') throw new UsageError(`unknown provider "${arg}" (valid: ais://, s3://, aws://)`, path);
  }
  const r = await ctx.api.call('GET', '/v1/buckets/', { query: provider === 'ais' ? {} : { provider }, json: { action: 'list' } });
  const list = JSON.parse(r.body.toString('utf8')) as { name: string; provider: string }[];
  if (flags.json) return ctx.out(JSON.stringify(list, null, 2));
  if (list.length === 0) return ctx.out(`No "${provider === 'aws' ? 's3' : 'ais'}://" buckets in the cluster.`);
  ctx.out(table(['NAME', 'PRESENT'], list.map((b) => [bucketString({ provider: b.provider === 'aws' ? 'aws' : 'ais', name: b.name }), 'yes']), Boolean(flags['no-headers'])));
}

async function listObjects(ctx: Ctx, b: BucketName, prefix: string, flags: Flags, path: string): Promise<void> {
  const limit = intFlag(flags, 'limit', path) ?? 0;
  const pageSize = intFlag(flags, 'page-size', path) ?? 0;
  const props = typeof flags.props === 'string' ? (flags.props === 'all' ? ALL_PROPS : ['name', ...flags.props.split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'name')]) : ['name', 'size'];
  for (const p of props) if (!COLUMNS[p]) throw new UsageError(`unknown object property "${p}" in --props (valid: ${ALL_PROPS.join(', ')}, all)`, path);
  const noHeaders = Boolean(flags['no-headers']);
  const render = (entries: LsoEntryJson[]): string => table(props.map((p) => COLUMNS[p]![0]), entries.map((e) => props.map((p) => COLUMNS[p]![1](e))), noHeaders);
  if ((flags['inv-name'] !== undefined || flags['inv-id'] !== undefined) && !flags.inventory) throw new UsageError('--inv-name and --inv-id go with --inventory', path);
  if (flags.inventory && flags.cached) throw new UsageError('--inventory lists the remote bucket; --cached lists the cluster: use one', path);
  const invHeaders: Record<string, string> = flags.inventory ? { 'Ais-Bucket-Inventory': 'true' } : {};
  if (typeof flags['inv-name'] === 'string') invHeaders['Ais-Inv-Name'] = flags['inv-name'];
  if (typeof flags['inv-id'] === 'string') invHeaders['Ais-Inv-Id'] = flags['inv-id'];
  const all: LsoEntryJson[] = [];
  let token = '';
  let uuid = '';
  let page = 0;
  let listed = 0;
  const started = Date.now();
  for (;;) {
    const want = limit > 0 ? Math.min(limit - listed, pageSize || Infinity) : pageSize;
    const value = {
      props: props.join(','),
      prefix,
      uuid,
      continuation_token: token,
      pagesize: Number.isFinite(want) ? want : 0,
      flags: String((flags.nr ? LS_NO_RECURSION : 0) | (flags.cached ? LS_CACHED : 0) | (flags.archive ? LS_ARCH_DIR : 0)),
    };
    const r = await ctx.api.call('GET', `/v1/buckets/${encodeURIComponent(b.name)}`, { query: providerQuery(b), json: { action: 'list', value }, headers: invHeaders });
    const invTime = r.headers['ais-inv-time'];
    if (page === 0 && typeof invTime === 'string' && !flags.json) {
      const age = (Date.now() - Date.parse(invTime)) / 3_600_000;
      process.stderr.write(`Listing from the S3 inventory of ${invTime} (${age < 1 ? 'under an hour' : `${Math.floor(age)} h`} old)\n`);
    }
    const res = JSON.parse(r.body.toString('utf8')) as LsoResJson;
    let entries = res.entries ?? [];
    if (limit > 0 && listed + entries.length > limit) entries = entries.slice(0, limit - listed);
    listed += entries.length;
    page++;
    uuid = res.uuid;
    token = res.continuation_token;
    const more = token !== '' && (limit === 0 || listed < limit);
    if (flags.paged) {
      if (flags.json) ctx.out(JSON.stringify({ page, entries }, null, 2));
      else {
        if (entries.length) ctx.out(render(entries));
        if (!noHeaders) ctx.out(`Page ${page}: ${entries.length} name${entries.length === 1 ? '' : 's'}`);
      }
    } else all.push(...entries);
    if (!more) break;
  }
  if (flags.paged) return;
  if (flags.json) return ctx.out(JSON.stringify(all, null, 2));
  if (all.length || !noHeaders) ctx.out(render(all));
  if (!noHeaders) {
    const dirs = all.filter((e) => ((e.flags ?? 0) & DIR_FLAG) !== 0).length;
    const secs = (Date.now() - started) / 1000;
    ctx.out(`Listed ${all.length - dirs} name${all.length - dirs === 1 ? '' : 's'}${dirs ? ` and ${dirs} virtual directories` : ''}${secs >= 1 ? ` in ${secs.toFixed(2)}s` : ''}`);
  }
}
