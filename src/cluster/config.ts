// Cluster-wide configuration and bucket properties. Names follow AIStore's config sections
// (`checksum.type`, `checksum.validate_warm_get`, `features`) so `ais config` users recognise them.
import os from 'node:os';
import type { HashKind } from '../native';

export type ChecksumType = HashKind | 'none';
export const CHECKSUM_TYPES: readonly ChecksumType[] = ['xxhash', 'md5', 'sha256', 'sha512', 'crc32c', 'none'];

export interface ChecksumConf {
  type: ChecksumType;
  /** Verify the stored checksum while streaming a whole-object GET (AIStore: validate_warm_get). */
  validate_warm_get: boolean;
  /** ETag = MD5 of the content, as S3 clients expect. Off: the ETag derives from the checksum (AIStore's way). */
  md5_etag: boolean;
}

export interface IoConf {
  /** O_DIRECT for large writes where the mountpath supports it: 'auto' probes each mountpath at start. */
  direct: 'auto' | 'off';
  /** fsync the work file before it is renamed into place, so a power loss cannot leave a torn object. */
  fsync_put: boolean;
  /** Size of the pooled buffers that body bytes travel in (bytes, multiple of 4096). */
  buffer_size: number;
  /**
   * Node-wide budget of PUT buffers being written or hashed (all uploads, all HTTP threads): past it,
   * uploads pause their sockets until buffers come back, so memory stays flat under many concurrent PUTs.
   */
  put_buffers_max: number;
  /**
   * Objects each HTTP thread keeps open after a GET or HEAD (fd and metadata, checked with one fstat on
   * every use; target/open-cache.ts): a repeat read skips open, getxattr and close. 0 turns it off.
   */
  open_cache_max: number;
  /**
   * Send the body of large GETs (16 buffers and more) with sendfile(2) from a native thread once uWS
   * has written the head and first piece (target/get.ts, native/sendfile.cc): a third less CPU per
   * byte on this side. Off by default: when the clients share the node's cores (the benchmarks here),
   * reading page-cache pages off loopback costs them more than the copy it saves (docs/architecture.md, "GET").
   */
  sendfile: boolean;
}

export interface NetConf {
  /** HTTP threads of a node, each a uWS App on the same port (SO_REUSEPORT); 0: one per core. Read at start. */
  http_threads: number;
}

export interface MpuConf {
  /** Multipart uploads with no activity for this long (seconds) are removed: at start and periodically. */
  abandoned_age_s: number;
}

export interface S3AuthConf {
  /** Access key ID → secret access key. Empty (the default): authentication is off, any keys are accepted. */
  keys: Record<string, string>;
  /** Largest difference (seconds) between a signed request's time and ours (S3: 15 minutes). */
  max_skew_s: number;
}

/** JWT bearer tokens (AIStore's AuthN; src/authn/): with `enabled`, every client request needs a token. */
export interface AuthnConf {
  enabled: boolean;
  /** HMAC key of HS256/384/512 tokens (AuthN's signing secret). */
  secret: string;
  /** PEM public key of RS256/384/512 tokens. */
  public_key: string;
}

/** AIStore's rate_limit.frontend: per gateway, per bucket and verb (src/proxy/ratelimit.ts). */
export interface FrontendRateLimit {
  enabled: boolean;
  /** The window max_tokens is counted over: "1m", "10s", "500ms". */
  interval: string;
  /** Requests per interval, cluster-wide (each gateway takes its share). */
  max_tokens: number;
  /** Requests allowed at once above the steady rate. */
  burst_size: number;
}

export const DEFAULT_FRONTEND_RATE_LIMIT: FrontendRateLimit = { enabled: false, interval: '1m', max_tokens: 1000, burst_size: 375 };

export interface KeepaliveConf {
  /** How often every node reports to the primary (ms). */
  interval_ms: number;
  /** A node not heard from for this long (ms) is removed from the Smap. */
  timeout_ms: number;
}

export interface ProxyConf {
  /**
   * How a gateway sends an S3 object request to its owner target. false (default): streams it through
   * (reverse proxy) so that every unmodified client works. true: answers 307 with the target's URL, as
   * AIStore does: cheaper, but unpatched boto3 cannot follow it.
   */
  s3_redirect: boolean;
}

