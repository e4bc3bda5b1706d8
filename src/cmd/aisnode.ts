#!/usr/bin/env node
// aisnode: one tais node. Until the cluster lands it is a storage target that is also its own gateway.
//   aisnode --port 8080 --mountpath DIR [--mountpath DIR ...] --confdir DIR [--config FILE.json] [--workers N]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Node } from '../cluster/node';
import { startServer } from '../api/server';
import { log } from '../util/log';
import type { ClusterConfig } from '../cluster/config';

const USAGE = `usage: aisnode [--host H] [--port P] --mountpath DIR [--mountpath DIR ...] [--confdir DIR] [--config FILE.json] [--workers N]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: process.env.AIS_HOST ?? '0.0.0.0' },
      port: { type: 'string', default: process.env.AIS_PORT ?? '8080' },
      mountpath: { type: 'string', multiple: true, default: [] },
      confdir: { type: 'string' },
      config: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const mountpaths = values.mountpath.flatMap((m) => m.split(',')).filter(Boolean);
  if (mountpaths.length === 0) throw new Error(`no --mountpath given\n${USAGE}`);
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  const confDir = path.resolve(values.confdir ?? path.join(mountpaths[0], '..', 'conf'));
  const config = values.config ? (JSON.parse(fs.readFileSync(values.config, 'utf8')) as Partial<ClusterConfig>) : undefined;
  log.setNode(`t${port}`);
  const node = new Node({ confDir, mountpaths, config, workers: values.workers ? Number(values.workers) : undefined });
  const server = await startServer(node, values.host, port);
  const shown = values.host === '0.0.0.0' ? 'localhost' : values.host;
  log.info(`aisnode (target, own gateway) listening on http://${shown}:${server.port} — S3 endpoint http://${shown}:${server.port}/s3`);
  const stop = (sig: string): void => {
    log.info(`${sig}: shutting down`);
    server.close();
    node.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
  log.error(err.message);
  process.exit(1);
});
