// aisloader -etl / -etlspec (AIStore's aisloader has both): GETs go through an ETL
// (`?etl_name=`), to measure inline transformation. -etl names an ETL of the cluster, or one of the
// example transformer's transforms (md5, echo, upper) that the run starts on every target as
// `aisloader-<transform>` (the targets must start commands: aisnode --etl-commands) and removes at the
// end; -etlspec inits the ETL of a spec file for the run and removes it after.
import fs from 'node:fs';
import path from 'node:path';
import { call } from './api';
import { describeStatus } from './engine';
import type { LoaderConfig } from './flags';

const BUILT_IN = ['md5', 'echo', 'upper'];
const EXAMPLE = path.join(__dirname, '..', 'etl', 'example-transformer.js');
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export interface RunEtl {
  name: string;
  /** Set when the run made the ETL: removes it. */
  remove?: () => Promise<void>;
}

export async function prepareEtl(cfg: LoaderConfig): Promise<RunEtl | undefined> {
  let spec: Record<string, unknown>;
  if (cfg.etlSpec) {
    try {
      spec = JSON.parse(fs.readFileSync(cfg.etlSpec, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`-etlspec ${cfg.etlSpec}: ${(err as Error).message}`);
    }
    if (typeof spec.name !== 'string') throw new Error(`-etlspec ${cfg.etlSpec}: the spec has no "name"`);
  } else if (cfg.etl) {
    if ((await call(cfg, 'GET', `/v1/etl/${encodeURIComponent(cfg.etl)}`)).status === 200) return { name: cfg.etl };
    if (!BUILT_IN.includes(cfg.etl)) throw new Error(`-etl ${cfg.etl}: the cluster has no such ETL (or give one of ${BUILT_IN.join(', ')}: the example transformer)`);
    spec = { name: `aisloader-${cfg.etl}`, runtime: { command: [process.execPath, EXAMPLE, cfg.etl] } };
    if ((await call(cfg, 'GET', `/v1/etl/${spec.name as string}`)).status === 200) return { name: spec.name as string };
  } else return undefined;
  const name = spec.name as string;
  const r = await call(cfg, 'PUT', '/v1/etl', JSON.stringify(spec), JSON_HEADERS);
  if (r.status !== 200) throw new Error(`init ETL ${name}: ${describeStatus(r.status, r.body)}`);
  return {
    name,
    remove: async () => {
      const d = await call(cfg, 'DELETE', `/v1/etl/${encodeURIComponent(name)}`);
      if (d.status !== 200) throw new Error(`remove ETL ${name}: ${describeStatus(d.status, d.body)}`);
    },
  };
}
