// Loads the native uWebSockets.js binary directly. The package's own entry point silently falls back to a
// pure-JS implementation when the binary does not load; a storage node must fail loudly instead.
import path from 'node:path';
import type * as UWS from 'uwebsockets';

export type { HttpRequest, HttpResponse, TemplatedApp, us_listen_socket } from 'uwebsockets';

function load(): typeof UWS {
  const pkgDir = path.dirname(require.resolve('uwebsockets/package.json'));
  const file = path.join(pkgDir, `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`);
  try {
    return require(file) as typeof UWS;
  } catch (err) {
    throw new Error(`uWebSockets.js native binary does not load on this machine (${file}): ${(err as Error).message}`);
  }
}

export const uws = load();
