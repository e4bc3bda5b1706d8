// The loader's control requests (not timed): make sure the bucket exists, set its properties, list its
// objects for a GET run, delete what the run wrote. node:http is plenty here.
import http from 'node:http';
import https from 'node:https';
import { Conn } from './http';
import { describeStatus, encodeKey } from './engine';
import { authHeader, type LoaderConfig } from './flags';

interface Reply {
  status: number;
  body: string;
}

export function call(cfg: LoaderConfig, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { host: cfg.host, port: cfg.port, method, path, headers: { ...headers, ...(cfg.token ? { Authorization: `Bearer ${cfg.token}` } : {}), ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) }, agent: false as const };
    const req = (cfg.tls ? https.request : http.request)(
      cfg.tls ? { ...opts, ...(cfg.tls.ca ? { ca: cfg.tls.ca } : {}), rejectUnauthorized: !cfg.tls.skipVerify } : opts,
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (err) => reject(new Error(`${method} ${cfg.endpoint}${path}: ${err.message}`)));
    req.end(body);
  });
}

function bucketPath(cfg: LoaderConfig): string {
  return cfg.s3 ? `/s3/${encodeURIComponent(cfg.bucket)}` : `/v1/buckets/${encodeURIComponent(cfg.bucket)}${cfg.providerQuery}`;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

/**
 * Creates the bucket when the server says it does not exist (HEAD → 404). Anything else that is not
 * an error (a peer such as nginx answers a directory with 301) counts as "exists".
 */
export async function ensureBucket(cfg: LoaderConfig): Promise<'exists' | 'created'> {
  const head = await call(cfg, 'HEAD', bucketPath(cfg));
  if (head.status !== 404) {
    if (head.status >= 500 || head.status === 403) throw new Error(`HEAD bucket ${cfg.bucket}: ${head.status}`);
    return 'exists';
  }
  if (cfg.provider !== 'ais') throw new Error(`bucket s3://${cfg.bucket} does not exist (a remote bucket is not created by aisloader)`);
  const put = cfg.s3 ? await call(cfg, 'PUT', bucketPath(cfg), '') : await call(cfg, 'POST', bucketPath(cfg), JSON.stringify({ action: 'create-bck' }), JSON_HEADERS);
  if (put.status >= 300 && put.status !== 409) throw new Error(`create bucket ${cfg.bucket}: ${describeStatus(put.status, put.body)}`);
  return 'created';
}

/** AIStore's -bprops: native PATCH /v1/buckets/NAME {"action":"set-bprops","value":...}. */
export async function setBucketProps(cfg: LoaderConfig, json: string): Promise<void> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`-bprops: invalid JSON: ${(err as Error).message}`);
  }
  const r = await call(cfg, 'PATCH', `/v1/buckets/${encodeURIComponent(cfg.bucket)}`, JSON.stringify({ action: 'set-bprops', value }), {
    'Content-Type': 'application/json',
  });
  if (r.status !== 200) throw new Error(`-bprops: ${describeStatus(r.status, r.body)}`);
}

/** All object names under `prefix`: ListObjectsV2 with -s3 (pages of 1000), else the native list. */
export async function listObjects(cfg: LoaderConfig, prefix: string): Promise<string[]> {
  return cfg.s3 ? listS3(cfg, prefix) : listNative(cfg, prefix);
}

/** Native list (GET /v1/buckets/NAME {"action":"list"}), names only, pages echo uuid and token. */
async function listNative(cfg: LoaderConfig, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let uuid = '';
  let token = '';
  for (;;) {
    const value = { props: 'name', prefix, uuid, continuation_token: token, flags: '16' };
    const r = await call(cfg, 'GET', bucketPath(cfg), JSON.stringify({ action: 'list', value }), JSON_HEADERS);
    if (r.status !== 200) throw new Error(`listing ${cfg.bucket}: ${describeStatus(r.status, r.body)}`);
    const page = JSON.parse(r.body) as { uuid?: string; continuation_token?: string; entries?: { name: string }[] | null };
    for (const e of page.entries ?? []) names.push(e.name);
    token = page.continuation_token ?? '';
    uuid = page.uuid ?? '';
    if (!token) break;
  }
  return names;
}

async function listS3(cfg: LoaderConfig, prefix: string): Promise<string[]> {
  const names: string[] = [];
  let token = '';
  for (;;) {
    const q = new URLSearchParams({ 'list-type': '2', 'max-keys': '1000' });
    if (prefix) q.set('prefix', prefix);
    if (token) q.set('continuation-token', token);
    const r = await call(cfg, 'GET', `${bucketPath(cfg)}?${q.toString()}`);
    if (r.status !== 200) throw new Error(`listing ${cfg.bucket}: ${describeStatus(r.status, r.body)}`);
    for (const m of r.body.matchAll(/<Key>([^<]*)<\/Key>/g)) names.push(unescapeXml(m[1]));
    const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(r.body)?.[1];
    if (!/<IsTruncated>true<\/IsTruncated>/.test(r.body) || !next) break;
    token = unescapeXml(next);
  }
  return names;
}

function unescapeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, e: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e as 'lt'] ?? '';
  });
}

/** DELETEs `names` over `concurrency` keep-alive connections; resolves with counts. */
export function deleteObjects(cfg: LoaderConfig, names: readonly string[], concurrency: number): Promise<{ deleted: number; errors: number; firstError?: string }> {
  return new Promise((resolve) => {
    let next = 0;
    let deleted = 0;
    let errors = 0;
    let firstError: string | undefined;
    let active = 0;
    const readBuf = Buffer.allocUnsafe(64 * 1024);
    const host = `${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`;
    const prefix = `${cfg.apiPrefix}/${encodeURIComponent(cfg.bucket)}/`;
    const conns: Conn[] = [];
    const issue = (c: Conn): void => {
      if (next >= names.length) {
        c.close();
        if (--active === 0) resolve({ deleted, errors, firstError });
        return;
      }
      const name = names[next++];
      c.request(`DELETE ${prefix}${encodeKey(name)}${cfg.providerQuery} HTTP/1.1\r\nHost: ${host}\r\n${authHeader(cfg)}\r\n`, null);
    };
    const onDone = (c: Conn, err: Error | null): void => {
      if (!err && c.status >= 200 && c.status < 300) deleted++;
      else {
        errors++;
        firstError ??= err ? err.message : describeStatus(c.status, c.errBody);
      }
      issue(c);
    };
    const n = Math.max(1, Math.min(concurrency, names.length));
    if (names.length === 0) return resolve({ deleted, errors });
    for (let i = 0; i < n; i++) {
      const c = new Conn(cfg.host, cfg.port, readBuf, onDone, cfg.tls);
      conns.push(c);
      active++;
    }
    for (const c of conns) issue(c);
  });
}