export interface RebalanceConf {
  /** Move objects to their new owners when targets join or leave. */
  enabled: boolean;
  /** Bytes per second a target sends rebalance objects at, at most (all its sends together); 0: no limit. */
  bandwidth: number;
}

export interface ClusterConfig {
  version: number;
  keepalive: KeepaliveConf;
  proxy: ProxyConf;
  rebalance: RebalanceConf;
  checksum: ChecksumConf;
  io: IoConf;
  net: NetConf;
  mpu: MpuConf;
  features: string[];
  /** S3 front end: `virtual_host_domain` turns on virtual-hosted-style addressing (src/s3/vhost.ts). */
  s3?: { virtual_host_domain: string };
  /** AWS Signature Version 4 on the S3 API (src/s3/auth.ts); optional, a partial section takes the defaults. */
  auth?: { s3?: Partial<S3AuthConf> } & Partial<AuthnConf>;
  /** Frontend rate limiting, the default of every bucket (a bucket may override it). */
  rate_limit?: { frontend: FrontendRateLimit };
}

/** ais: objects live only in the cluster; aws: an S3 bucket elsewhere, cached here (src/backend/). */
export type BucketProvider = 'ais' | 'aws';

/** Where an `s3://` bucket lives (AIStore's `extra.aws`): empty strings mean the SDK's defaults. */
export interface AwsExtra {
  /** S3 endpoint URL; empty: AWS itself. A custom endpoint is addressed path-style. */
  endpoint: string;
  cloud_region: string;
  /** Profile in the shared AWS config/credentials files; empty: AWS_PROFILE or "default". */
  profile: string;
}

export interface VersioningConf {
  /** Warm GET asks the remote for the object's ETag/version first and fetches it again when it changed. */
  validate_warm_get: boolean;
}

export interface BucketProps {
  provider: BucketProvider;
  created: number;
  checksum: ChecksumConf;
  /** Remote (aws) buckets only. */
  extra?: { aws: AwsExtra };
  versioning?: VersioningConf;
  /** Feature flags of this bucket, added to the cluster's (AIStore's bucket `features`). */
  features?: string[];
  /** What this bucket overrides of the cluster's rate_limit (only the keys set on it). */
  rate_limit?: { frontend?: Partial<FrontendRateLimit> };
}

/** A feature is on for a bucket when the cluster or the bucket has it (as AIStore combines them). */
export function featureOn(conf: ClusterConfig, props: BucketProps | undefined, name: string): boolean {
  return conf.features.includes(name) || (props?.features?.includes(name) ?? false);
}

export function defaultClusterConfig(): ClusterConfig {
  return {
    version: 1,
    keepalive: { interval_ms: 1000, timeout_ms: 4000 },
    proxy: { s3_redirect: false },
    rebalance: { enabled: true, bandwidth: 0 },
    checksum: { type: 'xxhash', validate_warm_get: true, md5_etag: true },
    io: { direct: 'auto', fsync_put: true, buffer_size: 1 << 20, put_buffers_max: 64, open_cache_max: 4096, sendfile: false },
    net: { http_threads: 0 },
    mpu: { abandoned_age_s: 7 * 24 * 3600 },
    features: [],
    s3: { virtual_host_domain: '' },
    auth: { s3: { keys: {}, max_skew_s: 900 }, enabled: false, secret: '', public_key: '' },
    rate_limit: { frontend: { ...DEFAULT_FRONTEND_RATE_LIMIT } },
  };
}

export function newBucketProps(conf: ClusterConfig, now = Date.now(), provider: BucketProvider = 'ais'): BucketProps {
  const props: BucketProps = { provider, created: now, checksum: { ...conf.checksum } };
  if (provider === 'aws') {
    props.extra = { aws: { endpoint: '', cloud_region: '', profile: '' } };
    props.versioning = { validate_warm_get: false };
  }
  return props;
}

