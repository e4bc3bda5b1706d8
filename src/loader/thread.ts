// A loader worker thread: runs its share of the workers and posts back what it wrote and the errors it
// saw. Stats go straight into the shared block the main thread reads.
import { parentPort, workerData } from 'node:worker_threads';
import { Engine, controlOf } from './engine';
import { LoadStats } from './stats';
import { payloadOf } from './payload';
import type { ThreadData } from './run';

const d = workerData as ThreadData;
const engine = new Engine(
  d.cfg,
  payloadOf(d.ring, d.seed),
  new LoadStats(new Float64Array(d.stats)),
  controlOf(d.controlInts, d.controlBytes),
  d.names,
  d.numWorkers,
  d.threadIdx,
);
engine.run().then((r) => parentPort!.postMessage(r));
