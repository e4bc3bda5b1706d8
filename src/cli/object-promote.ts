// ais object promote FILE|DIRECTORY BUCKET[/OBJECT_NAME|PREFIX]: files the targets can read (under their
// promote root) become objects, as a job (AIStore's CLI and API: POST /v1/objects/BUCKET
// {"action":"promote","name":SRC,"value":PromoteArgs}); the answer is the job's ID.
import path from 'node:path';
import { UsageError, needArgs, type Command } from './command';
import { bucketString, providerQuery } from './format';
import { objectArg } from './object-args';
import { waitJob } from './job';

export const promote: Command = {
  name: 'promote',
  summary: 'turn files the targets can read (under their promote root) into objects, as a job',
  args: 'FILE|DIRECTORY BUCKET[/OBJECT_NAME|PREFIX]',
  description:
    'The path is read by the targets, not by this command: it must be absolute and under the nodes\' promote root\n' +
    '(aisnode --promote-root; the playground\'s is data/promote). A directory\'s files are named PREFIX + their path\n' +
    'relative to it; one file is named OBJECT_NAME, or PREFIX + its name. When every target sees the same files\n' +
    '(a shared or local filesystem) each promotes the files it owns; otherwise each promotes all it sees.',
  options: {
    recursive: { type: 'boolean', short: 'r', help: 'include the files of subdirectories' },
    'overwrite-dst': { type: 'boolean', help: 'replace objects that exist (by default they are kept and the file skipped)' },
    'delete-src': { type: 'boolean', help: 'remove each file once its object is stored' },
    'target-id': { type: 'string', arg: 'ID', help: 'only this target reads the source (and sends each file to its owner)' },
    'not-file-share': { type: 'boolean', help: 'every target promotes all the files it sees (no file-share detection)' },
    wait: { type: 'boolean', help: 'wait for the job to finish, then print its totals' },
  },
  examples: [
    'ais object promote /var/lib/ais/promote/imagenet ais://train/imagenet/ -r',
    'ais object promote $PWD/data/promote/labels.csv ais://train/meta/labels.csv --wait',
  ],
  async run(ctx, pos, flags) {
    const p = 'ais object promote';
    needArgs(pos, 2, 2, pos.length === 0 ? 'source file or directory and destination (BUCKET[/PREFIX])' : 'destination (BUCKET[/OBJECT_NAME|PREFIX])', p);
    const src = pos[0]!;
    if (!path.isAbsolute(src)) throw new UsageError(`promoted source (file or directory) must have an absolute path: "${src}"`, p);
    const { bucket, obj } = objectArg(pos[1]!, p, false);
    const value = {
      src,
      obj,
      ...(typeof flags['target-id'] === 'string' ? { tid: flags['target-id'] } : {}),
      rcr: flags.recursive === true,
      ovw: flags['overwrite-dst'] === true,
      dls: flags['delete-src'] === true,
      notshr: flags['not-file-share'] === true,
    };
    const r = await ctx.api.call('POST', `/v1/objects/${encodeURIComponent(bucket.name)}`, { query: providerQuery(bucket), json: { action: 'promote', name: src, value } });
    const id = r.body.toString('utf8');
    ctx.out(`${value.rcr ? 'recursively ' : ''}promoted "${src}" => ${bucketString(bucket)}, xaction ID "${id}"`);
    if (flags.wait) await waitJob(ctx, id);
  },
};
