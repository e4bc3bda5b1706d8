// Custom metadata of a stored object (AIStore's set-custom: PATCH /v1/objects/BUCKET/OBJECT with
// {"value":{"key":"value",...}}, `?set-new-custom=true` to replace what is there instead of adding to
// it; `ais object set-custom`). The keys are the object's user metadata — the same map S3 PUTs fill from
// x-amz-meta-* and HEAD returns as x-amz-meta-* and Ais-Custom-Md — so they are lowercased, and what
// would not survive that header's "k=v,k=v" form is refused. One setxattr on the object's own file:
// the bytes and checksums are untouched, and a PUT of the same name meanwhile wins (its rename replaces
// the file this wrote to), as with tags (tagging.ts).
import fs from 'node:fs';
import { writeLomFd } from '../fs/lom';
import type { Target } from './target';
import { badRequest, notFound } from '../api/native';

/** The {key: value} map of a set-custom message, checked and with lowercased keys. */
export function parseCustomMd(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('set-custom: the value must be an object of "key": "value" strings');
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw badRequest(`set-custom: the value of "${k}" must be a string`);
    const key = k.trim().toLowerCase();
    if (key === '' || /[=,\s]/.test(key) || /[\x00-\x1f\x7f]/.test(key)) throw badRequest(`set-custom: invalid key "${k}" (no '=', ',', spaces or control characters)`);
    if (v.includes(',') || /[\x00-\x1f\x7f]/.test(v)) throw badRequest(`set-custom: invalid value of "${k}" (no ',' or control characters)`);
    out[key] = v.trim();
  }
  return out;
}

/** Adds `custom` to the object's metadata (or replaces it with `custom` when `replace`). */
export function setCustomMd(target: Target, bucket: string, objName: string, custom: Record<string, string>, replace: boolean): void {
  const h = target.openObject(bucket, objName);
  if (!h) throw notFound(`object "${bucket}/${objName}"`);
  try {
    const meta = { ...(replace ? {} : h.lom.meta), ...custom };
    const next = { ...h.lom };
    if (Object.keys(meta).length) next.meta = meta;
    else delete next.meta;
    try {
      writeLomFd(h.fd, next);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'MetadataTooLarge') throw badRequest(`set-custom: ${(err as Error).message}`);
      throw err;
    }
  } finally {
    fs.closeSync(h.fd);
  }
}
