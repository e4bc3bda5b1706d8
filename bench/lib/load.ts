// Running aisloader (as a child process, exactly as users run it) and wrk, and reading their results.
import { AISLOADER, run, which } from './servers';
import type { RunResult } from '../../src/loader/run';

export interface LoadArgs {
  endpoint: string;
  bucket: string;
  [flag: string]: string | number | boolean;
}

/** aisloader -json with the given flags; throws with its stderr when it fails. */
export async function aisloader(args: LoadArgs): Promise<RunResult> {
  // The benches measure the S3 path (what most clients use; nginx serves the same /s3/... paths) unless
  // told otherwise; aisloader's own default is the native API.
  const argv: string[] = [AISLOADER, '-json', '-quiet', ...('s3' in args ? [] : ['-s3'])];
  for (const [k, v] of Object.entries(args)) argv.push(`-${k}=${String(v)}`);
  const r = await run(process.execPath, argv, { timeoutMs: 15 * 60_000 });
  if (r.code !== 0 || !r.stdout.trim().startsWith('{')) {
    throw new Error(`aisloader ${argv.slice(1).join(' ')} failed (${r.code}):\n${r.stderr.trim()}\n${r.stdout.slice(0, 2000)}`);
  }
  return JSON.parse(r.stdout) as RunResult;
}

export interface WrkResult {
  requestsPerSec: number;
  /** Bytes per second (wrk's Transfer/sec, headers included). */
  bytesPerSec: number;
  latencyAvgMs: number;
  errors: number;
}

export function haveWrk(): string | undefined {
  return which('wrk');
}

export async function wrk(url: string, threads: number, connections: number, seconds: number): Promise<WrkResult> {
  const bin = haveWrk();
  if (!bin) throw new Error('wrk not found (Debian: apt-get install -y wrk)');
  const r = await run(bin, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, url], { timeoutMs: (seconds + 30) * 1000 });
  const out = r.stdout;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!rps) throw new Error(`wrk failed (${r.code}): ${r.stderr}${out}`);
  const tr = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(out);
  const units: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
  const lat = /Latency\s+([\d.]+)(us|ms|s)/.exec(out);
  const latMs = lat ? Number(lat[1]) * { us: 1e-3, ms: 1, s: 1000 }[lat[2] as 'us'] : 0;
  const errs = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requestsPerSec: Number(rps[1]),
    bytesPerSec: tr ? Number(tr[1]) * units[tr[2]] : 0,
    latencyAvgMs: latMs,
    errors: (errs ? Number(errs[1]) : 0) + (sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0),
  };
}
