// ais show cluster [smap|bmd|config|stats]: the nodes with their memory, capacity and uptime, the
// cluster map, bucket metadata or config.
import { UsageError, needArgs, type Command, type Ctx } from './command';
import { duration, sizeIEC, table } from './format';
import { showConfig } from './config';
import { showJobCommand } from './job';
import { showRebalance } from './rebalance';

interface NodeStatus {
  daemon_id: string;
  daemon_type?: string;
  primary?: boolean;
  uptime_ms?: number;
  mem?: { rss: number; total: number; free: number };
  cpu?: { load1: number; cores: number };
  capacity?: { used: number; avail: number; total: number; pct_used: number };
  error?: string;
}

interface SmapJson {
  version: string;
  uuid: string;
  tmap: Record<string, { daemon_id: string; public_net: { direct_url: string } }>;
  pmap: Record<string, { daemon_id: string; public_net: { direct_url: string } }>;
  proxy_si: { daemon_id: string } | null;
}

async function getJson<T>(ctx: Ctx, what: string): Promise<{ value: T; text: string }> {
  const r = await ctx.api.call('GET', '/v1/cluster', { query: { what } });
  const text = r.body.toString('utf8');
  // id_digest is an exact uint64: keep its digits when re-printing.
  return { value: JSON.parse(text.replace(/"id_digest":(\d+)/g, '"id_digest":"$1"')) as T, text };
}

const pct = (x: number): string => `${x.toFixed(2)}%`;

const cluster: Command = {
  name: 'cluster',
  summary: 'show the cluster: nodes, memory, capacity, uptime (or its smap, bmd, config, stats)',
  args: '[smap|bmd|config|stats]',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  examples: ['ais show cluster', 'ais show cluster smap --json'],
  async run(ctx, pos, flags) {
    const path = 'ais show cluster';
    needArgs(pos, 0, 1, '', path);
    const what = pos[0];
    if (what !== undefined && !['smap', 'bmd', 'config', 'stats'].includes(what)) throw new UsageError(`unknown "${what}" (valid: smap, bmd, config, stats)`, path);
    if (what === 'config') {
      const { value } = await getJson<Record<string, unknown>>(ctx, 'config');
      return showConfig(ctx, value, undefined, Boolean(flags.json), path);
    }
    if (what === 'bmd' || what === 'stats' || (what === 'smap' && flags.json)) {
      const r = await ctx.api.call('GET', '/v1/cluster', { query: { what } });
      const text = r.body.toString('utf8');
      return ctx.out(what === 'smap' ? text : JSON.stringify(JSON.parse(text), null, 2));
    }
    const { value: smap } = await getJson<SmapJson>(ctx, 'smap');
    const primary = smap.proxy_si?.daemon_id ?? '';
    const name = (id: string, t: 'p' | 't'): string => `${t}[${id}]${id === primary ? '[P]' : ''}`;
    if (what === 'smap') {
      const rows = [
        ...Object.values(smap.pmap).map((n) => [name(n.daemon_id, 'p'), 'proxy', n.public_net.direct_url]),
        ...Object.values(smap.tmap).map((n) => [name(n.daemon_id, 't'), 'target', n.public_net.direct_url]),
      ];
      ctx.out(table(['NODE', 'TYPE', 'PUBLIC URL'], rows));
      ctx.out(`\nSmap version ${smap.version}, cluster ${smap.uuid}`);
      return;
    }
    const { value: stats } = await getJson<Record<string, NodeStatus>>(ctx, 'stats');
    if (flags.json) return ctx.out(JSON.stringify({ smap, stats }, null, 2));
    const memUsed = (s: NodeStatus): string => (s.mem ? pct((s.mem.rss / s.mem.total) * 100) : '-');
    const memAvail = (s: NodeStatus): string => (s.mem ? sizeIEC(s.mem.free) : '-');
    const up = (s: NodeStatus): string => (s.uptime_ms !== undefined ? duration(s.uptime_ms) : s.error ? `unreachable: ${s.error}` : '-');
    const pids = Object.keys(smap.pmap).sort();
    const tids = Object.keys(smap.tmap).sort();
    if (pids.length) {
      ctx.out(table(['PROXY', 'MEM USED %', 'MEM AVAIL', 'UPTIME'], pids.map((id) => {
        const s = stats[id] ?? { daemon_id: id };
        return [name(id, 'p'), memUsed(s), memAvail(s), up(s)];
      })));
      ctx.out('');
    }
    if (tids.length) {
      ctx.out(table(['TARGET', 'MEM USED %', 'MEM AVAIL', 'CAP USED %', 'CAP AVAIL', 'CPU USED %', 'UPTIME'], tids.map((id) => {
        const s = stats[id] ?? { daemon_id: id };
        return [
          name(id, 't'),
          memUsed(s),
          memAvail(s),
          s.capacity ? pct(s.capacity.pct_used) : '-',
          s.capacity ? sizeIEC(s.capacity.avail) : '-',
          s.cpu ? pct(Math.min(100, (s.cpu.load1 / s.cpu.cores) * 100)) : '-',
          up(s),
        ];
      })));
      ctx.out('');
    }
    ctx.out(table(['Summary:', ''], [
      ['   Proxies:', String(pids.length)],
      ['   Targets:', String(tids.length)],
      ['   Primary:', primary ? name(primary, smap.pmap[primary] ? 'p' : 't') : '-'],
      ['   Smap Version:', smap.version],
      ['   Cluster UUID:', smap.uuid],
    ]));
  },
};

export const showCommand: Command = {
  name: 'show',
  summary: 'show the cluster and its metadata, jobs, rebalance progress',
  sub: [cluster, showJobCommand, showRebalance],
};
