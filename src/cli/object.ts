// ais object put | show | rm | mv | set-custom | cat (get: object-get.ts) and the aliases ais put, ais get,
// ais rmo. Bodies stream both ways (nothing is held in memory); a progress bar shows on long transfers.
import fs from 'node:fs';
import path from 'node:path';
import { CliError, UsageError, intFlag, needArgs, type Command, type Ctx, type Flags } from './command';
import type { Readable } from 'node:stream';
import { bucketString, providerQuery, sizeIEC, table, type BucketName } from './format';
import { apiError, readAll } from './client';
import { formatTime } from '../api/lso';
import { listRangeValue, selection, waitJob } from './job';
import { objectArg, opath, progressFor, showProgress } from './object-args';
import { get } from './object-get';
import { promote } from './object-promote';

const put: Command = {
  name: 'put',
  summary: 'upload a file (or stdin) as an object',
  args: 'FILE|- BUCKET[/OBJECT]',
  description: 'Without an object name (or with a trailing "/") the object is named after the file.\n"-" reads the object from stdin (an object name is required).',
  options: {
    progress: { type: 'boolean', help: 'show a progress bar (shown by default on a terminal for 8 MiB and more)' },
    recursive: { type: 'boolean', short: 'r', help: 'upload a directory: every file under it, named by its path relative to it' },
    conc: { type: 'string', arg: 'N', help: 'with --recursive: files uploaded at once (default 8)' },
  },
  examples: [
    'ais put file.txt ais://demo/obj',
    'ais put README.md ais://demo/docs/',
    'tar c dir | ais put - ais://demo/dir.tar',
    'ais put ./images ais://demo/train/ -r',
  ],
  async run(ctx, pos, flags) {
    const p = 'ais object put';
    needArgs(pos, 2, 2, pos.length === 0 ? 'file name and destination (FILE BUCKET/OBJECT)' : 'destination (BUCKET/OBJECT)', p);
    const src = pos[0]!;
    const { bucket, obj: given } = objectArg(pos[1]!, p, false);
    let obj = given;
    let size = -1;
    if (src === '-') {
      if (obj === '' || obj.endsWith('/')) throw new UsageError('reading stdin ("-") needs an object name: BUCKET/OBJECT', p);
    } else {
      let st: fs.Stats;
      try {
        st = fs.statSync(src);
      } catch (err) {
        throw new CliError(`cannot read "${src}": ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      if (st.isDirectory()) {
        if (!flags.recursive) throw new UsageError(`"${src}" is a directory: add --recursive (-r) to upload the files under it`, p);
        return putDir(ctx, src, bucket, obj, flags, p);
      }
      if (flags.recursive) throw new UsageError(`--recursive: "${src}" is not a directory`, p);
      size = st.size;
      if (obj === '' || obj.endsWith('/')) obj += path.basename(src);
    }
    const progress = showProgress(flags, size) ? progressFor(`PUT ${obj}`, size) : undefined;
    await putFile(ctx, src, size, bucket, obj, (n) => progress?.add(n));
    progress?.finish();
    ctx.out(`PUT "${src === '-' ? '(stdin)' : src}" => ${bucketString(bucket)}/${obj}`);
  },
};

/** One PUT: the file (or stdin for "-") streams as the request body. */
async function putFile(ctx: Ctx, src: string, size: number, bucket: BucketName, obj: string, onBytes: (n: number) => void): Promise<void> {
  const body = (): Readable => {
    const s: Readable = src === '-' ? process.stdin : fs.createReadStream(src, { highWaterMark: 1 << 20 });
    s.on('data', (c: Buffer) => onBytes(c.length));
    return s;
  };
  const res = await ctx.api.send('PUT', ctx.api.url(opath(bucket, obj), providerQuery(bucket)), { 'Content-Type': 'application/octet-stream' }, body, size >= 0 ? size : undefined);
  const reply = await readAll(res);
  if ((res.statusCode ?? 0) >= 400) throw apiError({ status: res.statusCode ?? 0, headers: res.headers, body: reply }, 'PUT');
}

/**
 * `ais put DIR BUCKET[/PREFIX] -r`: every regular file under DIR becomes PREFIX + its relative path
 * ('/'-separated). Files go `--conc` at a time; the first failure stops new uploads and is the error
 * (files already uploaded stay: the command can be run again).
 */
async function putDir(ctx: Ctx, dir: string, bucket: BucketName, prefix: string, flags: Flags, p: string): Promise<void> {
  const conc = intFlag(flags, 'conc', p) ?? 8;
  if (conc < 1) throw new UsageError('--conc must be at least 1', p);
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const files = listFiles(dir);
  if (files.length === 0) throw new CliError(`"${dir}": no files to upload`);
  const total = files.reduce((n, f) => n + f.size, 0);
  const progress = flags.progress || process.stderr.isTTY ? progressFor(`PUT ${files.length} files`, total) : undefined;
  let next = 0;
  let failed: Error | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < files.length) {
      const f = files[next++]!;
      try {
        await putFile(ctx, f.path, f.size, bucket, prefix + f.rel, (n) => progress?.add(n));
      } catch (err) {
        failed ??= Object.assign(new CliError(`PUT "${f.path}" => ${bucketString(bucket)}/${prefix + f.rel}: ${(err as Error).message}`), { status: (err as { status?: number }).status });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, files.length) }, worker));
  if (failed !== undefined) throw failed;
  progress?.finish();
  ctx.out(`PUT ${files.length} ${files.length === 1 ? 'object' : 'objects'} (${sizeIEC(total)}) "${dir}" => ${bucketString(bucket)}/${prefix}`);
}

/** Regular files under `dir` (symlinks to files followed, to directories not: no cycles), sorted. */
function listFiles(dir: string): { path: string; rel: string; size: number }[] {
  const out: { path: string; rel: string; size: number }[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
      const a = path.join(abs, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(a, r);
      else {
        const st = fs.statSync(a, { throwIfNoEntry: false });
        if (st?.isFile()) out.push({ path: a, rel: r, size: st.size });
      }
    }
  };
  walk(dir, '');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

const SHOW_DEFAULT = ['name', 'size', 'checksum', 'atime'];
const SHOW_ALL = ['name', 'size', 'checksum', 'atime', 'version', 'etag', 'content-type', 'custom', 'location', 'copies'];

const show: Command = {
  name: 'show',
  summary: "show an object's properties (size, checksum type and value, ...)",
  args: 'BUCKET/OBJECT',
  options: {
    props: { type: 'string', arg: 'PROPS', help: `comma-separated (${SHOW_ALL.join(',')}) or "all" (default: ${SHOW_DEFAULT.join(',')})` },
    json: { type: 'boolean', short: 'j', help: 'print JSON' },
    'no-headers': { type: 'boolean', short: 'H', help: 'no table header' },
  },
  examples: ['ais object show ais://demo/obj', 'ais object show ais://demo/obj --props all'],
  async run(ctx, pos, flags) {
    const p = 'ais object show';
    needArgs(pos, 1, 1, 'object (BUCKET/OBJECT)', p);
    const { bucket, obj } = objectArg(pos[0]!, p);
    const props = flags.props === 'all' ? SHOW_ALL : typeof flags.props === 'string' ? flags.props.split(',').map((s) => s.trim()).filter(Boolean) : SHOW_DEFAULT;
    for (const x of props) if (!SHOW_ALL.includes(x)) throw new UsageError(`unknown object property "${x}" (valid: ${SHOW_ALL.join(', ')}, all)`, p);
    const r = await ctx.api.call('HEAD', opath(bucket, obj), { query: providerQuery(bucket), allow404: true });
    if (r.status === 404) {
      const b = await ctx.api.call('HEAD', `/v1/buckets/${encodeURIComponent(bucket.name)}`, { query: providerQuery(bucket), allow404: true });
      throw new CliError(b.status === 404 ? `bucket "${bucketString(bucket)}" does not exist` : `object "${bucketString(bucket)}/${obj}" does not exist`);
    }
    const h = r.headers;
    const one = (k: string): string => {
      const v = h[k];
      return Array.isArray(v) ? v.join(',') : (v ?? '');
    };
    const size = Number(one('content-length'));
    const atimeNs = one('ais-atime');
    const type = one('ais-checksum-type');
    const value = one('ais-checksum-value');
    const values: Record<string, { text: string; json: unknown }> = {
      name: { text: `${bucketString(bucket)}/${obj}`, json: `${bucketString(bucket)}/${obj}` },
      size: { text: sizeIEC(size), json: size },
      checksum: { text: type ? `${type}[${value}]` : '-', json: type ? { type, value } : null },
      atime: { text: atimeNs ? formatTime(Number(BigInt(atimeNs) / 1_000_000n)) : '-', json: atimeNs || null },
      version: { text: one('ais-version') || '-', json: one('ais-version') || null },
      etag: { text: one('etag').replace(/"/g, '') || '-', json: one('etag').replace(/"/g, '') || null },
      'content-type': { text: one('content-type') || '-', json: one('content-type') || null },
      custom: { text: one('ais-custom-md') || '-', json: one('ais-custom-md') || null },
      location: { text: one('ais-location') || '-', json: one('ais-location') || null },
      copies: { text: one('ais-mirror-copies') || '-', json: Number(one('ais-mirror-copies') || 0) },
    };
    if (flags.json) {
      ctx.out(JSON.stringify(Object.fromEntries(props.map((x) => [x, values[x]!.json])), null, 2));
      return;
    }
    ctx.out(table(['PROPERTY', 'VALUE'], props.map((x) => [x, values[x]!.text]), Boolean(flags['no-headers'])));
  },
};

const rm: Command = {
  name: 'rm',
  summary: 'delete objects (by name, or many at once by --list or --template: a job on every target)',
  args: 'BUCKET/OBJECT [BUCKET/OBJECT...] | BUCKET --list NAMES | BUCKET --template TEMPLATE',
  options: { list: selection.list, template: selection.template, wait: selection.wait },
  examples: ['ais object rm ais://demo/obj', 'ais rmo ais://demo --template "tmp/part-{000..999}" --wait'],
  async run(ctx, pos, flags) {
    const p = 'ais object rm';
    if (typeof flags.list === 'string' || typeof flags.template === 'string') {
      needArgs(pos, 1, 1, 'bucket', p);
      const { bucket } = objectArg(pos[0]!, p, false);
      const value = listRangeValue(flags, p);
      const r = await ctx.api.call('DELETE', `/v1/buckets/${encodeURIComponent(bucket.name)}`, { query: providerQuery(bucket), json: { action: 'delete-listrange', value } });
      const id = r.body.toString('utf8').trim();
      ctx.out(`delete-objects[${id}]: ${bucketString(bucket)}. To monitor the progress, run 'ais show job ${id}'`);
      if (flags.wait) await waitJob(ctx, id);
      return;
    }
    needArgs(pos, 1, Infinity, 'object (BUCKET/OBJECT)', p);
    for (const a of pos) {
      const { bucket, obj } = objectArg(a, p);
      await ctx.api.call('DELETE', opath(bucket, obj), { query: providerQuery(bucket) });
      ctx.out(`deleted "${obj}" from ${bucketString(bucket)}`);
    }
  },
};

const mv: Command = {
  name: 'mv',
  summary: 'rename an object within its bucket (ais:// buckets)',
  args: 'BUCKET/OBJECT NEW_OBJECT_NAME',
  examples: ['ais object mv ais://demo/old.txt new.txt', 'ais object mv ais://demo/a/b.bin ais://demo/c/d.bin'],
  async run(ctx, pos) {
    const p = 'ais object mv';
    needArgs(pos, 2, 2, 'object and its new name', p);
    const { bucket, obj } = objectArg(pos[0]!, p);
    if (bucket.provider !== 'ais') throw new UsageError(`provider "${bucket.provider}" not supported (ais:// buckets only)`, p);
    let to = pos[1]!;
    if (to.includes('://')) {
      const dst = objectArg(to, p);
      if (dst.bucket.name !== bucket.name || dst.bucket.provider !== bucket.provider) {
        throw new UsageError(`moving an object to another bucket (${bucketString(dst.bucket)}) is not supported`, p);
      }
      to = dst.obj;
    }
    if (to === obj) throw new UsageError('source and destination are the same object', p);
    await ctx.api.call('POST', opath(bucket, obj), { query: providerQuery(bucket), json: { action: 'rename-obj', name: to } });
    ctx.out(`${bucketString(bucket)}/${obj} moved to ${bucketString(bucket)}/${to}`);
  },
};

/** AIStore's `ais object set-custom`: custom (user) metadata of a stored object, added or replaced. */
const setCustom: Command = {
  name: 'set-custom',
  summary: "add custom metadata to an object (its user metadata: S3's x-amz-meta-*), or replace it all",
  args: 'BUCKET/OBJECT KEY=VALUE [KEY=VALUE...]',
  options: { 'set-new-custom': { type: 'boolean', help: 'replace the object\'s custom metadata instead of adding to it' } },
  examples: ['ais object set-custom ais://demo/img.jpg label=cat split=train', 'ais object set-custom ais://demo/img.jpg label=dog --set-new-custom'],
  async run(ctx, pos, flags) {
    const p = 'ais object set-custom';
    needArgs(pos, 2, Infinity, 'object and KEY=VALUE pairs', p);
    const { bucket, obj } = objectArg(pos[0]!, p);
    const value: Record<string, string> = {};
    for (const kv of pos.slice(1)) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new UsageError(`"${kv}": expected KEY=VALUE`, p);
      value[kv.slice(0, i)] = kv.slice(i + 1);
    }
    const query = { ...providerQuery(bucket), ...(flags['set-new-custom'] ? { 'set-new-custom': 'true' } : {}) };
    await ctx.api.call('PATCH', opath(bucket, obj), { query, json: { action: '', value } });
    ctx.out(`Custom props successfully updated for ${bucketString(bucket)}/${obj}`);
  },
};

/** AIStore's `ais object cat`: `ais get BUCKET/OBJECT -`, with the same range flags. */
const cat: Command = {
  name: 'cat',
  summary: "print an object's content to stdout (ais get BUCKET/OBJECT -)",
  args: 'BUCKET/OBJECT',
  options: { offset: get.options!.offset!, length: get.options!.length! },
  examples: ['ais object cat ais://demo/notes.txt', 'ais object cat ais://demo/shard.tar --offset 512 --length 100'],
  async run(ctx, pos, flags) {
    needArgs(pos, 1, 1, 'object (BUCKET/OBJECT)', 'ais object cat');
    await get.run!(ctx, [pos[0]!, '-'], flags);
  },
};

export const objectCommand: Command = {
  name: 'object',
  summary: 'put, get, cat, show, rename, promote and remove objects',
  sub: [put, get, cat, show, setCustom, mv, promote, rm],
};

export const putAlias: Command = { ...put, summary: `${put.summary} (ais object put)` };
export const getAlias: Command = { ...get, summary: `${get.summary} (ais object get)` };
export const rmoAlias: Command = { ...rm, name: 'rmo', summary: 'delete objects (ais object rm)' };
