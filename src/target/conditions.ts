// Conditional requests (RFC 9110 §13): If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since
// on GET/HEAD, their x-amz-copy-source-if-* twins on CopyObject, and If-None-Match: * / If-Match on PUT.
//
// GET/HEAD and copy-source conditions are evaluated against the metadata of the handle that is then
// served or copied (one open, one LOM): what was checked is what is sent.
// PUT conditions are checked twice: before the body is read (fail fast, nothing stored) and again in the
// finalize task right before the rename that publishes the object (checkAndPublish below). With
// If-None-Match: * the publish is a link(2), which fails when the name exists: create-only is atomic.
// With If-Match there is no compare-and-swap on a file name, so conditional publishes of one key are
// serialized across the pool's worker threads by a lock table in a SharedArrayBuffer (one slot per hash
// of the destination path; a collision only serializes two keys for microseconds): of two If-Match PUTs
// naming the same ETag, exactly one wins. What remains is the window between reading the current object's
// metadata and rename(2), a few microseconds in one worker: an unconditional PUT of the same key (which
// takes no lock) that renames inside it is overwritten although the ETag compared was the older one.
//
// This file is imported by Piscina workers: keep its imports free of the HTTP layer.
import fs from 'node:fs';
import path from 'node:path';
import { getxattr } from '../native';
import { decodeLom, etagOf, LOM_XATTR, type Lom } from '../fs/lom';
import { parseHttpDate } from '../s3/time';
import { S3Error } from '../s3/errors';
import type { Target } from './target';

/** Raw header values ('' when absent), as the client sent them. */
export interface ConditionHeaders {
  ifMatch: string;
  ifNoneMatch: string;
  ifModifiedSince: string;
  ifUnmodifiedSince: string;
}

export type HeaderGet = (name: string) => string;

/** If-* headers of GET/HEAD/PUT; `prefix` 'x-amz-copy-source-' gives CopyObject's source conditions. */
export function conditionHeaders(get: HeaderGet, prefix = ''): ConditionHeaders {
  return {
    ifMatch: get(prefix + 'if-match'),
    ifNoneMatch: get(prefix + 'if-none-match'),
    ifModifiedSince: get(prefix + 'if-modified-since'),
    ifUnmodifiedSince: get(prefix + 'if-unmodified-since'),
  };
}

export function hasConditions(c: ConditionHeaders): boolean {
  return c.ifMatch !== '' || c.ifNoneMatch !== '' || c.ifModifiedSince !== '' || c.ifUnmodifiedSince !== '';
}

export type Verdict =
  | { ok: true }
  /** 304 for GET/HEAD (412 for the copy source). */
  | { ok: false; status: 304; condition: string }
  | { ok: false; status: 412; condition: string };

const OK: Verdict = { ok: true };

/** ETag without quotes and weakness prefix: S3 clients send both "abc" and abc. */
function bareTag(t: string): string {
  let s = t.trim();
  if (s.startsWith('W/')) s = s.slice(2);
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1);
  return s;
}

/**
 * Does a list of entity tags (`"a", "b"`, or `*`) match the current object? `*` matches any existing
 * object; an object without an ETag matches nothing else. Our ETags never contain commas.
 */
export function etagMatches(list: string, etag: string | undefined): boolean {
  for (const part of list.split(',')) {
    const t = part.trim();
    if (t === '') continue;
    if (t === '*') return true;
    if (etag !== undefined && bareTag(t) === etag) return true;
  }
  return false;
}

/** Last-Modified as the client saw it: HTTP dates have whole seconds. */
function lastModifiedSec(mtimeMs: number): number {
  return Math.floor(mtimeMs / 1000) * 1000;
}

/**
 * RFC 9110 §13.2.2, the order S3 follows:
 * 1. If-Match present: false → 412 (and If-Unmodified-Since is not looked at: true + false → 200).
 * 2. otherwise If-Unmodified-Since (a valid date): modified after it → 412.
 * 3. If-None-Match present: matches → 304 (and If-Modified-Since is not looked at: false + true → 304).
 * 4. otherwise If-Modified-Since (a valid date): not modified after it → 304.
 * Dates that do not parse are ignored, as the RFC says.
 */
