#!/usr/bin/env node
// ais: the command-line client of a tais (or AIStore) cluster, over the native /v1 API at AIS_ENDPOINT
// (default http://localhost:8080). Exit codes: 0 success, 1 the operation failed, 2 a wrong command line.
import { Api } from '../cli/client';
import { CliError, UsageError, dispatch, type Command, type Ctx } from '../cli/command';
import { bucketCommand, createAlias, rmbAlias } from '../cli/bucket';
import { objectCommand, putAlias, getAlias, rmoAlias } from '../cli/object';
import { listCommand } from '../cli/ls';
import { configCommand } from '../cli/config';
import { showCommand } from '../cli/show';
import { prefetchCommand, evictCommand, stopCommand } from '../cli/job';
import { startCommand } from '../cli/rebalance';
import { storageCommand } from '../cli/storage';
import { authCommand, loadToken } from '../cli/auth';
import { etlCommand, copyCommand } from '../cli/etl';
import { archiveCommand } from '../cli/archive';

// `ais bucket cp` is `ais cp` (cli/etl.ts imports cli/bucket.ts, so it is added here).
bucketCommand.sub?.push(copyCommand);

export const root: Command = {
  name: 'ais',
  summary: `the command-line client of a tais cluster (endpoint: AIS_ENDPOINT, now ${process.env.AIS_ENDPOINT || 'http://localhost:8080'})`,
  sub: [bucketCommand, objectCommand, configCommand, showCommand, storageCommand, authCommand, etlCommand, archiveCommand, prefetchCommand, evictCommand, startCommand, stopCommand, copyCommand, listCommand, putAlias, getAlias, createAlias, rmbAlias, rmoAlias],
};

export async function main(argv: string[]): Promise<number> {
  const ctx: Ctx = {
    api: undefined as unknown as Api,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    tty: process.stdout.isTTY === true,
  };
  try {
    ctx.api = new Api(process.env.AIS_ENDPOINT || 'http://localhost:8080', loadToken);
    await dispatch(root, argv, ctx);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      ctx.err(`Incorrect usage of "${err.path}": ${err.message}.\nRun '${err.path} --help' for usage.`);
      return 2;
    }
    if (err instanceof CliError) {
      ctx.err(`Error: ${err.message}`);
      return 1;
    }
    ctx.err(`Error: ${(err as Error)?.message ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  // stdout may be a closed pipe (ais get ... - | head): that is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
