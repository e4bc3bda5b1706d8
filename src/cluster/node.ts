// One running node: its configuration, the cluster metadata it holds, and its roles. Until the cluster
// lands a node is a target that is also its own gateway (proxy); the roles stay separate objects.
import path from 'node:path';
import os from 'node:os';
import { Piscina } from 'piscina';
import { Bmd } from './bmd';
import { defaultClusterConfig, type ClusterConfig } from './config';
import { initMountpaths } from '../fs/mountpath';
import { Target } from '../target/target';

export interface NodeOptions {
  confDir: string;
  mountpaths: string[];
  config?: Partial<ClusterConfig>;
  /** Piscina threads for hashing and writing (default: one per core). */
  workers?: number;
}

export class Node {
  readonly config: ClusterConfig;
  readonly bmd: Bmd;
  readonly target: Target;
  readonly pool: Piscina;
  /** What HeadBucket and GetBucketLocation report; SDKs need some region. */
  readonly region = 'us-east-1';

  constructor(opts: NodeOptions) {
    this.config = mergeConfig(defaultClusterConfig(), opts.config ?? {});
    this.bmd = new Bmd(path.join(opts.confDir, '.ais.bmd'));
    const mps = initMountpaths(opts.mountpaths, this.config.io.direct, this.config.mpu.abandoned_age_s * 1000);
    const threads = opts.workers ?? Math.max(1, os.availableParallelism());
    this.pool = new Piscina({
      filename: path.join(__dirname, '..', 'workers', 'pool-worker.js'),
      minThreads: threads,
      maxThreads: threads,
      // Tasks are short (one buffer); a deep queue only adds latency, back-pressure lives in the PUT stream.
      idleTimeout: 60_000,
    });
    this.target = new Target(mps, this.config, this.pool);
    // Buckets in the BMD must have their folders (a restart after a crash between BMD write and mkdir).
    for (const b of this.bmd.names()) this.target.createBucket(b);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function mergeConfig(base: ClusterConfig, over: Partial<ClusterConfig>): ClusterConfig {
  return {
    ...base,
    ...over,
    checksum: { ...base.checksum, ...(over.checksum ?? {}) },
    io: { ...base.io, ...(over.io ?? {}) },
    features: over.features ?? base.features,
  };
}
