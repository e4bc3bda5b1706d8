// A promise rejected with nobody to hear it is a bug in some request's chain (that client may be left
// waiting for an answer): it is logged with its stack and the node goes on serving. Node's default
// would end the process, and with it every other client's request. Installed in the main thread and in
// every HTTP thread (each has its own `process` events). Handlers that throw from uWS callbacks are
// contained per request in api/http.ts.
import { log } from './log';

export function guardRejections(where: string): void {
  process.on('unhandledRejection', (err) => log.error(`${where}: unhandled rejection (a bug; the node goes on): ${(err as Error)?.stack ?? String(err)}`));
}
