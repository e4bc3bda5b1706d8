// ais storage mountpath show|attach|detach: a target's mountpaths, through any gateway
// (`/v1/reverse/daemon/mountpaths` with `Ais-Node-Id`, as AIStore's CLI does). Attach and detach return
// at once; the resilver they start shows in `ais show rebalance`.
import { CliError, UsageError, needArgs, type Command } from './command';
import { table } from './format';
import type { MountpathList } from '../api/mountpaths';

function targetAndPath(arg: string | undefined, path: string): [string, string] {
  const i = arg?.indexOf('=') ?? -1;
  if (!arg || i <= 0 || i === arg.length - 1) throw new UsageError(`expected TARGET_ID=MOUNTPATH, got "${arg ?? ''}"`, path);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

const show: Command = {
  name: 'show',
  aliases: ['ls'],
  summary: "show targets' mountpaths",
  args: '[TARGET_ID]',
  async run(ctx, pos) {
    needArgs(pos, 0, 1, '', 'ais storage mountpath show');
    const smap = JSON.parse((await ctx.api.call('GET', '/v1/cluster', { query: { what: 'smap' } })).body.toString('utf8')) as { tmap: Record<string, unknown> };
    const ids = pos[0] ? [pos[0]] : Object.keys(smap.tmap).sort();
    for (const id of ids) {
      if (!smap.tmap[id]) throw new CliError(`target "${id}" is not in the cluster map`);
      const r = await ctx.api.call('GET', '/v1/reverse/daemon', { query: { what: 'mountpaths' }, headers: { 'Ais-Node-Id': id } });
      const l = JSON.parse(r.body.toString('utf8')) as MountpathList;
      ctx.out(`${id}:`);
      ctx.out(table(['MOUNTPATH', 'STATE'], [...l.available.map((p) => [p, 'attached']), ...l.waiting_dd.map((p) => [p, 'detaching'])]));
    }
  },
};

function change(name: 'attach' | 'detach'): Command {
  const method = name === 'attach' ? 'PUT' : 'DELETE';
  return {
    name,
    summary: `${name} a mountpath ${name === 'attach' ? 'to' : 'from'} a target (objects are resilvered in the background)`,
    args: 'TARGET_ID=MOUNTPATH',
    examples: [`ais storage mountpath ${name} ABCDEt8082=/data/mp3`],
    async run(ctx, pos) {
      const path = `ais storage mountpath ${name}`;
      needArgs(pos, 1, 1, 'TARGET_ID=MOUNTPATH', path);
      const [id, mp] = targetAndPath(pos[0], path);
      await ctx.api.call(method, '/v1/reverse/daemon/mountpaths', { json: { action: `${name}-mp`, value: mp }, headers: { 'Ais-Node-Id': id } });
      ctx.out(`Node "${id}" ${name === 'attach' ? 'now has' : 'is detaching'} mountpath "${mp}" (resilver: ais show rebalance)`);
    },
  };
}

export const storageCommand: Command = {
  name: 'storage',
  summary: 'mountpaths of the targets',
  sub: [{ name: 'mountpath', summary: 'show, attach and detach mountpaths', sub: [show, change('attach'), change('detach')] }],
};
