// How this node verifies other nodes when it reaches them over TLS: a join sent to the primary's public
// https:// URL, and every intra-cluster connection when the nodes run with --intra-tls. One certificate
// or CA for the cluster is the usual case: AIS_CLIENT_CA, or else the node's own certificate
// (AIS_SKIP_VERIFY_CRT=true skips the check).
import type { ConnectionOptions } from 'node:tls';

export interface IntraTlsSettings {
  ca?: Buffer;
  skipVerify?: boolean;
}

let settings: IntraTlsSettings | undefined;
let client: ConnectionOptions = {};

export function setIntraTlsClient(opts: IntraTlsSettings): void {
  settings = opts;
  client = { ...(opts.ca ? { ca: opts.ca } : {}), ...(opts.skipVerify ? { rejectUnauthorized: false } : {}) };
}

/** What setIntraTlsClient was given (the HTTP threads are given the same), if anything. */
export function intraTlsSettings(): IntraTlsSettings | undefined {
  return settings;
}

/** The options of an outgoing TLS connection to another node. */
export function intraTlsClient(): ConnectionOptions {
  return client;
}
