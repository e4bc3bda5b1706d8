// What the machine can do, measured in the same run as the comparison: one core's MD5 (OpenSSL via
// node:crypto) and XXH64 (our addon) over 1 MiB buffers, and the disk's direct-I/O sequential write
// and read of 1 GiB on the file system the servers use (fio when installed, dd otherwise).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashInit, hashUpdate, alignOffset } from '../../src/native';
import { makePayload } from '../../src/loader/payload';
import { run, which, syncDisks } from './servers';

/** MiB/s of `fn` hashing 1 MiB per call, for about `ms` after a short warm-up. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 32; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < ms) {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

export interface HashCeilings {
  md5: number;
  xxhash: number;
}

export function hashCeilings(ms = 1500): HashCeilings {
  const buf = makePayload(7, 1 << 20).buf.subarray(0, 1 << 20);
  const h = createHash('md5');
  const md5 = rate(() => h.update(buf), ms);
  h.digest();
  const st = hashInit('xxhash');
  const xxhash = rate(() => hashUpdate('xxhash', st, buf), ms);
  return { md5, xxhash };
}

export interface DiskCeilings {
  tool: string;
  /** MiB/s */
  write: number;
  read: number;
}

/** Sequential O_DIRECT write then read of `sizeMiB` in `dir` (4 MiB blocks, queue depth 1). */
export async function diskCeilings(dir: string, sizeMiB = 1024): Promise<DiskCeilings> {
  const file = path.join(dir, 'disk-ceiling.bin');
  try {
    syncDisks();
    if (which('fio')) {
      const common = [`--filename=${file}`, '--bs=4M', `--size=${sizeMiB}M`, '--direct=1', '--ioengine=psync', '--numjobs=1', '--output-format=json'];
      const w = await run('fio', ['--name=write', '--rw=write', '--end_fsync=1', ...common]);
      const r = await run('fio', ['--name=read', '--rw=read', ...common]);
      const bw = (out: string, k: 'read' | 'write'): number => {
        const j = JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Record<string, { bw_bytes: number }>[] };
        return j.jobs[0][k].bw_bytes / 2 ** 20;
      };
      if (w.code !== 0 || r.code !== 0) throw new Error(`fio failed: ${w.stderr}${r.stderr}`);
      return { tool: 'fio (psync, 4 MiB, direct)', write: bw(w.stdout, 'write'), read: bw(r.stdout, 'read') };
    }
    // dd: the source is a random file in memory (tmpfs) when there is one — a disk (or a VM's host)
    // may treat zeros specially — else /dev/zero.
    let src = '/dev/zero';
    let shm: string | undefined;
    if (fs.existsSync('/dev/shm')) {
      shm = path.join('/dev/shm', `tais-dd-${process.pid}.bin`);
      const ring = makePayload(11, 64 << 20).buf.subarray(0, 64 << 20);
      const fd = fs.openSync(shm, 'w');
      for (let i = 0; i < sizeMiB / 64; i++) fs.writeSync(fd, ring);
      fs.closeSync(fd);
      src = shm;
    }
    try {
      const w = await run('dd', [`if=${src}`, `of=${file}`, 'bs=4M', `count=${sizeMiB / 4}`, 'oflag=direct', 'conv=fsync']);
      const r = await run('dd', [`if=${file}`, 'of=/dev/null', 'bs=4M', 'iflag=direct']);
      return { tool: `dd (4 MiB, direct${src === '/dev/zero' ? ', zeros' : ''})`, write: ddRate(w.stderr), read: ddRate(r.stderr) };
    } finally {
      if (shm) fs.rmSync(shm, { force: true });
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * What the disk sustains durably right now: `sizeMiB` of random bytes written O_DIRECT in 4 MiB
 * blocks, then fdatasync, in MiB/s. On a VM the host's own cache makes this swing by ±30 % within
 * minutes (440–770 MiB/s in ten probes 2 s apart here), so the PUT rows of bench:compare take one
 * right before each tais run instead of trusting the figure from the start of the run.
 */
export function diskWriteNow(dir: string, sizeMiB = 256): number {
  const block = 4 << 20;
  const sab = new SharedArrayBuffer(block + 4096);
  const buf = new Uint8Array(sab, alignOffset(sab), block);
  buf.set(makePayload(13, block).buf.subarray(0, block));
  const file = path.join(dir, 'disk-probe.bin');
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_DIRECT, 0o644);
  try {
    const t0 = performance.now();
    for (let i = 0; i < sizeMiB / 4; i++) fs.writeSync(fd, buf, 0, block, i * block);
    fs.fdatasyncSync(fd);
    return sizeMiB / ((performance.now() - t0) / 1000);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
}

/** "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 1.23 s, 873 MB/s" → MiB/s from bytes and seconds. */
function ddRate(stderr: string): number {
  const m = /(\d+) bytes .* copied, ([\d.]+) s/.exec(stderr);
  if (!m) throw new Error(`dd: ${stderr}`);
  return Number(m[1]) / 2 ** 20 / Number(m[2]);
}
