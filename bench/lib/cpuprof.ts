// Summary of a V8 .cpuprofile (node --cpu-prof): self time per function, and per file group.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './servers';

interface ProfNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FrameTime {
  frame: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** Thread id from the file name (CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile): 0 = main thread. */
  threadId: number;
  totalMs: number;
  /** Share of samples that were not idle. */
  busyPct: number;
  top: FrameTime[];
  groups: FrameTime[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(ROOT)) u = path.relative(ROOT, u);
  u = u.replace(/^.*node_modules\//, '');
  return u;
}

function groupOf(f: ProfNode['callFrame']): string {
  const n = f.functionName;
  if (n === '(idle)' || n === '(program)' || n === '(garbage collector)') return n;
  const u = f.url;
  if (!u) return '(native / builtins)';
  if (u.startsWith('node:')) return `node:${u.slice(5).split('/')[0] === 'internal' ? 'internal' : u.slice(5)}`;
  if (u.includes('node_modules/')) return u.replace(/^.*node_modules\//, '').split('/')[0].replace(/^@[^/]+$/, (s) => s);
  return shortUrl(u).split('/').slice(0, 3).join('/');
}

export function summarizeProfile(file: string, topN = 15): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    // timeDeltas[i] is the time before sample i: charge it to the previous sample's node.
    for (let i = 1; i < p.samples.length; i++) selfUs.set(p.samples[i - 1], (selfUs.get(p.samples[i - 1]) ?? 0) + p.timeDeltas[i]);
  } else {
    const per = (p.endTime - p.startTime) / Math.max(1, p.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of p.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }
  const frames = new Map<string, number>();
  const groups = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const f = n.callFrame;
    total += us;
    // Piscina's idle workers block in Atomics.wait inside atomicsWaitLoop: waiting, not work.
    if (f.functionName === '(idle)' || f.functionName === 'atomicsWaitLoop') idle += us;
    const key = `${f.functionName || '(anonymous)'}${f.url ? ` ${shortUrl(f.url)}:${f.lineNumber + 1}` : ''}`;
    frames.set(key, (frames.get(key) ?? 0) + us);
    const g = groupOf(f);
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  const toList = (m: Map<string, number>, n: number): FrameTime[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, us]) => ({ frame, ms: us / 1000, pct: total ? (100 * us) / total : 0 }));
  const tid = /\.(\d+)\.\d+\.cpuprofile$/.exec(file);
  return {
    file,
    threadId: tid ? Number(tid[1]) : -1,
    totalMs: total / 1000,
    busyPct: total ? (100 * (total - idle)) / total : 0,
    top: toList(frames, topN),
    groups: toList(groups, 10),
  };
}

export function formatProfile(s: ProfileSummary, label: string): string[] {
  const lines = [`${label}: ${path.basename(s.file)} — ${(s.totalMs / 1000).toFixed(1)} s sampled, busy ${s.busyPct.toFixed(0)} %`];
  lines.push('  self time by function:');
  for (const f of s.top) lines.push(`    ${f.pct.toFixed(1).padStart(5)} %  ${f.ms.toFixed(0).padStart(6)} ms  ${f.frame}`);
  lines.push('  by group:');
  for (const g of s.groups) lines.push(`    ${g.pct.toFixed(1).padStart(5)} %  ${g.frame}`);
  return lines;
}
