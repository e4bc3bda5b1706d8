// A cluster node as the cluster map (Smap) knows it: AIStore's Snode, reduced to what tais uses.
// IDs look like AIStore's dev IDs (random letters + role letter + port) and persist in the config dir,
// so that a restarted node rejoins as itself and keeps its HRW share of objects.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ConnectionOptions } from 'node:tls';
import { digestOf } from './hrw';
import { intraTlsClient } from './intra-tls';

export type DaemonType = 'proxy' | 'target';

/** Snode flags, AIStore's bits (core/meta/snode.go). */
export const FLAG_MAINT = 4;
export const FLAG_DECOMM = 8;

export interface Snode {
  id: string;
  type: DaemonType;
  /** Public host and port: what clients connect to (and other nodes, unless intraPort is set). */
  host: string;
  port: number;
  flags: number;
  /** The public port speaks HTTPS (aisnode --tls-cert/--tls-key). */
  tls?: boolean;
  /** Plain-HTTP port on the same host for the other nodes (a node with TLS listens on both; AIStore's
   *  intra-cluster network): calls and forwarded requests between nodes go there. */
  intraPort?: number;
  /** The intra-cluster port speaks HTTPS too (aisnode --intra-tls): nodes reach this one over TLS. */
  intraTls?: boolean;
}

/** Where and how other nodes connect to a node: its intra-cluster address, TLS options when it wants TLS. */
export interface IntraAddr {
  host: string;
  port: number;
  tls?: ConnectionOptions;
}

const digests = new Map<string, bigint>();

/** XXH64(daemon id, MLCG32): the node's HRW digest (AIStore's id_digest). */
export function idDigest(id: string): bigint {
  let d = digests.get(id);
  if (d === undefined) {
    d = digestOf(id);
    digests.set(id, d);
  }
  return d;
}

/** Where other nodes reach `n`: its intra-cluster port if it has one, else its public port. */
export function nodeUrl(n: Snode): string {
  const h = n.host.includes(':') ? `[${n.host}]` : n.host;
  return `${n.intraTls ? 'https' : 'http'}://${h}:${n.intraPort ?? n.port}`;
}

export function intraAddr(n: Snode): IntraAddr {
  return { host: n.host, port: n.intraPort ?? n.port, ...(n.intraTls ? { tls: intraTlsClient() } : {}) };
}

/** Where clients reach `n` (redirects, the Smap's direct_url). */
export function publicUrl(n: Snode): string {
  const h = n.host.includes(':') ? `[${n.host}]` : n.host;
  return `${n.tls ? 'https' : 'http'}://${h}:${n.port}`;
}

export function genDaemonId(type: DaemonType, port: number): string {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const r = randomBytes(5);
  let s = '';
  for (const b of r) s += letters[b % letters.length];
  return `${s}${type === 'proxy' ? 'p' : 't'}${port}`;
}

/** The node's ID from `<confdir>/.ais.daemon_id`, created on first start. */
export function loadDaemonId(confDir: string, type: DaemonType, port: number): string {
  const file = path.join(confDir, '.ais.daemon_id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (id) return id;
  } catch {
    // first start
  }
  const id = genDaemonId(type, port);
  fs.mkdirSync(confDir, { recursive: true });
  fs.writeFileSync(file, `${id}\n`);
  return id;
}
