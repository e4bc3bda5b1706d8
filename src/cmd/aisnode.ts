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
import { startServer, type TlsFiles } from '../api/server';
import { setIntraTls } from '../cluster/intra';
import { etlPolicy } from '../etl/etl';
import { promotePolicy } from '../xact/promote';
import { log } from '../util/log';
import type { ClusterConfig } from '../cluster/config';

const USAGE = `usage: aisnode [--role proxy|target] [--host H] [--port P] [--mountpath DIR ...] [--confdir DIR]
               [--primary URL] [--public-host H] [--config FILE.json] [--workers N]
               [--tls-cert FILE --tls-key FILE [--intra-port P]] [--etl-commands] [--intra-tls]
               [--promote-root DIR]
  --role        proxy (gateway, no data) or target (storage; the default)
  --primary     URL of the primary proxy to join (AIS_PRIMARY_EP); none: this node is the primary
  --public-host the address other nodes and redirected clients use (default: --host, or localhost)
  --tls-cert, --tls-key
                HTTPS on --port with this certificate and key (PEM; AIS_TLS_CERT, AIS_TLS_KEY); the other
                nodes then use plain HTTP on --intra-port (AIS_INTRA_PORT; default: a free port)
  --etl-commands
                a target starts the transformer commands of ETL specs (runtime.command; AIS_ETL_COMMANDS=true):
                code run here by whoever may init an ETL, so off by default
  --intra-tls   with --tls-cert/--tls-key: the intra-cluster port speaks HTTPS too (same certificate), and
                this node reaches the others' over TLS when their Smap entry says so (AIS_INTRA_TLS=true)
  --promote-root
                the only directory whose files \`ais object promote\` may turn into objects (AIS_PROMOTE_ROOT;
                default /var/lib/ais/promote, as AIStore's)`;

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
      'tls-cert': { type: 'string', default: process.env.AIS_TLS_CERT },
      'tls-key': { type: 'string', default: process.env.AIS_TLS_KEY },
      'intra-port': { type: 'string', default: process.env.AIS_INTRA_PORT },
      'etl-commands': { type: 'boolean', default: process.env.AIS_ETL_COMMANDS === 'true' },
      'intra-tls': { type: 'boolean', default: process.env.AIS_INTRA_TLS === 'true' },
      'promote-root': { type: 'string', default: process.env.AIS_PROMOTE_ROOT ?? promotePolicy.root },
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
  const certs = values['tls-cert'] || values['tls-key'] ? tlsFiles(values['tls-cert'], values['tls-key']) : undefined;
  const intraTls = values['intra-tls'] === true;
  if (intraTls && !certs) throw new Error(`--intra-tls needs --tls-cert and --tls-key (the intra-cluster port serves the same certificate)\n${USAGE}`);
  const intraPort = values['intra-port'] === undefined ? 0 : Number(values['intra-port']);
  if (!Number.isInteger(intraPort) || intraPort < 0 || intraPort > 65535) throw new Error(`invalid --intra-port ${values['intra-port']}`);
  if (certs || process.env.AIS_CLIENT_CA || values.primary?.startsWith('https:')) {
    const ca = process.env.AIS_CLIENT_CA ?? certs?.cert;
    setIntraTls({ ...(ca ? { ca: fs.readFileSync(ca) } : {}), skipVerify: process.env.AIS_SKIP_VERIFY_CRT === 'true' });
  }
  etlPolicy.commands = values['etl-commands'] === true;
  promotePolicy.root = path.resolve(values['promote-root']);
  const node = new Node(opts);
  const server = await startServer(node, values.host, port, certs ? { tls: certs, intraPort, intraTls } : {});
  const publicHost = values['public-host'] ?? (values.host === '0.0.0.0' || values.host === '::' ? '127.0.0.1' : values.host);
  await node.start(publicHost, server.port, certs ? { tls: true, intraPort: server.intraPort!, intraTls } : {});
  // More HTTP threads on the same port once the node is in its cluster (api/http-threads.ts).
  const extra = httpThreads(node.config) - 1;
  const threads = extra > 0 ? await HttpThreads.start(node, opts, extra, values.host, server.port, await server.listenPrivate(), certs ? { files: certs, intraPort: server.intraPort!, intraTls } : undefined) : undefined;
  node.markReady();
  const what = role === 'proxy' ? 'proxy' : node.isPrimary ? 'target, own gateway' : 'target';
  const scheme = certs ? 'https' : 'http';
  log.info(`aisnode (${what}${node.isPrimary ? ', primary' : ''}, ${1 + (threads?.count ?? 0)} HTTP thread(s)) listening on ${scheme}://${publicHost}:${server.port} — S3 endpoint ${scheme}://${publicHost}:${server.port}/s3${certs ? `; other nodes: http://${publicHost}:${server.intraPort}` : ''}`);
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

/** Both files, readable, before uWS is given them (it only says it cannot listen). */
function tlsFiles(cert: string | undefined, key: string | undefined): TlsFiles {
  if (!cert || !key) throw new Error('HTTPS needs both --tls-cert and --tls-key');
  for (const f of [cert, key]) fs.accessSync(f, fs.constants.R_OK);
  const pem = (f: string, what: RegExp): void => {
    if (!what.test(fs.readFileSync(f, 'utf8'))) throw new Error(`${f}: not a PEM ${what === CERT ? 'certificate' : 'private key'}`);
  };
  pem(cert, CERT);
  pem(key, KEY);
  return { cert: path.resolve(cert), key: path.resolve(key) };
}

const CERT = /-----BEGIN CERTIFICATE-----/;
const KEY = /-----BEGIN (RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

main().catch((err: Error) => {
  log.error(err.message);
  process.exit(1);
});
