// ais archive bucket: objects (a list or a template) into one .tar (or .tgz, .zip) shard, a job on the shard's owner
// target (PUT /v1/buckets/SRC {"action":"archive"}); files come back out with `ais get SHARD --archpath`.
import { UsageError, needArgs, type Command } from './command';
import { bpath, bucketArg } from './bucket';
import { listRangeValue, selection, waitJob } from './job';
import { bucketString, parseUri, providerQuery } from './format';
import { listCommand } from './ls';

const bucket: Command = {
  name: 'bucket',
  summary: 'put objects of a bucket into a .tar, .tgz or .zip shard (in the same or another bucket)',
  args: 'SRC_BUCKET DST_BUCKET/SHARD.tar|.tgz|.zip',
  description: 'Each object is read from its owner and checked against its checksum on the way; a shard is\nstored whole or not at all. Read a file back with: ais get BUCKET/SHARD.tar --archpath NAME OUT',
  options: {
    template: selection.template,
    list: selection.list,
    'base-name': { type: 'boolean', help: "members named by the object's base name only (bnonly)" },
    'include-src-bck': { type: 'boolean', help: 'members named SRC_BUCKET/OBJECT (isbn)' },
    'cont-on-err': { type: 'boolean', help: 'skip objects that do not exist (coer)' },
    wait: selection.wait,
  },
  examples: ['ais archive bucket ais://imgs ais://shards/train-0000.tar --template "img-{0000..0999}.jpg" --wait', 'ais archive bucket ais://docs ais://docs/all.tar --list a.txt,b.txt'],
  async run(ctx, pos, flags) {
    const p = 'ais archive bucket';
    needArgs(pos, 2, 2, 'source bucket and destination shard (BUCKET/SHARD.tar)', p);
    const src = bucketArg(pos[0]!, p);
    let dst;
    try {
      dst = parseUri(pos[1]!);
    } catch (err) {
      throw new UsageError((err as Error).message, p);
    }
    if (dst.obj === '') throw new UsageError(`"${pos[1]}": expected BUCKET/SHARD.tar`, p);
    const value: Record<string, unknown> = { archname: dst.obj, tobck: { name: dst.bucket.name, provider: dst.bucket.provider }, ...listRangeValue(flags, p) };
    if (value.objnames === undefined && value.template === undefined) throw new UsageError('give one of --template and --list', p);
    if (flags['base-name']) value.bnonly = true;
    if (flags['include-src-bck']) value.isbn = true;
    if (flags['cont-on-err']) value.coer = true;
    const r = await ctx.api.call('PUT', bpath(src), { query: providerQuery(src), json: { action: 'archive', value } });
    const id = r.body.toString('utf8').trim();
    ctx.out(`archive[${id}]: ${bucketString(src)} => ${bucketString(dst.bucket)}/${dst.obj}. To monitor the progress, run 'ais show job ${id}'`);
    if (flags.wait) await waitJob(ctx, id);
  },
};

const ls: Command = {
  name: 'ls',
  summary: "list a shard's files (or every shard's, under a prefix): ais ls --archive",
  args: 'BUCKET[/SHARD.tar]',
  options: { 'no-headers': { type: 'boolean', short: 'H', help: 'no table headers and footers' }, json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  examples: ['ais archive ls ais://shards/train-0000.tar'],
  run: (ctx, pos, flags) => listCommand.run!(ctx, pos, { ...flags, archive: true }),
};

export const archiveCommand: Command = {
  name: 'archive',
  summary: 'create .tar, .tgz or .zip shards of objects, list their files (read them with ais get --archpath or --archregx)',
  sub: [bucket, ls],
};
