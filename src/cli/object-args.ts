// What the ais object commands share: BUCKET/OBJECT arguments, the object's API path, progress bars.
import { UsageError, type Flags } from './command';
import { bucketString, encodePath, parseUri, Progress, type BucketName } from './format';

/** Transfers at least this large show a progress bar when stderr is a terminal. */
const PROGRESS_MIN = 8 << 20;

export function objectArg(arg: string, p: string, needObj = true): { bucket: BucketName; obj: string } {
  let r;
  try {
    r = parseUri(arg);
  } catch (err) {
    throw new UsageError((err as Error).message, p);
  }
  if (needObj && r.obj === '') throw new UsageError(`"${arg}": missing object name (expected BUCKET/OBJECT, e.g. ${bucketString(r.bucket)}/name)`, p);
  return r;
}

export function opath(b: BucketName, obj: string): string {
  return `/v1/objects/${encodeURIComponent(b.name)}/${encodePath(obj)}`;
}

export function showProgress(flags: Flags, size: number): boolean {
  if (flags.progress) return true;
  return process.stderr.isTTY === true && (size < 0 || size >= PROGRESS_MIN);
}

export function progressFor(label: string, size: number): Progress {
  return new Progress(label, size, process.stderr.isTTY === true, (s) => process.stderr.write(s));
}