export function evaluate(c: ConditionHeaders, etag: string | undefined, mtimeMs: number): Verdict {
  const lm = lastModifiedSec(mtimeMs);
  if (c.ifMatch !== '') {
    if (!etagMatches(c.ifMatch, etag)) return { ok: false, status: 412, condition: 'If-Match' };
  } else if (c.ifUnmodifiedSince !== '') {
    const d = parseHttpDate(c.ifUnmodifiedSince);
    if (d !== undefined && lm > d) return { ok: false, status: 412, condition: 'If-Unmodified-Since' };
  }
  if (c.ifNoneMatch !== '') {
    if (etagMatches(c.ifNoneMatch, etag)) return { ok: false, status: 304, condition: 'If-None-Match' };
  } else if (c.ifModifiedSince !== '') {
    const d = parseHttpDate(c.ifModifiedSince);
    if (d !== undefined && lm <= d) return { ok: false, status: 304, condition: 'If-Modified-Since' };
  }
  return OK;
}

export function evaluateLom(c: ConditionHeaders, lom: Lom): Verdict {
  return evaluate(c, etagOf(lom), lom.mtime);
}

export function preconditionFailed(condition: string): S3Error {
  return new S3Error('PreconditionFailed', undefined, { Condition: condition });
}

// ---- PUT: If-None-Match: * and If-Match, checked again at publish time

/** What a conditional PUT (or copy) expects of the object it replaces. Plain data: crosses to workers. */
export interface PublishCondition {
  /** If-None-Match: * — only create. */
  noneMatchStar: boolean;
  /** If-Match list as sent, '' when absent: replace only an object with one of these ETags. */
  ifMatch: string;
  /** Every file the object may live in (the HRW mountpath first): an object found on another one counts. */
  paths: string[];
  /** The process-wide lock table (shared with every worker) and this destination's slot in it. */
  locks: Int32Array;
  slot: number;
}

const LOCK_SLOTS = 4096;
let lockTable: Int32Array | undefined;

/**
 * Created once in the main thread; travels to workers inside each task (a SharedArrayBuffer is shared, not
 * copied). The buffer holds two more tables of the same size after the first: cold-GET claims
 * (`coldClaims`) and multipart completion claims (`completionClaims`), held for a whole fetch or
 * assembly, so they must not share slots with these short locks.
 */
function publishLocks(): Int32Array {
  return (lockTable ??= new Int32Array(new SharedArrayBuffer(LOCK_SLOTS * 12), 0, LOCK_SLOTS));
}

/** The cold-GET claim table: one slot per object name hash, 1 while some thread of the node fetches it. */
export function coldClaims(): { table: Int32Array; slot: (id: string) => number } {
  const sab = publishLocks().buffer as SharedArrayBuffer;
  return { table: new Int32Array(sab, LOCK_SLOTS * 4, LOCK_SLOTS), slot: slotOf };
}

/**
 * The multipart completion claim table: one slot per upload-id hash, holding a tag of the id (a second,
 * non-zero hash) while some thread of the node completes that upload. The tag lets "is this upload
 * being completed?" be answered without false positives from another upload in the same slot.
 */
export function completionClaims(): { table: Int32Array; slot: (id: string) => number; tag: (id: string) => number } {
  const sab = publishLocks().buffer as SharedArrayBuffer;
  return { table: new Int32Array(sab, LOCK_SLOTS * 8, LOCK_SLOTS), slot: slotOf, tag: tagOf };
}

function tagOf(id: string): number {
  let h = 0x01000193; // a second spread, independent of slotOf's
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x5bd1e995) ^ (h >>> 15);
  return h | 1; // never 0, the free value
}

/** The process-wide table, for the node's other HTTP threads (their pools must lock the same slots). */
export function lockTableBuffer(): SharedArrayBuffer {
  return publishLocks().buffer as SharedArrayBuffer;
}

/** In an extra HTTP thread, before any request: use the main thread's table. */
export function useLockTable(sab: SharedArrayBuffer): void {
  lockTable = new Int32Array(sab, 0, LOCK_SLOTS);
}

function slotOf(p: string): number {
  let h = 0x811c9dc5; // FNV-1a over UTF-16 units: any stable spread will do
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p.charCodeAt(i), 0x01000193);
  return (h >>> 0) % LOCK_SLOTS;
}

/** Worker threads only (Atomics.wait blocks). */
function lockSlot(t: Int32Array, i: number): void {
  while (Atomics.compareExchange(t, i, 0, 1) !== 0) Atomics.wait(t, i, 1, 5);
}

