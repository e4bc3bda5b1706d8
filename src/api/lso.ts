// Native list-objects: GET /v1/buckets/NAME with {"action":"list","value":LsoMsg}. One page per request,
// merged from all targets (proxy/fanout.ts); the client echoes `uuid` and `continuation_token` for the
// next page. The answer is JSON, or msgpack with AIStore's keys when the client asks
// `Accept: application/msgpack` (the Go API and the Python SDK always do; the SDK decodes only that).
import { randomBytes } from 'node:crypto';
import { Packr } from 'msgpackr';
import type { HttpResponse } from '../util/uws';
import { header, reply, type Req } from './http';
import type { Node } from '../cluster/node';
import { listCluster } from '../proxy/fanout';
import { listRemote, MAX_PAGE_REMOTE } from '../proxy/list-remote';
import { inventoryAsk, listInventory, HDR_INV_TIME, type InventoryAsk } from '../proxy/list-inventory';
import { badRequest, JSON_CT } from './native';
import { intraMsg } from '../cluster/intra';
import { nodeUrl } from '../cluster/snode';
import { ARCHIVE_EXTS, shardMembers } from '../target/archpath';

export interface LsoMsg {
  uuid?: string;
  props?: string;
  time_format?: string;
  prefix?: string;
  start_after?: string;
  continuation_token?: string;
  pagesize?: number | string;
  flags?: number | string;
}

/** AIStore's page maximum for ais:// buckets (and the default page size). */
export const MAX_PAGE_AIS = 10_000;
const LS_CACHED = 1n;
const LS_NAME_ONLY = 16n;
const LS_NAME_SIZE = 32n;
const LS_ARCH_DIR = 8n;
const LS_NO_RECURSION = 2048n;
/** Entry flags (cmn/objlist.go): present on this cluster; a file inside a shard; a virtual directory; a shard. */
const ENTRY_CACHED = 64;
const ENTRY_IN_ARCH = 128;
const ENTRY_DIR = 256;
const ENTRY_IS_ARCHIVE = 512;
const KNOWN_PROPS = new Set(['name', 'size', 'checksum', 'atime', 'version', 'cached', 'status', 'copies', 'ec', 'custom', 'location', 'chunked', 'last-modified', 'etag']);
const DEFAULT_PROPS = ['name', 'size', 'checksum', 'atime'];

/** One entry as AIStore's LsoEnt: JSON names, and the msgpack keys the Go code generates. */
export interface LsoEntry {
  name: string;
  checksum: string;
  atime: string;
  version: string;
  location: string;
  custom: string;
  size: number;
  copies: number;
  flags: number;
}

export interface LsoPage {
  uuid: string;
  continuationToken: string;
  entries: LsoEntry[];
  flags: number;
  /** Listed from an S3 inventory made at this time (ms); sent as the Ais-Inv-Time header. */
  invCreatedMs?: number;
}

// Plain maps, no msgpackr records: other decoders (Go msgp, Python msgspec) must read it.
const packr = new Packr({ useRecords: false, variableMapSize: true });

export async function listObjectsV1(node: Node, res: HttpResponse, req: Req, bucket: string, msg: LsoMsg): Promise<void> {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) throw badRequest('list: the value must be an LsoMsg object');
  const page = await listPageV1(node, bucket, msg, inventoryAsk((n) => header(req, n)));
  const inv: [string, string][] = page.invCreatedMs !== undefined ? [[HDR_INV_TIME, new Date(page.invCreatedMs).toISOString()]] : [];
  if (header(req, 'accept').includes('application/msgpack')) {
    reply(res, req, '200 OK', [['Content-Type', 'application/msgpack'], ...inv], packr.pack(lsoMsgpack(page)));
  } else {
    reply(res, req, '200 OK', [JSON_CT, ...inv], JSON.stringify(lsoJson(page)));
  }
}

