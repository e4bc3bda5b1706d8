// Frontend rate limiting (AIStore's rate_limit.frontend): each gateway lets through its share of a
// bucket's `max_tokens` requests per `interval` per verb (GET, PUT, DELETE), with bursts of up to
// `burst_size` more; beyond it a request is refused at once (S3: 503 SlowDown, which every S3 client
// backs off and retries; native API: 429 Too Many Requests, as AIStore). The share is 1/N of the
// cluster's active proxies, as AIStore assumes a load balancer spreads clients over its gateways.
//
// The limiter is GCRA (the "virtual scheduling" form of a token bucket): one number per (bucket, verb),
// the theoretical arrival time of the next request; a request may come when that time is at most
// `burst` intervals ahead of now, and moves it one emission interval on. One number means it lives in
// a SharedArrayBuffer updated with compare-and-swap, so the node's HTTP threads (which share one port,
// and so one client's connections) draw from the same budget.
import { xxh64String } from '../native';
import type { Node } from '../cluster/node';
import { DEFAULT_FRONTEND_RATE_LIMIT, type ClusterConfig, type BucketProps, type FrontendRateLimit } from '../cluster/config';

const SLOTS = 1024;
/** Two BigInt64 per slot: key (0 = free) and the theoretical arrival time in microseconds. */
export const RATE_LIMIT_BYTES = SLOTS * 16;

/** "1m", "10s", "500ms", "2h" -> milliseconds; NaN when it is none of these. */
export function parseInterval(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(s.trim());
  if (!m) return NaN;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** The bucket's limit: its own settings over the cluster's (a bucket keeps only what it overrides). */
export function frontendLimit(config: ClusterConfig, props: BucketProps | undefined): FrontendRateLimit {
  const own = props?.rate_limit?.frontend;
  const base = config.rate_limit?.frontend ?? DEFAULT_FRONTEND_RATE_LIMIT;
  return own ? { ...base, ...own } : base;
}

export type Verb = 'GET' | 'PUT' | 'DELETE';

export function verbOf(method: string): Verb {
  return method === 'PUT' || method === 'POST' ? 'PUT' : method === 'DELETE' ? 'DELETE' : 'GET';
}

export class FrontendLimiter {
  private readonly slots: BigInt64Array;
  private full = false;

  constructor(sab: SharedArrayBuffer) {
    this.slots = new BigInt64Array(sab);
  }

  /**
   * 0 when the request may go, else the milliseconds until it could. `share` divides max_tokens
   * (the gateways' count). A full table (over 1,024 active bucket-verbs) lets requests through.
   */
  take(bucket: string, verb: Verb, lim: FrontendRateLimit, share: number, nowUs = nowMicros()): number {
    const intervalMs = parseInterval(lim.interval);
    const tokens = lim.max_tokens / Math.max(1, share);
    if (!(intervalMs > 0) || !(tokens > 0)) return 0;
    const emission = BigInt(Math.max(1, Math.round((intervalMs * 1000) / tokens)));
    const tolerance = emission * BigInt(Math.max(0, Math.floor(lim.burst_size)));
    const i = this.slotOf(bucket, verb);
    if (i < 0) return 0;
    const at = i * 2 + 1;
    for (;;) {
      const old = Atomics.load(this.slots, at);
      const tat = old > nowUs ? old : nowUs;
      if (tat - nowUs > tolerance) return Math.max(1, Math.ceil(Number(tat - nowUs - tolerance) / 1000));
      if (Atomics.compareExchange(this.slots, at, old, tat + emission) === old) return 0;
    }
  }

  /** The slot of (bucket, verb): open addressing over the key's hash; -1 when the table is full. */
  private slotOf(bucket: string, verb: Verb): number {
    const key = BigInt.asIntN(64, xxh64String(`${verb}\0${bucket}`) | 1n);
    const start = Number(BigInt.asUintN(64, key) % BigInt(SLOTS));
    for (let n = 0; n < SLOTS; n++) {
      const i = (start + n) % SLOTS;
      const k = Atomics.load(this.slots, i * 2);
      if (k === key) return i;
      if (k === 0n) {
        const won = Atomics.compareExchange(this.slots, i * 2, 0n, key);
        if (won === 0n || won === key) return i;
      }
    }
    this.full = true;
    return -1;
  }

  get tableFull(): boolean {
    return this.full;
  }
}

function nowMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/**
 * The milliseconds a client request on `bucket` must wait, or 0 when it may go now: checked once, on
 * the node the client reached (not on the target a gateway forwards it to). Free when the bucket's
 * limit is off.
 */
export function frontendWait(node: Node, bucket: string, method: string): number {
  const lim = frontendLimit(node.config, node.bmd.get(bucket));
  if (!lim.enabled) return 0;
  const proxies = Object.keys(node.smap.data.pmap).length;
  return node.limiter.take(bucket, verbOf(method), lim, proxies);
}
