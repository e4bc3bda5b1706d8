// ais object get (ais get): an object — or a range of it, a file of a shard, the files of a shard that
// match — to a file or stdout, streamed, with the stored checksum checked here too where it can be.
import fs from 'node:fs';
import path from 'node:path';
import { createHash, type Hash } from 'node:crypto';
import { CliError, UsageError, intFlag, needArgs, type Command } from './command';
import { bucketString, providerQuery, sizeIEC, type Progress } from './format';
import { apiError, pipeBody, readAll } from './client';
import { getToFd, ReaderGone } from './download';
import { objectArg, opath, progressFor, showProgress } from './object-args';

const HASHES: Record<string, string> = { md5: 'md5', sha256: 'sha256', sha512: 'sha512' };

export const get: Command = {
  name: 'get',
  summary: 'download an object to a file (or stdout with "-")',
  args: 'BUCKET/OBJECT [OUT|-]',
  description: 'OUT defaults to the object\'s base name in the current directory; an existing directory gets that name inside it.\nThe cluster verifies the stored checksum while it sends a whole object; md5/sha256/sha512 are checked here too.',
  options: {
    offset: { type: 'string', arg: 'N', help: 'read from byte N (a range read)' },
    length: { type: 'string', arg: 'N', help: 'read N bytes (a range read)' },
    progress: { type: 'boolean', help: 'show a progress bar (shown by default on a terminal for 8 MiB and more)' },
    archpath: { type: 'string', arg: 'FILE', help: 'a file inside the object, a shard (.tar, .tgz, .zip; from a .tar a range of it, not checked against the shard\'s checksum)' },
    archregx: { type: 'string', arg: 'PATTERN', help: 'the files of a shard that match, as one .tar (with --archmode; default mode: regexp)' },
    archmode: { type: 'string', arg: 'MODE', help: 'how --archregx matches file names: regexp, prefix, suffix, substr, wdskey (WebDataset key: the name without its extension)' },
  },
  examples: [
    'ais get ais://demo/obj output.txt',
    'ais get ais://demo/shard-0001.tar --archpath 000123.jpg img.jpg',
    'ais get ais://demo/shard-0001.tar --archregx 000123 --archmode wdskey sample.tar',
    'ais get ais://demo/obj - | head',
    'ais get ais://demo/shard.tar --offset 1024 --length 512 part.bin',
  ],
  async run(ctx, pos, flags) {
    const p = 'ais object get';
    needArgs(pos, 1, 2, 'object (BUCKET/OBJECT)', p);
    const { bucket, obj } = objectArg(pos[0]!, p);
    const offset = intFlag(flags, 'offset', p);
    const length = intFlag(flags, 'length', p);
    if (length === 0) throw new UsageError('--length 0: nothing to read', p);
    const headers: Record<string, string> = {};
    if (offset !== undefined || length !== undefined) {
      const start = offset ?? 0;
      headers.Range = `bytes=${start}-${length !== undefined ? start + length - 1 : ''}`;
    }
    const archpath = typeof flags.archpath === 'string' ? flags.archpath : undefined;
    const archregx = typeof flags.archregx === 'string' ? flags.archregx : undefined;
    const archmode = typeof flags.archmode === 'string' ? flags.archmode : undefined;
    if (archpath !== undefined && (archregx !== undefined || archmode !== undefined)) throw new UsageError('--archpath (one file) and --archregx/--archmode (many) are mutually exclusive', p);
    const many = archregx !== undefined || archmode !== undefined;
    if (many && pos[1] === undefined) throw new UsageError('--archregx: name the output .tar (or - for stdout)', p);
    const base = path.basename(archpath ?? obj);
    let out = pos[1] ?? base;
    const toStdout = out === '-';
    if (!toStdout && fs.existsSync(out) && fs.statSync(out).isDirectory()) out = path.join(out, base);
    const arch: Record<string, string> = archpath ? { archpath } : many ? { archregx: archregx ?? '', archmode: archmode ?? 'regexp' } : {};
    const url = ctx.api.url(opath(bucket, obj), { ...providerQuery(bucket), ...arch });
    let size = -1;
    let type = '';
    let want = '';
    let hash: Hash | undefined;
    let progress: Progress | undefined;
    let got = 0;
    const begin = (status: number, header: (name: string) => string | undefined): void => {
      size = Number(header('content-length') ?? -1);
      type = header('ais-checksum-type') ?? '';
      want = header('ais-checksum-value') ?? '';
      hash = status === 200 && HASHES[type] ? createHash(HASHES[type]!) : undefined;
      progress = showProgress(flags, size) ? progressFor(`GET ${obj}`, size) : undefined;
    };
    const piece = (c: Uint8Array): void => {
      hash?.update(c);
      got += c.length;
      progress?.add(c.length);
    };
    const tmp = toStdout ? '' : `${out}.ais-get-${process.pid}`;
    try {
      if (url.protocol === 'http:') {
        const fd = toStdout ? stdoutFd() : fs.openSync(tmp, 'w');
        try {
          const r = await getToFd(url, headers, fd, begin, piece);
          if (r.status >= 400) throw apiError({ status: r.status, headers: {}, body: r.body ?? Buffer.alloc(0) }, 'GET');
        } finally {
          if (fd !== 1) fs.closeSync(fd);
        }
      } else {
        const res = await ctx.api.send('GET', url, headers, undefined);
        if ((res.statusCode ?? 0) >= 400) throw apiError({ status: res.statusCode ?? 0, headers: res.headers, body: await readAll(res) }, 'GET');
        const h = (n: string): string | undefined => (res.headers[n] === undefined ? undefined : String(res.headers[n]));
        begin(res.statusCode ?? 0, h);
        res.on('data', piece);
        await pipeBody(res, toStdout ? process.stdout : fs.createWriteStream(tmp), () => undefined, !toStdout);
      }
      if (size >= 0 && got !== size) throw new CliError(`received ${got} of ${size} bytes: the connection was cut (the object may be damaged on the cluster)`);
      if (hash) {
        const have = hash.digest('hex');
        if (want !== '' && have !== want) throw new CliError(`BAD DATA CHECKSUM: ${type} of the received bytes is ${have}, the object's is ${want}`);
      }
      if (!toStdout) fs.renameSync(tmp, out);
    } catch (err) {
      if (!toStdout) fs.rmSync(tmp, { force: true });
      // `ais get OBJ - | head`: the reader took what it wanted; not an error (node:http's path is quiet too).
      if (err instanceof ReaderGone) return;
      throw err;
    }
    progress?.finish();
    const what = archpath ? `${obj}/${archpath}` : many ? `${obj} files matching ${JSON.stringify(archregx ?? '')} (${archmode ?? 'regexp'})` : obj;
    if (!toStdout) ctx.out(`GET "${what}" from bucket "${bucketString(bucket)}" as "${out}" [${sizeIEC(got)}]`);
  },
};

/**
 * The fd to write an object to stdout with. Node makes a pipe on fd 1 non-blocking once anything touches
 * process.stdout, and then every write that fills the pipe fails with EAGAIN; a pipe reopened through
 * /proc is a new open file description of the same pipe, in blocking mode, so the writes wait for the
 * reader instead. Anything else (a file, a terminal, /dev/null) is written through fd 1 itself.
 */
function stdoutFd(): number {
  try {
    if (fs.fstatSync(1).isFIFO()) return fs.openSync('/proc/self/fd/1', fs.constants.O_WRONLY);
  } catch {
    // no /proc (or not Linux): fd 1, with download.ts waiting out EAGAIN
  }
  return 1;
}
