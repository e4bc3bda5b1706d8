// ais show rebalance: the rebalance the RMD names and every target's progress (objects and bytes sent
// and received, objects scanned, errors, state), then the targets' last resilver, if any.
import { CliError, needArgs, type Command } from './command';
import { duration, sizeIEC, table } from './format';
import type { ClusterRebStatus } from '../api/rebalance';
import type { XactStats } from '../target/xaction';

/** Seconds with two decimals under a minute: most moves take seconds. */
function took(ms: number): string {
  return ms < 60_000 ? `${(ms / 1000).toFixed(2)}s` : duration(ms);
}

function when(x: XactStats): string {
  if (!x.started) return '-';
  return x.ended ? took(x.ended - x.started) : `${took(Date.now() - x.started)} (running)`;
}

function row(id: string, x: XactStats | undefined, error?: string): string[] {
  if (!x) return [`t[${id}]`, '-', error ? `unreachable: ${error}` : '-', '-', '-', '-', '-', '-', '-', '-'];
  const xid = x.kind === 'rebalance' ? (x.id ? `g${x.id}` : '-') : x.id ? String(x.id) : '-';
  return [`t[${id}]`, xid, x.state, String(x.scanned), String(x.movedObjs), sizeIEC(x.movedBytes), String(x.recvObjs), sizeIEC(x.recvBytes), String(x.errors), when(x)];
}

export const showRebalance: Command = {
  name: 'rebalance',
  summary: 'show rebalance (and resilver) progress on every target',
  options: { json: { type: 'boolean', short: 'j', help: 'print JSON' } },
  examples: ['ais show rebalance', 'ais show rebalance --json'],
  async run(ctx, pos, flags) {
    needArgs(pos, 0, 0, '', 'ais show rebalance');
    const r = await ctx.api.call('GET', '/v1/cluster', { query: { what: 'rebalance' } });
    const st = JSON.parse(r.body.toString('utf8')) as ClusterRebStatus;
    if (flags.json) return ctx.out(JSON.stringify(st, null, 2));
    const ids = Object.keys(st.targets).sort();
    const head = ['TARGET', 'REB ID', 'STATE', 'SCANNED', 'SENT OBJS', 'SENT SIZE', 'RECV OBJS', 'RECV SIZE', 'ERRORS', 'TIME'];
    ctx.out(table(head, ids.map((id) => row(id, st.targets[id]!.rebalance, st.targets[id]!.error))));
    const rmd = st.rmd;
    ctx.out(`\nRebalance ${rmd.id ? `g${rmd.id}` : '(none yet)'}: ${st.running ? 'running' : rmd.id ? 'finished' : 'idle'}` + (rmd.id ? ` (Smap v${rmd.smapVersion}, ${rmd.done.length}/${ids.length} target(s) done)` : ''));
    const res = ids.filter((id) => st.targets[id]!.resilver && st.targets[id]!.resilver!.state !== 'idle');
    if (res.length) {
      ctx.out('');
      const h = ['TARGET', 'RESILVER', 'STATE', 'SCANNED', 'MOVED OBJS', 'MOVED SIZE', 'ERRORS', 'TIME', 'REASON'];
      ctx.out(table(h, res.map((id) => {
        const x = st.targets[id]!.resilver!;
        return [`t[${id}]`, String(x.id), x.state, String(x.scanned), String(x.movedObjs), sizeIEC(x.movedBytes), String(x.errors), when(x), x.reason ?? ''];
      })));
    }
  },
};

/** ais start rebalance [--wait]: a rebalance over the targets as they are (PUT /v1/cluster {"action":"rebalance"}). */
const startRebalance: Command = {
  name: 'rebalance',
  summary: 'start a cluster-wide rebalance by hand: objects not on their HRW target and mountpath move there',
  options: { wait: { type: 'boolean', help: 'wait until every target has finished it' } },
  examples: ['ais start rebalance', 'ais start rebalance --wait'],
  async run(ctx, pos, flags) {
    needArgs(pos, 0, 0, '', 'ais start rebalance');
    const r = await ctx.api.call('PUT', '/v1/cluster', { json: { action: 'rebalance' } });
    const xid = r.body.toString('utf8').trim();
    ctx.out(`Started rebalance ${xid}. To monitor the progress, run 'ais show rebalance'`);
    if (!flags.wait) return;
    const id = Number(xid.replace(/^g/, ''));
    for (;;) {
      const s = await ctx.api.call('GET', '/v1/cluster', { query: { what: 'rebalance' } });
      const st = JSON.parse(s.body.toString('utf8')) as ClusterRebStatus;
      if (st.rmd.id > id) throw new CliError(`rebalance ${xid} was superseded by g${st.rmd.id} (the cluster changed)`);
      if (st.rmd.id === id && !st.running) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    ctx.out(`Rebalance ${xid} finished`);
  },
};

export const startCommand: Command = { name: 'start', summary: 'start cluster jobs', sub: [startRebalance] };
