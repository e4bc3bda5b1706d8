#!/usr/bin/env node
// aisloader: load generator for tais (and any S3 server), after AIStore's bench/tools/aisloader.
//   aisloader -bucket ais://b -duration 30s -numworkers 8 -pctput 100 -minsize 1MiB -maxsize 1MiB -cleanup
// Speaks the S3 API at /s3 (the only API for now; the native /v1/objects path comes with the cluster).
import { parseFlags, usage, FlagError } from '../loader/flags';
import { runLoad, summaryLines } from '../loader/run';

async function main(): Promise<number> {
  let cfg;
  try {
    cfg = parseFlags(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof FlagError) {
      process.stderr.write(`aisloader: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (cfg === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const progress = (line: string): void => {
    (cfg.json ? process.stderr : process.stdout).write(`${line}\n`);
  };
  const r = await runLoad(cfg, { log: progress });
  if (cfg.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else for (const l of summaryLines(r)) progress(l);
  const total = r.put.count + r.get.count;
  return total === 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`aisloader: ${err.message}\n`);
    process.exitCode = 1;
  },
);