/** Applies `section.key=value` pairs to bucket props; throws a message listing valid values. */
export function setBucketProps(props: BucketProps, changes: Record<string, unknown>): BucketProps {
  const out: BucketProps = structuredClone(props);
  for (const [k, raw] of Object.entries(flatten(changes))) {
    if (k === 'provider' && raw === out.provider) continue; // AIStore clients send it back with the rest
    if (k.startsWith('extra.aws.') || k.startsWith('versioning.')) {
      if (!out.extra || !out.versioning) throw new Error(`"${k}" is a property of remote buckets (s3://) only`);
      switch (k) {
        case 'extra.aws.endpoint': {
          const v = String(raw);
          if (v !== '' && !/^https?:\/\/[^/\s]+/.test(v)) throw new Error(`invalid extra.aws.endpoint "${v}" (expected http(s)://host[:port])`);
          out.extra.aws.endpoint = v;
          continue;
        }
        case 'extra.aws.cloud_region':
          out.extra.aws.cloud_region = String(raw);
          continue;
        case 'extra.aws.profile':
          out.extra.aws.profile = String(raw);
          continue;
        case 'versioning.validate_warm_get':
          out.versioning.validate_warm_get = toBool(k, raw);
          continue;
      }
    }
    switch (k) {
      case 'checksum.type': {
        const v = String(raw) as ChecksumType;
        if (!CHECKSUM_TYPES.includes(v)) throw new Error(`invalid checksum.type "${v}" (valid: ${CHECKSUM_TYPES.join(', ')})`);
        out.checksum.type = v;
        break;
      }
      case 'checksum.validate_warm_get':
        out.checksum.validate_warm_get = toBool(k, raw);
        break;
      case 'checksum.md5_etag':
        out.checksum.md5_etag = toBool(k, raw);
        break;
      case 'rate_limit.frontend.enabled':
      case 'rate_limit.frontend.interval':
      case 'rate_limit.frontend.max_tokens':
      case 'rate_limit.frontend.burst_size': {
        const field = k.slice('rate_limit.frontend.'.length) as keyof FrontendRateLimit;
        out.rate_limit ??= {};
        out.rate_limit.frontend = { ...out.rate_limit.frontend, [field]: rateLimitValue(k, field, raw) };
        break;
      }
      case 'features': {
        const f = parseFeatures(raw);
        if (f.length === 0) delete out.features;
        else out.features = f;
        break;
      }
      default:
        throw new Error(`unknown or read-only bucket property "${k}"`);
    }
  }
  return out;
}

function flatten(obj: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flatten(v as Record<string, unknown>, key));
    else out[key] = v;
  }
  return out;
}

/** A rate_limit.frontend value, checked as the cluster config's would be. */
export function rateLimitValue(k: string, field: keyof FrontendRateLimit, raw: unknown): boolean | string | number {
  if (field === 'enabled') return toBool(k, raw);
  if (field === 'interval') {
    const v = String(raw).trim();
    if (!/^\d+(\.\d+)?(ms|s|m|h)$/.test(v) || Number.parseFloat(v) <= 0) throw new Error(`invalid ${k} "${v}" (expected a duration such as 1m, 10s, 500ms)`);
    return v;
  }
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (typeof raw === 'boolean' || String(raw).trim() === '' || !Number.isInteger(n) || n < (field === 'max_tokens' ? 1 : 0)) {
    throw new Error(`invalid ${k} "${String(raw)}" (expected a whole number${field === 'max_tokens' ? ' of at least 1' : ''})`);
  }
  return n;
}

function toBool(k: string, v: unknown): boolean {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new Error(`invalid ${k} "${String(v)}" (valid: true, false)`);
}

/** Feature flags tais acts on (AIStore's names); `none` clears them all. */
export const FEATURES: readonly string[] = ['S3-API-via-Root', 'S3-Presigned-Request', 'Streaming-Cold-GET'];
/** AIStore's feature bits (cmn/feat), by position: a numeric `features` value maps through them. */
const AIS_FEATURE_BITS: readonly string[] = [
  'Enforce-IntraCluster-Access', 'Skip-Loading-VersionChecksum-MD', 'Do-not-Auto-Detect-FileShare', 'S3-API-via-Root',
  'Fsync-PUT', 'LZ4-Block-1MB', 'LZ4-Frame-Checksum', 'Do-not-Allow-Passing-FQN-to-ETL', 'Ignore-LimitedCoexistence-Conflicts',
  'S3-Presigned-Request', 'Do-not-Optimize-Listing-Virtual-Dirs', 'Disable-Cold-GET', 'Streaming-Cold-GET',
];

