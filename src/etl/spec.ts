// An ETL's init message (PUT /v1/etl), AIStore's "runtime spec" with what tais can run: AIStore starts a
// container image in a Kubernetes pod beside each target; tais has no Kubernetes, so every target starts
// the transformer as a local process (`runtime.command`, listening on $PORT) or uses one that is already
// running (`endpoint`). The transformer speaks AIStore's protocols: ws:// (object and control message
// over a WebSocket at /ws) or hpush:// (PUT of the object, transformed bytes in the answer).
import { parseDuration } from '../loader/flags';

export type Communication = 'ws://' | 'hpush://';

export interface EtlSpec {
  name: string;
  communication: Communication;
  /** Started by each target: argv, with $PORT (a free port) and AIS_TARGET_URL in its environment. */
  runtime?: { command: string[]; env?: Record<string, string> };
  /** Or a transformer that runs already, shared by the targets: http://host:port. */
  endpoint?: string;
  /** How long a target waits for its transformer's GET /health, ms. */
  initTimeoutMs: number;
  /** How long one object may take, ms. */
  objTimeoutMs: number;
  /**
   * AIStore's `argument: "fqn"`: the transformer gets the object's file path instead of its bytes and
   * reads the file itself (it runs on the target's machine). The target verifies the object's checksum
   * first. Absent: the bytes are sent.
   */
  argument?: 'fqn';
}

/** AIStore's defaults (ext/etl/api.go). */
export const INIT_TIMEOUT_MS = 45_000;
export const OBJ_TIMEOUT_MS = 10_000;

export class SpecError extends Error {}

/** AIStore's ETL name rule: lowercase letters, digits and '-', 6 to 32 characters. */
export function checkEtlName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9-]{6,32}$/.test(name) || name.startsWith('-') || name.endsWith('-')) {
    throw new SpecError(`invalid ETL name ${JSON.stringify(name)}: 6 to 32 lowercase letters, digits and '-' (not first or last)`);
  }
  return name;
}

function timeout(v: unknown, what: string, dflt: number): number {
  if (v === undefined || v === '' || v === 0) return dflt;
  let ms: number;
  if (typeof v === 'number') ms = v > 1e6 ? Math.round(v / 1e6) : v * 1000; // AIStore sends Go durations (ns) in JSON
  else if (typeof v === 'string') {
    try {
      ms = parseDuration(v);
    } catch (err) {
      throw new SpecError(`${what}: ${(err as Error).message}`);
    }
  } else throw new SpecError(`${what} must be a duration such as "45s"`);
  if (!(ms > 0) || ms > 3_600_000) throw new SpecError(`${what} must be between 1ms and 1h`);
  return ms;
}

/** Checks an init message (JSON object) and returns the spec every target gets. */
export function parseSpec(raw: unknown): EtlSpec {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new SpecError('the ETL spec must be a JSON object: {"name":..., "communication":"ws://", "runtime":{"command":[...]}}');
  const m = raw as Record<string, unknown>;
  const name = checkEtlName(m.name);
  const comm = (m.communication ?? m.communication_type ?? 'ws://') as string;
  if (comm === 'hpull://') throw new SpecError('communication hpull:// is not supported (it redirects the client to the transformer): use ws:// or hpush://');
  if (comm !== 'ws://' && comm !== 'hpush://') throw new SpecError(`unknown communication ${JSON.stringify(comm)}: ws:// or hpush://`);
  if (m.spec !== undefined) throw new SpecError('pod specs (Kubernetes) are not supported: give runtime.command (a local process) or endpoint');
  const runtime = m.runtime as { command?: unknown; env?: unknown; image?: unknown } | undefined;
  let rt: EtlSpec['runtime'];
  if (runtime !== undefined) {
    if (runtime === null || typeof runtime !== 'object') throw new SpecError('runtime must be an object {"command":[...]}');
    if (runtime.command === undefined && runtime.image !== undefined) {
      throw new SpecError('runtime.image: tais runs transformers as local processes, not containers; give runtime.command (argv) instead');
    }
    const cmd = typeof runtime.command === 'string' ? ['sh', '-c', runtime.command] : runtime.command;
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== 'string' || a === '')) throw new SpecError('runtime.command must be a non-empty list of strings (argv) or a shell command line');
    const env: Record<string, string> = {};
    if (runtime.env !== undefined) {
      // AIStore's form is a list of {name, value}; a plain object is accepted too.
      const list = Array.isArray(runtime.env) ? (runtime.env as { name?: unknown; value?: unknown }[]).map((e) => [e?.name, e?.value] as const) : Object.entries(runtime.env as object);
      for (const [k, v] of list) {
        if (typeof k !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || (typeof v !== 'string' && typeof v !== 'number')) throw new SpecError(`runtime.env: invalid entry ${JSON.stringify(k)}`);
        env[k] = String(v);
      }
    }
    rt = { command: cmd as string[], ...(Object.keys(env).length ? { env } : {}) };
  }
  let endpoint: string | undefined;
  if (m.endpoint !== undefined) {
    if (typeof m.endpoint !== 'string') throw new SpecError('endpoint must be a URL such as http://127.0.0.1:8000');
    let u: URL;
    try {
      u = new URL(m.endpoint);
    } catch {
      throw new SpecError(`endpoint ${JSON.stringify(m.endpoint)} is not a URL`);
    }
    if (!['http:', 'ws:'].includes(u.protocol) || u.pathname.length > 1 || u.search) throw new SpecError('endpoint must be http://host:port (the transformer serves /health, /ws and PUT /bucket/object there)');
    endpoint = `http://${u.host}`;
  }
  if ((rt === undefined) === (endpoint === undefined)) throw new SpecError('give exactly one of runtime.command (each target starts the transformer) and endpoint (a running transformer)');
  if (m.argument !== undefined && m.argument !== '' && m.argument !== 'fqn') throw new SpecError(`argument ${JSON.stringify(m.argument)}: "" (the object's bytes are sent to the transformer) or "fqn" (its file path)`);
  return {
    name,
    communication: comm,
    ...(rt ? { runtime: rt } : {}),
    ...(endpoint ? { endpoint } : {}),
    initTimeoutMs: timeout(m.init_timeout, 'init_timeout', INIT_TIMEOUT_MS),
    objTimeoutMs: timeout(m.obj_timeout, 'obj_timeout', OBJ_TIMEOUT_MS),
    ...(m.argument === 'fqn' ? { argument: 'fqn' as const } : {}),
  };
}

/** The spec in AIStore's field names (what `GET /v1/etl/NAME` shows as init_msg). */
export function specJson(spec: EtlSpec): Record<string, unknown> {
  return {
    name: spec.name,
    communication: spec.communication,
    ...(spec.runtime ? { runtime: spec.runtime } : {}),
    ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
    init_timeout: `${spec.initTimeoutMs / 1000}s`,
    obj_timeout: `${spec.objTimeoutMs / 1000}s`,
    ...(spec.argument ? { argument: spec.argument } : {}),
  };
}
