// Virtual-hosted-style addressing: with a domain configured (cluster config s3.virtual_host_domain,
// e.g. "s3.example.com"), a request whose Host is "<bucket>.<domain>[:port]" names its bucket in the
// Host and its key in the path — what SDKs send unless told to use path style. Requests to the domain
// itself, to an IP or to any other name stay path-style.

// Bucket names S3 allows in a host name: lower-case letters, digits, '-' and '.' (dotted names too).
const BUCKET_LABELS = /^[a-z0-9][a-z0-9.-]*$/;

/** The bucket named by `host` under `domain`, or undefined when the request is path-style. */
export function virtualHostBucket(domain: string | undefined, host: string | undefined): string | undefined {
  if (!domain || !host) return undefined;
  let name = host.toLowerCase();
  // Strip the port (IPv6 literals in brackets never name a bucket).
  if (name.startsWith('[')) return undefined;
  const colon = name.lastIndexOf(':');
  if (colon >= 0) name = name.slice(0, colon);
  if (name.endsWith('.')) name = name.slice(0, -1); // a fully qualified name
  const suffix = '.' + domain.toLowerCase().replace(/\.$/, '');
  if (name.length <= suffix.length || !name.endsWith(suffix)) return undefined;
  const bucket = name.slice(0, -suffix.length);
  return BUCKET_LABELS.test(bucket) ? bucket : undefined;
}