/** Parses a `features` value: names (comma- or space-separated), `none`, or AIStore's numeric bitmask. */
export function parseFeatures(raw: unknown): string[] {
  const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(/[\s,]+/).filter((s) => s !== '');
  const out: string[] = [];
  for (const item of items) {
    if (item === 'none') continue;
    let names = [item];
    if (/^\d+$/.test(item)) {
      const bits = BigInt(item);
      names = [];
      for (let i = 0; i < 64; i++) {
        if (((bits >> BigInt(i)) & 1n) === 0n) continue;
        const name = AIS_FEATURE_BITS[i];
        if (!name) throw new Error(`feature bit ${i} is not supported by tais (supported: ${FEATURES.join(', ')}, none)`);
        names.push(name);
      }
    }
    for (const name of names) {
      const known = FEATURES.find((f) => f.toLowerCase() === name.toLowerCase());
      if (!known) throw new Error(`invalid or unsupported feature "${name}" (valid: ${FEATURES.join(', ')}, none)`);
      if (!out.includes(known)) out.push(known);
    }
  }
  return out;
}

/** Config that cannot change at run time: identity and secrets, and what a node reads once at start. */
const READ_ONLY_CONFIG = new Set(['version', 'auth', 'io.direct', 'io.buffer_size', 'io.put_buffers_max', 'io.open_cache_max', 'net.http_threads']);

/**
 * Applies `section.key=value` changes (a nested object, or flat dotted keys) to a copy of the cluster
 * config: only existing keys, values of the same type; throws a message naming the valid values.
 */
export function setClusterConfig(conf: ClusterConfig, changes: Record<string, unknown>): ClusterConfig {
  const out = structuredClone(conf);
  for (const [key, raw] of Object.entries(flatten(changes))) {
    const parts = key.split('.');
    if (READ_ONLY_CONFIG.has(parts[0]!) || READ_ONLY_CONFIG.has(key)) throw new Error(`config "${key}" cannot be changed at run time (set it in the --config file)`);
    if (key === 'features') {
      out.features = parseFeatures(raw);
      continue;
    }
    if (key.startsWith('rate_limit.frontend.')) {
      const field = key.slice('rate_limit.frontend.'.length) as keyof FrontendRateLimit;
      if (!(field in DEFAULT_FRONTEND_RATE_LIMIT)) throw new Error(`unknown config "${key}"`);
      out.rate_limit = { frontend: { ...(out.rate_limit?.frontend ?? DEFAULT_FRONTEND_RATE_LIMIT), [field]: rateLimitValue(key, field, raw) } };
      continue;
    }
    if (key === 'checksum.type') {
      const v = String(raw) as ChecksumType;
      if (!CHECKSUM_TYPES.includes(v)) throw new Error(`invalid checksum.type "${v}" (valid: ${CHECKSUM_TYPES.join(', ')})`);
      out.checksum.type = v;
      continue;
    }
    let obj = out as unknown as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
      const next = obj[p];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new Error(`unknown config "${key}"`);
      obj = next as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    const cur = obj[last];
    if (!Object.hasOwn(obj, last) || cur === null || typeof cur === 'object') throw new Error(`unknown config "${key}"`);
    if (typeof cur === 'boolean') obj[last] = toBool(key, raw);
    else if (typeof cur === 'number') {
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (typeof raw === 'boolean' || String(raw).trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`invalid ${key} "${String(raw)}" (expected a non-negative number)`);
      obj[last] = n;
    } else obj[last] = String(raw);
  }
  return out;
}

/** `over` laid onto `base` section by section (arrays and scalars replace; objects merge). */
export function mergeConfig(base: ClusterConfig, over: Partial<ClusterConfig>): ClusterConfig {
  return deepMerge(base as unknown as Record<string, unknown>, over as Record<string, unknown>) as unknown as ClusterConfig;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    const bothObjects = v !== null && typeof v === 'object' && !Array.isArray(v) && b !== null && typeof b === 'object' && !Array.isArray(b);
    out[k] = bothObjects ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** `net.http_threads`, 0 meaning one per core. */
export function httpThreads(config: ClusterConfig): number {
  const n = config.net?.http_threads ?? 0;
  return n > 0 ? Math.floor(n) : Math.max(1, os.availableParallelism());
}
