// The archive job (AIStore's "archive" action, `ais archive bucket`): objects named by a list or a
// template go into one tar shard. It runs on the target that owns the shard: it reads each object from
// its owner (an intra-cluster GET, which verifies the stored checksum as it streams and cuts the
// connection on a mismatch), writes the member's header, bytes and padding into the shard's body as it
// goes, and PUTs that body to itself (put-owner.ts). A member that cannot be read whole aborts the PUT
// (nothing stored), unless continue-on-error (`coer`) skips objects that do not exist. A .tgz / .tar.gz
// shard is the same tar through gzip on its way to the PUT; a .zip has stored members (zip-write.ts).
import http from 'node:http';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import type { Node } from '../cluster/node';
import { FWD_HEADER, IntraAgents, objectsPath } from '../cluster/intra';
import { intraAddr } from '../cluster/snode';
import { log } from '../util/log';
import { memberHeader, padding, TAR_END } from '../archive/tar';
import { ZipWriter } from '../archive/zip-write';
import { expandTemplate, parseTemplate } from './template';
import { putToOwner } from './put-owner';
import { xactRegistry, Xaction } from './xaction';

/** AIStore's ArchiveBckMsg, the fields tais acts on. */
export interface ArchiveMsg {
  archname: string;
  /** '.tar', '.tgz' or '.zip' (AIStore's spellings accepted: "tar", ".tar.gz", "tgz", "zip"); from archname when absent. */
  mime?: string;
  objnames?: string[];
  template?: string;
  /** Members named by the object's base name only. */
  bnonly?: boolean;
  /** Members named "<source bucket>/<object>". */
  isbn?: boolean;
  /** Skip objects that do not exist (continue on error). */
  coer?: boolean;
  tobck?: { name: string; provider?: string };
}

const MAX_MEMBERS = 100_000;
const agents = new IntraAgents({ maxSockets: 16 });

export function validateArchive(raw: unknown): ArchiveMsg {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('the value must be {"archname":"shard.tar","objnames":[...]} or {"archname":...,"template":"..."}');
  const m = raw as Record<string, unknown>;
  if (typeof m.archname !== 'string' || m.archname === '') throw new Error('archname (the shard to create) is required');
  const byName = shardFormat(m.archname);
  if (!byName) throw new Error(`archname "${m.archname}" must end with .tar, .tgz, .tar.gz or .zip`);
  const given = (m.mime as string | undefined) ?? '';
  if (given !== '') {
    const byMime = shardFormat(given.startsWith('.') ? given : `.${given}`);
    if (!byMime) throw new Error(`mime "${given}": tais writes .tar, .tgz (.tar.gz) and .zip shards`);
    if (byMime !== byName) throw new Error(`mime "${given}" does not match archname "${m.archname}"`);
  }
  const hasList = m.objnames !== undefined;
  const hasTpl = typeof m.template === 'string' && m.template !== '';
  if (hasList === hasTpl) throw new Error('give one of objnames and template');
  if (hasList && (!Array.isArray(m.objnames) || m.objnames.length === 0 || m.objnames.some((n) => typeof n !== 'string' || n === ''))) throw new Error('objnames must be a non-empty list of object names');
  if (hasTpl && !parseTemplate(m.template as string)) throw new Error(`template "${String(m.template)}" has no range ({0000..0999}); listing by prefix is not supported here`);
  let count = hasList ? (m.objnames as string[]).length : 0;
  if (hasTpl) for (const _ of expandTemplate(parseTemplate(m.template as string)!)) if (++count > MAX_MEMBERS) break; // counted lazily: a template may name billions
  if (count > MAX_MEMBERS) throw new Error(`more than ${MAX_MEMBERS} objects in one shard`);
  const tobck = m.tobck as { name?: unknown; provider?: unknown } | undefined;
  if (tobck !== undefined && (tobck === null || typeof tobck.name !== 'string' || tobck.name === '')) throw new Error('tobck must be {"name":"bucket","provider":"ais"}');
  return {
    archname: m.archname,
    mime: byName,
    ...(hasList ? { objnames: m.objnames as string[] } : { template: m.template as string }),
    ...(m.bnonly === true ? { bnonly: true } : {}),
    ...(m.isbn === true ? { isbn: true } : {}),
    ...(m.coer === true ? { coer: true } : {}),
    ...(tobck?.name ? { tobck: { name: tobck.name as string, provider: (tobck.provider as string | undefined) ?? 'ais' } } : {}),
  };
}

