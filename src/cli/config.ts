// ais config cluster [SECTION | KEY=VALUE...]: show the cluster config or change it. A change goes to
// the primary, which versions it and pushes it to every node (PUT /v1/cluster/set-config?KEY=VALUE).
import { UsageError, type Command, type Ctx } from './command';
import { flattenProps, parseKeyValues, table } from './format';

async function clusterConfig(ctx: Ctx): Promise<Record<string, unknown>> {
  const r = await ctx.api.call('GET', '/v1/cluster', { query: { what: 'config' } });
  return JSON.parse(r.body.toString('utf8')) as Record<string, unknown>;
}

export function showConfig(ctx: Ctx, conf: Record<string, unknown>, section: string | undefined, json: boolean, path: string): void {
  const all = flattenProps(conf);
  let rows = all;
  if (section !== undefined) {
    rows = all.filter(([k]) => k === section || k.startsWith(`${section}.`));
    if (rows.length === 0) throw new UsageError(`no such config section or key "${section}" (sections: ${[...new Set(all.map(([k]) => k.split('.')[0]))].join(', ')})`, path);
  }
  if (json) {
    const obj = section === undefined ? conf : { [section]: section.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], conf) };
    ctx.out(JSON.stringify(obj, null, 2));
  } else ctx.out(table(['PROPERTY', 'VALUE'], rows));
}

const cluster: Command = {
  name: 'cluster',
  summary: 'show or change the cluster config',
  args: '[SECTION | KEY=VALUE [KEY=VALUE...] | features FEATURE [FEATURE...]]',
  description:
    'Without arguments: the whole config; with a SECTION (e.g. checksum): that section.\n' +
    'KEY=VALUE (or KEY VALUE) pairs change it on every node at once, e.g. checksum.type=md5.\n' +
    'Feature flags: S3-API-via-Root (S3 also at the root path), S3-Presigned-Request; "none" clears them.',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  examples: ['ais config cluster', 'ais config cluster checksum', 'ais config cluster checksum.type=md5', 'ais config cluster features S3-API-via-Root', 'ais config cluster features none'],
  async run(ctx, pos, flags) {
    const path = 'ais config cluster';
    if (pos.length === 0 || (pos.length === 1 && !pos[0]!.includes('='))) {
      return showConfig(ctx, await clusterConfig(ctx), pos[0], Boolean(flags.json), path);
    }
    let pairs: [string, string][];
    if (pos[0] === 'features') pairs = [['features', pos.slice(1).join(',')]];
    else {
      try {
        pairs = parseKeyValues(pos);
      } catch (err) {
        throw new UsageError((err as Error).message, path);
      }
    }
    const before = new Map(flattenProps(await clusterConfig(ctx)));
    const r = await ctx.api.call('PUT', '/v1/cluster/set-config', { query: Object.fromEntries(pairs) });
    const after = new Map(flattenProps(JSON.parse(r.body.toString('utf8')) as Record<string, unknown>));
    for (const [k] of pairs) ctx.out(`"${k}" set to: "${after.get(k) ?? ''}" (was: "${before.get(k) ?? ''}")`);
    ctx.out('\nCluster config updated');
  },
};

export const configCommand: Command = {
  name: 'config',
  summary: 'show and change the cluster config',
  sub: [cluster],
};
