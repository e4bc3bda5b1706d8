#!/usr/bin/env node
// aisnode: one tais node, a proxy (gateway) or a target (storage).
//   aisnode --role proxy|target --port P [--mountpath DIR ...] --confdir DIR [--primary URL] [--config FILE.json]
// Without --primary the node is the primary of its own cluster; a target started that way is a one-node
// cluster that is also its own gateway (what the data-path tests and benchmarks run).
import './process-setup';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Node, type NodeOptions } from '../cluster/node';
import { httpThreads } from '../cluster/config';
import { HttpThreads } from '../api/http-threads';
import { startServer } from '../api/server';
import { log } from '../util/log';
import type { ClusterConfig } from '../cluster/config';

const USAGE = `usage: aisnode [--role proxy|target] [--host H] [--port P] [--mountpath DIR ...] [--confdir DIR]
               [--primary URL] [--public-host H] [--config FILE.json] [--workers N]
  --role        proxy (gateway, no data) or target (storage; the default)
  --primary     URL of the primary proxy to join (AIS_PRIMARY_EP); none: this node is the primary
  --public-host the address other nodes and redirected clients use (default: --host, or localhost)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      role: { type: 'string', default: process.env.AIS_ROLE ?? 'target' },
      host: { type: 'string', default: process.env.AIS_HOST ?? '0.0.0.0' },
      'public-host': { type: 'string', default: process.env.AIS_PUBLIC_HOST },
      port: { type: 'string', default: process.env.AIS_PORT ?? '8080' },
      mountpath: { type: 'string', multiple: true, default: [] },
      confdir: { type: 'string' },
      primary: { type: 'string', default: process.env.AIS_PRIMARY_EP },
      config: { type: 'string' },
      workers: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const role = values.role;
  if (role !== 'proxy' && role !== 'target') throw new Error(`invalid --role ${role} (valid: proxy, target)\n${USAGE}`);
  const mountpaths = values.mountpath.flatMap((m) => m.split(',')).filter(Boolean);
  if (role === 'target' && mountpaths.length === 0) throw new Error(`a target needs --mountpath\n${USAGE}`);
  if (role === 'proxy' && mountpaths.length > 0) throw new Error('a proxy stores nothing: no --mountpath');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port ${values.port}`);
  if (!values.confdir && role === 'proxy') throw new Error(`a proxy needs --confdir\n${USAGE}`);
  const confDir = path.resolve(values.confdir ?? path.join(mountpaths[0], '..', 'conf'));
  const config = values.config ? (JSON.parse(fs.readFileSync(values.config, 'utf8')) as Partial<ClusterConfig>) : undefined;
  log.setNode(`${role === 'proxy' ? 'p' : 't'}${port}`);
  const opts: NodeOptions = { role, confDir, mountpaths, config, workers: values.workers ? Number(values.workers) : undefined, primaryUrl: values.primary };
  const node = new Node(opts);
  const server = await startServer(node, values.host, port);
  const publicHost = values['public-host'] ?? (values.host === '0.0.0.0' || values.host === '::' ? '127.0.0.1' : values.host);
  await node.start(publicHost, server.port);
  // More HTTP threads on the same port once the node is in its cluster (api/http-threads.ts).
  const extra = httpThreads(node.config) - 1;
  const threads = extra > 0 ? await HttpThreads.start(node, opts, extra, values.host, server.port, await server.listenPrivate()) : undefined;
  node.markReady();
  const what = role === 'proxy' ? 'proxy' : node.isPrimary ? 'target, own gateway' : 'target';
  log.info(`aisnode (${what}${node.isPrimary ? ', primary' : ''}, ${1 + (threads?.count ?? 0)} HTTP thread(s)) listening on http://${publicHost}:${server.port} — S3 endpoint http://${publicHost}:${server.port}/s3`);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: shutting down`);
    server.close();
    Promise.all([threads?.close(), node.close()]).finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: Error) => {
  log.error(err.message);
  process.exit(1);
});