/** The shard format a name (or a mime given as an extension) calls for. */
function shardFormat(name: string): '.tar' | '.tgz' | '.zip' | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.tar')) return '.tar';
  if (n.endsWith('.zip')) return '.zip';
  if (n.endsWith('.tgz') || n.endsWith('.tar.gz')) return '.tgz';
  return undefined;
}

export function startArchive(node: Node, id: string, src: string, dst: string, msg: ArchiveMsg): Xaction {
  const x = new Xaction(id, 'archive', src, node.bmd.get(src)?.provider ?? 'ais');
  xactRegistry.add(x);
  run(node, x, dst, msg)
    .catch((err: Error) => {
      x.errs++;
      x.lastErr = err.message;
      log.warn(`archive[${id}] ${src} => ${dst}/${msg.archname}: ${err.message}`);
    })
    .finally(() => x.finish());
  return x;
}

async function run(node: Node, x: Xaction, dst: string, msg: ArchiveMsg): Promise<void> {
  const names = msg.objnames ?? [...expandTemplate(parseTemplate(msg.template!)!)];
  const member = (name: string): string => (msg.bnonly ? path.posix.basename(name) : msg.isbn ? `${x.bucket}/${name}` : name);
  // What goes around each member's bytes: tar headers and padding, or zip headers and descriptors.
  const zip = msg.mime === '.zip' ? new ZipWriter() : undefined;
  const framing = zip
    ? { head: (n: string, size: number, mtime: number) => zip.head(n, size, mtime), data: (b: Buffer) => zip.data(b), tail: () => zip.tail(), end: () => zip.end() }
    : { head: memberHeader, data: (_b: Buffer) => undefined, tail: (size: number) => padding(size), end: () => TAR_END };
  async function* body(): AsyncGenerator<Buffer> {
    for (const name of names) {
      if (x.aborted) throw new Error('stopped by user');
      const res = await getFromOwner(node, x.bucket, name);
      if (res.statusCode === 404 && msg.coer) {
        res.resume();
        x.errs++;
        x.lastErr = `${name}: does not exist (skipped)`;
        continue;
      }
      if (res.statusCode !== 200) {
        res.resume();
        throw new Error(`${name}: GET answered ${res.statusCode}`);
      }
      const size = Number(res.headers['content-length']);
      const mtime = Date.parse(String(res.headers['last-modified'] ?? '')) || Date.now();
      yield framing.head(member(name), size, mtime);
      let got = 0;
      for await (const chunk of res) {
        got += (chunk as Buffer).length;
        framing.data(chunk as Buffer);
        yield chunk as Buffer;
      }
      if (got !== size) throw new Error(`${name}: read ${got} of ${size} bytes (the source did not verify, or its owner went away)`);
      yield framing.tail(size);
      x.objs++;
      x.bytes += size;
    }
    yield framing.end();
  }
  if (zip) return putToOwner(node, dst, msg.archname, Readable.from(body()), { 'content-type': 'application/zip' }, 'native');
  if (msg.mime !== '.tgz') return putToOwner(node, dst, msg.archname, Readable.from(body()), { 'content-type': 'application/x-tar' }, 'native');
  // A failed member destroys the gzip stream with its error, which aborts the PUT as it does a tar's.
  const gz = zlib.createGzip();
  pipeline(Readable.from(body()), gz, () => undefined);
  await putToOwner(node, dst, msg.archname, gz, { 'content-type': 'application/gzip' }, 'native');
}

function getFromOwner(node: Node, bucket: string, name: string): Promise<http.IncomingMessage> {
  const owner = node.smap.owner(bucket, name, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner) return Promise.reject(new Error('the cluster has no storage targets'));
  const p = `${objectsPath(bucket, name)}?provider=${node.bmd.get(bucket)?.provider ?? 'ais'}`;
  return new Promise((resolve, reject) => {
    const req = agents.request(intraAddr(owner), { path: p, method: 'GET', headers: { [FWD_HEADER]: node.secret }, timeout: 5 * 60_000 }, resolve);
    req.on('timeout', () => req.destroy(new Error(`GET ${bucket}/${name}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}
