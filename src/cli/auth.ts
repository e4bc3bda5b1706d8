// ais auth: tokens for a cluster with auth.enabled. AIStore gets them from its AuthN server (ais auth
// login); tais has no AuthN server, so whoever holds the cluster's signing secret makes them here, with
// the claims AuthN puts in its tokens. `--save` writes the token where every `ais` command looks for it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ACCESS_ALL, ACCESS_RO, ACCESS_RW } from '../authn/access';
import { signToken } from '../authn/token';
import { CliError, UsageError, needArgs, type Command } from './command';

/** Where `ais` reads its token: AIS_AUTHN_TOKEN_FILE, else AIStore CLI's own place. */
export function tokenFile(): string {
  return process.env.AIS_AUTHN_TOKEN_FILE || path.join(os.homedir(), '.config', 'ais', 'cli', 'auth.token');
}

/** The token every request carries: AIS_AUTHN_TOKEN, else the token file ({"token": "..."}), else none. */
export function loadToken(): string {
  if (process.env.AIS_AUTHN_TOKEN) return process.env.AIS_AUTHN_TOKEN;
  const file = tokenFile();
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !process.env.AIS_AUTHN_TOKEN_FILE) return '';
    throw new CliError(`cannot read the token file ${file}: ${(err as Error).message}`);
  }
  try {
    const tok = (JSON.parse(text) as { token?: unknown }).token;
    if (typeof tok === 'string' && tok !== '') return tok;
  } catch {
    // not JSON: a bare token is accepted too
    if (/^[\w-]+\.[\w-]+\.[\w-]*$/.test(text.trim())) return text.trim();
  }
  throw new CliError(`the token file ${file} holds no token (expected {"token": "..."})`);
}

const LEVELS: Record<string, bigint> = { ro: ACCESS_RO, rw: ACCESS_RW, su: ACCESS_ALL };

function level(s: string, what: string, cmdPath: string): bigint {
  const v = LEVELS[s];
  if (v === undefined) throw new UsageError(`${what}: access "${s}" (expected ro, rw or su)`, cmdPath);
  return v;
}

/** "30m", "24h", "7d", or seconds. */
function parseExpiry(s: string, cmdPath: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(s);
  if (!m) throw new UsageError(`--expires "${s}" (expected e.g. 30m, 24h, 7d)`, cmdPath);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] * 1000;
}

const tokenCommand: Command = {
  name: 'token',
  summary: 'make a token (HS256, signed with the cluster secret auth.secret)',
  args: 'USER',
  description:
    'The secret is --secret or AIS_AUTHN_SECRET. Access: --admin (everything), --cluster ro|rw|su (every bucket),\n' +
    '--bucket NAME:ro|rw|su[,NAME:...] (those buckets, over the cluster level). Without --save the token is printed.',
  options: {
    secret: { type: 'string', help: 'the signing secret (default: AIS_AUTHN_SECRET)', arg: 'SECRET' },
    admin: { type: 'boolean', help: 'an admin token: any operation' },
    cluster: { type: 'string', help: 'access to every bucket and to listing buckets: ro, rw or su', arg: 'LEVEL' },
    bucket: { type: 'string', help: 'per-bucket access, e.g. data:ro,models:rw', arg: 'LIST' },
    expires: { type: 'string', help: 'lifetime (default 24h)', arg: 'DURATION' },
    save: { type: 'boolean', help: `write it to the token file (AIS_AUTHN_TOKEN_FILE or ~/.config/ais/cli/auth.token)` },
  },
  examples: ['AIS_AUTHN_SECRET=... ais auth token alice --admin --save', 'ais auth token bob --secret S --bucket data:ro --expires 7d'],
  async run(ctx, pos, flags) {
    const cmdPath = 'ais auth token';
    needArgs(pos, 1, 1, 'USER', cmdPath);
    const secret = typeof flags.secret === 'string' ? flags.secret : process.env.AIS_AUTHN_SECRET ?? '';
    if (secret === '') throw new UsageError('no secret: pass --secret or set AIS_AUTHN_SECRET (the cluster config auth.secret)', cmdPath);
    const ttl = parseExpiry(typeof flags.expires === 'string' ? flags.expires : '24h', cmdPath);
    const claims: Record<string, unknown> = { username: pos[0], exp: Math.floor((Date.now() + ttl) / 1000) };
    if (flags.admin) claims['admin'] = true;
    if (typeof flags.cluster === 'string') claims['clusters'] = [{ id: '', perm: String(level(flags.cluster, '--cluster', cmdPath)) }];
    if (typeof flags.bucket === 'string') {
      claims['buckets'] = flags.bucket.split(',').map((item) => {
        const i = item.lastIndexOf(':');
        if (i <= 0) throw new UsageError(`--bucket "${item}" (expected NAME:ro|rw|su)`, cmdPath);
        const name = item.slice(0, i).replace(/^(ais|s3|aws):\/\//, '');
        const provider = /^(s3|aws):\/\//.test(item) ? 'aws' : 'ais';
        return { bck: { name, provider }, perm: String(level(item.slice(i + 1), '--bucket', cmdPath)) };
      });
    }
    if (!flags.admin && claims['clusters'] === undefined && claims['buckets'] === undefined) {
      throw new UsageError('the token would grant nothing: give --admin, --cluster or --bucket', cmdPath);
    }
    const token = signToken(claims, secret);
    if (!flags.save) return ctx.out(token);
    const file = tokenFile();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ token }) + '\n', { mode: 0o600 });
    ctx.out(`Token of "${pos[0]}" saved to ${file}`);
  },
};

export const authCommand: Command = {
  name: 'auth',
  summary: 'tokens for a cluster with auth.enabled',
  sub: [tokenCommand],
};