function unlockSlot(t: Int32Array, i: number): void {
  Atomics.store(t, i, 0);
  Atomics.notify(t, i, 1);
}

/** Every file an object may be in: its HRW mountpath first, then the others (as Target.openObject looks). */
export function objectPaths(target: Target, bucket: string, key: string): string[] {
  const first = target.mountpathFor(bucket, key);
  return [first, ...target.mountpaths.filter((mp) => mp !== first)].map((mp) => target.objectFile(mp, bucket, key));
}

/**
 * The write conditions of a PUT request, or undefined when there are none. S3 supports only `*` in
 * If-None-Match on writes: anything else is NotImplemented, as S3 answers.
 */
export function putCondition(get: HeaderGet, paths: string[]): PublishCondition | undefined {
  const inm = get('if-none-match').trim();
  const im = get('if-match').trim();
  if (inm === '' && im === '') return undefined;
  if (inm !== '' && inm !== '*') throw new S3Error('NotImplemented', 'If-None-Match on a write supports only "*".');
  return { noneMatchStar: inm === '*', ifMatch: im, paths, locks: publishLocks(), slot: slotOf(paths[0] ?? '') };
}

/** Checks a PUT condition against the current object (or its absence): undefined when it holds. */
export function putConditionError(c: PublishCondition, current: Lom | undefined): { code: 'PreconditionFailed' | 'NoSuchKey'; condition: string } | undefined {
  if (c.noneMatchStar && current !== undefined) return { code: 'PreconditionFailed', condition: 'If-None-Match' };
  if (c.ifMatch !== '') {
    // S3: If-Match on a key that does not exist is 404 NoSuchKey.
    if (current === undefined) return { code: 'NoSuchKey', condition: 'If-Match' };
    if (!etagMatches(c.ifMatch, etagOf(current))) return { code: 'PreconditionFailed', condition: 'If-Match' };
  }
  return undefined;
}

/** The current object at one of the paths, undefined when there is none (unreadable metadata counts as none). */
function currentLom(paths: readonly string[]): Lom | undefined {
  for (const p of paths) {
    let raw: Buffer | undefined;
    try {
      raw = getxattr(p, LOM_XATTR);
    } catch {
      continue; // ENOENT, ENOTDIR, a folder: nothing there
    }
    if (raw === undefined) continue;
    try {
      return decodeLom(raw);
    } catch {
      continue;
    }
  }
  return undefined;
}

export type PublishResult = undefined | { error: string; message: string };

/**
 * Runs in the finalize task, after the work file is complete and closed: checks the condition against
 * what is there now, then publishes. If-None-Match: * publishes with link(2) + unlink, so a rival that
 * published first makes it fail (412) instead of being overwritten. `publish` is the plain rename.
 */
export function checkAndPublish(work: string, dst: string, c: PublishCondition, publish: (work: string, dst: string) => string | undefined): PublishResult {
  lockSlot(c.locks, c.slot);
  try {
    return checkAndPublishLocked(work, dst, c, publish);
  } finally {
    unlockSlot(c.locks, c.slot);
  }
}

function checkAndPublishLocked(work: string, dst: string, c: PublishCondition, publish: (work: string, dst: string) => string | undefined): PublishResult {
  const bad = putConditionError(c, currentLom(c.paths));
  if (bad) return { error: bad.code, message: `${bad.condition} does not hold` };
  if (!c.noneMatchStar) {
    const err = publish(work, dst);
    return err ? { error: err, message: `cannot store object: ${err}` } : undefined;
  }
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      fs.linkSync(work, dst);
      fs.unlinkSync(work);
      return undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (code === 'ENOENT' && attempt < 5) continue; // a DELETE pruned the folder meanwhile
      if (code === 'EEXIST') {
        let dir = false;
        try {
          dir = fs.lstatSync(dst).isDirectory();
        } catch {
          /* gone again */
        }
        return dir ? { error: 'ENAMECONFLICT', message: 'an object and a folder would share a name' } : { error: 'PreconditionFailed', message: 'If-None-Match does not hold' };
      }
      if (code === 'ENOTDIR' || code === 'EISDIR') return { error: 'ENAMECONFLICT', message: 'an object and a folder would share a name' };
      return { error: code, message: `cannot store object: ${code}` };
    }
  }
}
