// The versioned cluster metadata a node holds — Smap, BMD, cluster config, RMD (AIStore's "REVS") — as
// one set that the primary pushes (metasync) and every node persists in its config dir. A part is applied
// only when its version is newer than the one held, so pushes may arrive late, twice or out of order.
import fs from 'node:fs';
import path from 'node:path';
import { pack, unpack } from 'msgpackr';
import { writeFileAtomic, type BmdData } from './bmd';
import type { SmapData } from './smap';
import type { ClusterConfig } from './config';
import type { EtlSpec } from '../etl/spec';

/** Rebalance metadata: one version per membership change of targets (and one more when it finishes). */
export interface RmdData {
  version: number;
  /** The rebalance this version belongs to (the RMD version that started it). */
  id: number;
  /** The Smap version the rebalance moves objects for. */
  smapVersion: number;
  running: boolean;
  /** Targets that finished this rebalance. */
  done: string[];
}

/** ETL metadata (AIStore's EtlMD): the ETLs of the cluster, so that a target that restarts or joins
 *  starts their transformers too. `stopped`: stopped by the user (not started again). */
export interface EtlMdData {
  version: number;
  etls: Record<string, { spec: EtlSpec; stopped?: boolean }>;
}

export interface MetaSet {
  smap?: SmapData;
  bmd?: BmdData;
  conf?: ClusterConfig;
  rmd?: RmdData;
  etlmd?: EtlMdData;
}

export type MetaTag = keyof MetaSet;
export const META_TAGS: readonly MetaTag[] = ['smap', 'bmd', 'conf', 'rmd', 'etlmd'];
export const META_FILES: Record<MetaTag, string> = { smap: '.ais.smap', bmd: '.ais.bmd', conf: '.ais.conf', rmd: '.ais.rmd', etlmd: '.ais.etlmd' };

export type MetaVersions = Partial<Record<MetaTag, number>>;

export function versionsOf(set: MetaSet): MetaVersions {
  const v: MetaVersions = {};
  for (const tag of META_TAGS) if (set[tag]) v[tag] = set[tag]!.version;
  return v;
}

export function loadMeta<T>(confDir: string, tag: MetaTag): T | undefined {
  const file = path.join(confDir, META_FILES[tag]);
  if (!fs.existsSync(file)) return undefined;
  return unpack(fs.readFileSync(file)) as T;
}

export function saveMeta(confDir: string, tag: MetaTag, value: unknown): void {
  writeFileAtomic(path.join(confDir, META_FILES[tag]), pack(value));
}