export async function listPageV1(node: Node, bucket: string, msg: LsoMsg, inv?: InventoryAsk): Promise<LsoPage> {
  const flags = parseFlags(msg.flags);
  const pageSize = parsePageSize(msg.pagesize);
  const props = parseProps(msg.props, flags);
  const after = str(msg.continuation_token, 'continuation_token') || str(msg.start_after, 'start_after');
  const delimiter = (flags & LS_NO_RECURSION) !== 0n ? '/' : '';
  const bprops = node.bmd.get(bucket);
  const q = { prefix: str(msg.prefix, 'prefix'), delimiter, after, maxKeys: pageSize };
  // A remote bucket lists the remote merged with what is cached, unless only the cached part is asked for.
  // From the bucket's S3 inventory when asked (Ais-Bucket-Inventory): any page size, no remote calls.
  const remote = bprops?.provider === 'aws' && (flags & LS_CACHED) === 0n;
  if (inv && !remote) throw badRequest(`inventory listing is for remote buckets (not cached-only listings): "${bucket}"`);
  const r =
    inv && bprops
      ? await listInventory(bucket, bprops, inv, node, q)
      : remote
        ? await listRemote(node, bucket, bprops, { ...q, maxKeys: Math.min(pageSize, MAX_PAGE_REMOTE) })
        : await listCluster(node, bucket, q);
  const rfc3339 = /rfc3339/i.test(msg.time_format ?? '');
  const entries: LsoEntry[] = [];
  const blank = (name: string): LsoEntry => ({ name, checksum: '', atime: '', version: '', location: '', custom: '', size: 0, copies: 0, flags: 0 });
  // Objects and virtual directories come back in one sorted sequence, as AIStore lists them.
  const dirs = r.commonPrefixes.map((p) => ({ ...blank(p), flags: ENTRY_DIR }));
  for (const o of r.entries) {
    const e = blank(o.key);
    e.flags = !('cached' in o) || o.cached ? ENTRY_CACHED : 0;
    if (props.has('size')) e.size = o.size;
    if (props.has('checksum')) e.checksum = o.cksum ?? '';
    if (props.has('atime')) e.atime = formatTime(o.mtimeMs, rfc3339);
    if (props.has('copies')) e.copies = e.flags & ENTRY_CACHED ? 1 : 0;
    entries.push(e);
    // --archive: a shard's files follow it, as "shard.tar/file" (they do not count toward the page:
    // the next page starts after the shard, never inside it).
    if ((flags & LS_ARCH_DIR) !== 0n && !remote && ARCHIVE_EXTS.some((e) => o.key.toLowerCase().endsWith(e))) {
      const files = await shardFiles(node, bucket, o.key);
      if (files.length) e.flags |= ENTRY_IS_ARCHIVE;
      for (const f of files) entries.push({ ...blank(`${o.key}/${f.name}`), flags: ENTRY_IN_ARCH | ENTRY_CACHED, size: props.has('size') ? f.size : 0 });
    }
  }
  const all = dirs.length ? [...entries, ...dirs].sort((a, b) => (Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))) : entries;
  return {
    uuid: typeof msg.uuid === 'string' && msg.uuid !== '' ? msg.uuid : randomBytes(6).toString('base64url'),
    continuationToken: r.truncated ? r.last : '',
    entries: all,
    flags: 0,
    ...('createdMs' in r && typeof r.createdMs === 'number' ? { invCreatedMs: r.createdMs } : {}),
  };
}

/** The files of a shard, from the target that holds it. */
async function shardFiles(node: Node, bucket: string, obj: string): Promise<{ name: string; size: number }[]> {
  const owner = node.smap.owner(bucket, obj, node.bmd.get(bucket)?.provider ?? 'ais');
  if (!owner) return [];
  if (owner.id === node.self.id && node.isTarget) return shardMembers(node.target, bucket, obj);
  return intraMsg<{ name: string; size: number }[]>(nodeUrl(owner), `/v1/intra/archls/${encodeURIComponent(bucket)}/${encodeURIComponent(obj)}`, { secret: node.secret });
}

function str(v: unknown, name: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw badRequest(`list: "${name}" must be a string`);
  return v;
}

function parseFlags(v: unknown): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  if ((typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) || (typeof v === 'string' && /^\d{1,20}$/.test(v))) return BigInt(v);
  throw badRequest(`list: invalid flags "${String(v)}" (a uint64, as a number or a decimal string)`);
}

function parsePageSize(v: unknown): number {
  if (v === undefined || v === null || v === '' || v === 0 || v === '0') return MAX_PAGE_AIS;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw badRequest(`list: invalid pagesize "${String(v)}"`);
  return Math.min(n, MAX_PAGE_AIS);
}

function parseProps(v: unknown, flags: bigint): Set<string> {
  if ((flags & LS_NAME_ONLY) !== 0n) return new Set(['name']);
  if ((flags & LS_NAME_SIZE) !== 0n) return new Set(['name', 'size']);
  const text = str(v, 'props');
  if (text === '') return new Set(DEFAULT_PROPS);
  const set = new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const p of set) if (!KNOWN_PROPS.has(p)) throw badRequest(`list: unknown property "${p}" (valid: ${[...KNOWN_PROPS].join(', ')})`);
  set.add('name');
  return set;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** AIStore's default time format (Go's RFC822, "02 Jan 06 15:04 UTC"), or RFC 3339. */
export function formatTime(ms: number, rfc3339 = false): string {
  const d = new Date(ms);
  if (rfc3339) return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCFullYear() % 100)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())} UTC`;
}

/** JSON form (cmn.LsoRes): empty fields left out, size as a decimal string, as Go's encoder writes them. */
export function lsoJson(p: LsoPage): Record<string, unknown> {
  return {
    uuid: p.uuid,
    continuation_token: p.continuationToken,
    entries: p.entries.map((e) => {
      const o: Record<string, unknown> = { name: e.name };
      if (e.checksum) o.checksum = e.checksum;
      if (e.atime) o.atime = e.atime;
      if (e.version) o.version = e.version;
      if (e.location) o.location = e.location;
      if (e.custom) o['custom-md'] = e.custom;
      if (e.size) o.size = String(e.size);
      if (e.copies) o.copies = e.copies;
      if (e.flags) o.flags = e.flags;
      return o;
    }),
    flags: p.flags,
  };
}

/** msgpack form: the keys AIStore's generated msgp code writes (LsoRes and LsoEnt). */
export function lsoMsgpack(p: LsoPage): Record<string, unknown> {
  return {
    UUID: p.uuid,
    ContinuationToken: p.continuationToken,
    Entries: p.entries.map((e) => ({ n: e.name, cs: e.checksum, a: e.atime, v: e.version, t: e.location, m: e.custom, s: e.size, c: e.copies, f: e.flags })),
    Flags: p.flags,
  };
}
