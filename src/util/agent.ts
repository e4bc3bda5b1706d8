// Keep-alive HTTP agents that drop idle connections before the server does. uWS closes a keep-alive
// connection after 10 s without a request (a compile-time constant); a client that reuses such a
// socket at that instant sends its request into a closing connection and gets ECONNRESET ("socket
// hang up"). Dropping our idle sockets after KEEPALIVE_IDLE_MS (well under 10 s) closes that window.
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export const KEEPALIVE_IDLE_MS = 4000;

const idleSince = new WeakMap<Socket, number>();

export function keepAliveAgent(opts: http.AgentOptions = {}): http.Agent {
  return sweepIdle(new http.Agent({ keepAlive: true, scheduling: 'lifo', ...opts }));
}

/** The same for HTTPS (other nodes' intra-cluster ports with --intra-tls; `opts` carries the CA). */
export function keepAliveHttpsAgent(opts: https.AgentOptions = {}): https.Agent {
  return sweepIdle(new https.Agent({ keepAlive: true, scheduling: 'lifo', ...opts }));
}

function sweepIdle<A extends http.Agent>(agent: A): A {
  agent.on('free', (socket: Socket) => idleSince.set(socket, Date.now()));
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const list of Object.values(agent.freeSockets)) {
      for (const s of list ?? []) if (now - (idleSince.get(s) ?? now) > KEEPALIVE_IDLE_MS) s.destroy();
    }
  }, 1000);
  sweep.unref();
  // The sweep cannot run while the event loop is busy (a long synchronous step in the caller): check
  // again, synchronously, right before the agent hands out a free socket. addRequest is Node's
  // internal entry point of every request through an agent (not in the typings).
  const internal = agent as unknown as { addRequest: (req: http.ClientRequest, options: unknown) => void };
  const addRequest = internal.addRequest.bind(agent);
  internal.addRequest = (req, options) => {
    const now = Date.now();
    for (const list of Object.values(agent.freeSockets)) {
      for (const s of list ?? []) if (now - (idleSince.get(s) ?? now) > KEEPALIVE_IDLE_MS) s.destroy();
    }
    addRequest(req, options);
  };
  return agent;
}
