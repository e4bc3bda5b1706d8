// The real `ais` binary (node dist/src/cmd/ais.js) against a real cluster: two proxies, two targets.
// Every command of the issue, wrong arguments, missing buckets and objects, and props and config
// changes seen by every node.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCluster, type Cluster } from './helpers/cluster';
import { ROOT, request, random, md5 } from './helpers/node';

const AIS = path.join(ROOT, 'dist', 'src', 'cmd', 'ais.js');
let c: Cluster;
let work: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function ais(endpoint: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [AIS, ...args], { cwd: work, env: { ...process.env, AIS_ENDPOINT: endpoint }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A bash command line in the work dir (for pipes between processes). */
function shell(endpoint: string, line: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', line], { cwd: work, env: { ...process.env, AIS_ENDPOINT: endpoint } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs ais with its stdout read only after the first 300 ms and then in 4 more 100 ms stalls. */
function slowReader(endpoint: string, args: string[]): Promise<{ code: number; out: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AIS, ...args], { cwd: work, env: { ...process.env, AIS_ENDPOINT: endpoint } });
    const parts: Buffer[] = [];
    let stderr = '';
    let stalls = 4;
    p.stdout.pause();
    setTimeout(() => p.stdout.resume(), 300);
    p.stdout.on('data', (d: Buffer) => {
      parts.push(d);
      if (stalls > 0 && parts.length % 16 === 0) {
        stalls--;
        p.stdout.pause();
        setTimeout(() => p.stdout.resume(), 100);
      }
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? 1, out: Buffer.concat(parts), stderr }));
  });
}

const primary = (...a: string[]): Promise<Run> => ais(c.primary.url, ...a);
/** The second proxy: not the primary, so metadata changes are forwarded. */
const other = (...a: string[]): Promise<Run> => ais(c.proxies[1]!.url, ...a);

test.before(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'tais-cli-'));
  c = await startCluster({ proxies: 2, targets: 2, name: 'cli' });
});

test.after.always(async () => {
  await c?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

test.serial('bucket create, props set (via a non-primary proxy) seen by every node, props show', async (t) => {
  let r = await primary('bucket', 'create', 'ais://demo');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '"ais://demo" bucket created\n');
  r = await primary('bucket', 'create', 'ais://demo');
  t.is(r.code, 1);
  t.regex(r.stderr, /bucket "ais:\/\/demo" already exists/);

  r = await other('bucket', 'props', 'set', 'ais://demo', 'checksum.type=md5');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'Bucket props successfully updated.\n"checksum.type" set to: "md5" (was: "xxhash")\n');
  for (const n of [...c.proxies, ...c.targets]) {
    const bmd = JSON.parse((await request(n.url, { method: 'GET', path: '/v1/cluster?what=bmd' })).body.toString()) as { buckets: Record<string, { checksum: { type: string } }> };
    t.is(bmd.buckets.demo?.checksum.type, 'md5', `BMD on ${n.url}`);
    const head = await request(n.url, { method: 'HEAD', path: '/v1/buckets/demo' });
    t.is((JSON.parse(String(head.headers['ais-bucket-props'])) as { checksum: { type: string } }).checksum.type, 'md5');
  }
  r = await primary('bucket', 'props', 'show', 'ais://demo');
  t.is(r.code, 0);
  t.regex(r.stdout, /^PROPERTY\s+VALUE\n/);
  t.regex(r.stdout, /\nchecksum\.type\s+md5\n/);
  r = await primary('bucket', 'props', 'show', 'ais://demo', 'checksum', '--json');
  t.is((JSON.parse(r.stdout) as { checksum: { type: string } }).checksum.type, 'md5');

  r = await primary('bucket', 'props', 'set', 'ais://demo', 'checksum.type=md6');
  t.is(r.code, 1);
  t.regex(r.stderr, /invalid checksum\.type "md6" \(valid: xxhash, md5, sha256, sha512, crc32c, none\)/);
  r = await primary('bucket', 'props', 'set', 'ais://nope', 'checksum.type=md5');
  t.is(r.code, 1);
  t.regex(r.stderr, /bucket "ais:\/\/nope" does not exist/);
  r = await primary('bucket', 'props', 'set', 'ais://demo');
  t.is(r.code, 2);
  t.regex(r.stderr, /Incorrect usage of "ais bucket props set": missing KEY=VALUE/);
});

test.serial('put, get, object show (checksum type and value), ls with its flags', async (t) => {
  const body = Buffer.from('hello from the ais CLI\n');
  fs.writeFileSync(path.join(work, 'file.txt'), body);
  let r = await primary('put', 'file.txt', 'ais://demo/obj');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'PUT "file.txt" => ais://demo/obj\n');
  r = await other('get', 'ais://demo/obj', 'output.txt');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, `GET "obj" from bucket "ais://demo" as "output.txt" [${body.length}B]\n`);
  t.deepEqual(fs.readFileSync(path.join(work, 'output.txt')), body);
  r = await primary('get', 'ais://demo/obj', '-');
  t.is(r.stdout, body.toString());
  r = await primary('get', 'ais://demo/obj', '-', '--offset', '6', '--length', '4');
  t.is(r.stdout, 'from');
  r = await primary('object', 'cat', 'ais://demo/obj');
  t.is(r.stdout, body.toString());
  r = await primary('object', 'cat', 'ais://demo/obj', '--offset', '11', '--length', '3');
  t.is(r.stdout, 'the');

  r = await primary('object', 'show', 'ais://demo/obj');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /^PROPERTY\s+VALUE\n/);
  t.regex(r.stdout, new RegExp(`\\nchecksum\\s+md5\\[${md5(body)}\\]\\n`));
  t.regex(r.stdout, new RegExp(`\\nsize\\s+${body.length}B\\n`));
  r = await primary('object', 'show', 'ais://demo/obj', '--json');
  t.deepEqual((JSON.parse(r.stdout) as { checksum: unknown }).checksum, { type: 'md5', value: md5(body) });

  r = await primary('put', 'file.txt', 'ais://demo/dir/');
  t.is(r.stdout, 'PUT "file.txt" => ais://demo/dir/file.txt\n');
  for (let i = 0; i < 5; i++) t.is((await primary('put', 'file.txt', `ais://demo/many/o${i}`)).code, 0);

  r = await primary('ls');
  t.regex(r.stdout, /^NAME\s+PRESENT\nais:\/\/demo\s+yes\n$/);
  r = await primary('ls', 'ais://demo');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.split('\n')[0]!.replace(/\s+/g, ' '), 'NAME SIZE');
  t.regex(r.stdout, /\nobj\s+23B\n/);
  t.regex(r.stdout, /\nListed 7 names\n$/);
  r = await primary('ls', 'ais://demo', '--prefix', 'many/', '--limit', '3');
  t.deepEqual(r.stdout.trim().split('\n').slice(1, -1).map((l) => l.split(/\s+/)[0]), ['many/o0', 'many/o1', 'many/o2']);
  r = await primary('ls', 'ais://demo', '--prefix', 'many/', '--page-size', '2', '--paged');
  t.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('Page')), ['Page 1: 2 names', 'Page 2: 2 names', 'Page 3: 1 name']);
  r = await primary('ls', 'ais://demo', '--props', 'name,size,checksum', '--prefix', 'obj');
  t.regex(r.stdout, new RegExp(`^NAME\\s+SIZE\\s+CHECKSUM\\nobj\\s+23B\\s+${md5(body)}\\n`));
  r = await primary('ls', 'ais://demo', '--nr', '--json');
  t.deepEqual((JSON.parse(r.stdout) as { name: string }[]).map((e) => e.name), ['dir/', 'many/', 'obj']);
  r = await primary('ls', 'ais://demo', '--props', 'bogus');
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown object property "bogus"/);
});

test.serial('missing buckets and objects, wrong arguments: clear errors and exit codes', async (t) => {
  const cases: [string[], number, RegExp][] = [
    [['get', 'ais://demo/none', 'x.out'], 1, /object "ais:\/\/demo\/none" does not exist/],
    [['get', 'ais://nope/obj'], 1, /bucket "ais:\/\/nope" does not exist/],
    [['object', 'show', 'ais://demo/none'], 1, /object "ais:\/\/demo\/none" does not exist/],
    [['object', 'show', 'ais://nope/x'], 1, /bucket "ais:\/\/nope" does not exist/],
    [['ls', 'ais://nope'], 1, /bucket "ais:\/\/nope" does not exist/],
    [['bucket', 'rm', 'ais://nope'], 1, /bucket "ais:\/\/nope" does not exist/],
    [['put', 'no-such-file', 'ais://demo/x'], 1, /cannot read "no-such-file": no such file/],
    [['put', 'file.txt', 'ais://nope/x'], 1, /bucket "ais:\/\/nope" does not exist/],
    [['put', 'file.txt'], 2, /missing destination/],
    [['get'], 2, /missing object/],
    [['get', 'ais://demo'], 2, /missing object name/],
    [['bucket', 'create'], 2, /missing bucket name/],
    [['bucket', 'create', 'gs://b'], 2, /unknown provider "gs:\/\/"/],
    [['bucket', 'create', 'ais://bad/name'], 2, /names an object/],
    [['bucket', 'create', 'ais://bad*name'], 1, /bucket name "bad\*name" is invalid/],
    [['bucket', 'frob'], 2, /unknown command "frob" for "ais bucket"/],
    [['ls', '--bogus'], 2, /unknown flag "--bogus"/],
    [['ls', 'ais://demo', '--limit', 'many'], 2, /invalid --limit "many"/],
    [['ls', 's3://remote'], 1, /bucket "s3:\/\/remote" does not exist/],
    [['bucket', 'create', 's3://remote', '--props', 'extra.aws.endpoint=http://127.0.0.1:1'], 1, /cannot attach "s3:\/\/remote": bucket s3:\/\/remote: remote request failed/],
    [['config', 'cluster', 'checksum.type=md6'], 1, /invalid checksum\.type "md6" \(valid: xxhash, md5, sha256, sha512, crc32c, none\)/],
    [['config', 'cluster', 'features', 'No-Such-Feature'], 1, /invalid or unsupported feature "No-Such-Feature" \(valid: S3-API-via-Root, S3-Presigned-Request, Streaming-Cold-GET, none\)/],
    [['config', 'cluster', 'nosection'], 2, /no such config section or key "nosection"/],
    [['show', 'cluster', 'frob'], 2, /unknown "frob"/],
  ];
  for (const [args, code, re] of cases) {
    const r = await primary(...args);
    t.is(r.code, code, `ais ${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, re, `ais ${args.join(' ')}`);
    t.is(r.stdout, '', `ais ${args.join(' ')}`);
  }
  const down = await ais('http://127.0.0.1:1', 'ls');
  t.is(down.code, 1);
  t.regex(down.stderr, /cannot reach the cluster at http:\/\/127\.0\.0\.1:1/);
});

test.serial('--help on every command and subcommand', async (t) => {
  const paths = [
    [], ['bucket'], ['bucket', 'create'], ['bucket', 'rm'], ['bucket', 'ls'], ['bucket', 'props'], ['bucket', 'props', 'show'], ['bucket', 'props', 'set'],
    ['bucket', 'props', 'reset'], ['object'], ['object', 'put'], ['object', 'get'], ['object', 'cat'], ['object', 'show'], ['object', 'mv'], ['object', 'rm'], ['config'], ['config', 'cluster'],
    ['show'], ['show', 'cluster'], ['ls'], ['put'], ['get'], ['create'], ['rmb'], ['rmo'],
  ];
  for (const p of paths) {
    const r = await primary(...p, '--help');
    t.is(r.code, 0, p.join(' '));
    t.regex(r.stdout, new RegExp(`^NAME:\\n   ais${p.length ? ' ' : ''}`), p.join(' '));
    t.regex(r.stdout, /\nUSAGE:\n/);
    t.regex(r.stdout, /--help/);
  }
});

test.serial('config cluster: checksum.type and feature flags on every node; new buckets take the cluster checksum', async (t) => {
  let r = await other('config', 'cluster', 'checksum.type=sha256');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '"checksum.type" set to: "sha256" (was: "xxhash")\n\nCluster config updated\n');
  r = await primary('config', 'cluster', 'features', 'S3-API-via-Root', 'S3-Presigned-Request');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /"features" set to: "S3-API-via-Root,S3-Presigned-Request" \(was: "-"\)/);
  for (const n of [...c.proxies, ...c.targets]) {
    const conf = JSON.parse((await request(n.url, { method: 'GET', path: '/v1/cluster?what=config' })).body.toString()) as { checksum: { type: string }; features: string[] };
    t.is(conf.checksum.type, 'sha256');
    t.deepEqual(conf.features, ['S3-API-via-Root', 'S3-Presigned-Request']);
    // S3 at the root now answers on every node.
    t.is((await request(n.url, { method: 'GET', path: '/' })).status, 200, `S3 at the root of ${n.url}`);
  }
  r = await primary('config', 'cluster', 'checksum', '--json');
  t.deepEqual((JSON.parse(r.stdout) as { checksum: { type: string } }).checksum.type, 'sha256');
  r = await primary('bucket', 'create', 'ais://after');
  t.is(r.code, 0);
  r = await primary('bucket', 'props', 'show', 'ais://after', 'checksum.type');
  t.regex(r.stdout, /checksum\.type\s+sha256/);
  r = await primary('config', 'cluster', 'features', 'none');
  t.regex(r.stdout, /"features" set to: "-" \(was: "S3-API-via-Root,S3-Presigned-Request"\)/);
  t.is((await request(c.targets[0]!.url, { method: 'GET', path: '/' })).status, 404);
  t.is((await primary('config', 'cluster', 'checksum.type=xxhash')).code, 0);
  t.is((await primary('bucket', 'rm', 'ais://after')).code, 0);
});

test.serial('show cluster: proxies, targets and a summary', async (t) => {
  const r = await primary('show', 'cluster');
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.is(lines[0]!.replace(/\s+/g, ' '), 'PROXY MEM USED % MEM AVAIL UPTIME');
  t.is(lines.filter((l) => /^p\[/.test(l)).length, 2);
  t.is(lines.filter((l) => /^p\[.*\[P\]/.test(l)).length, 1);
  t.truthy(lines.find((l) => l.replace(/\s+/g, ' ').startsWith('TARGET MEM USED % MEM AVAIL CAP USED % CAP AVAIL CPU USED % UPTIME')));
  t.is(lines.filter((l) => /^t\[/.test(l)).length, 2);
  t.regex(r.stdout, /Proxies:\s+2\n\s+Targets:\s+2\n/);
  const smap = await primary('show', 'cluster', 'smap', '--json');
  t.is(Object.keys((JSON.parse(smap.stdout) as { tmap: object }).tmap).length, 2);
});

test.serial('put -r uploads a directory tree under a prefix, byte for byte; a directory without -r is refused', async (t) => {
  const dir = path.join(work, 'tree');
  const files: Record<string, Buffer> = {};
  for (const rel of ['a.txt', 'sub/b.bin', 'sub/deeper/c with space.dat', 'sub/deeper/ü.txt']) {
    files[rel] = random(1000 + rel.length * 7919);
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), files[rel]!);
  }
  let r = await primary('put', 'tree', 'ais://demo/up');
  t.is(r.code, 2);
  t.regex(r.stderr, /"tree" is a directory: add --recursive \(-r\)/);
  r = await primary('put', 'file.txt', 'ais://demo/x', '-r');
  t.is(r.code, 2);
  t.regex(r.stderr, /--recursive: "file.txt" is not a directory/);
  r = await other('put', 'tree', 'ais://demo/up', '-r', '--conc', '2');
  t.is(r.code, 0, r.stderr);
  const total = Object.values(files).reduce((n, b) => n + b.length, 0);
  t.regex(r.stdout, new RegExp(`^PUT 4 objects \\(${(total / 1024).toFixed(2).replace('.', '\\.')}KiB\\) "tree" => ais://demo/up/\n$`));
  for (const [rel, body] of Object.entries(files)) {
    const g = await request(c.targets[0]!.url, { method: 'GET', path: `/v1/objects/demo/up/${rel.split('/').map(encodeURIComponent).join('/')}` });
    t.is(g.status, 200, rel);
    t.is(md5(g.body), md5(body), rel);
  }
  r = await primary('put', 'tree', 'ais://nope/', '--recursive');
  t.is(r.code, 1);
  t.regex(r.stderr, /bucket "ais:\/\/nope" does not exist/);
});

test.serial('a large put and get stream with a progress bar; bucket rm destroys the bucket with its objects', async (t) => {
  const big = random(24 << 20);
  fs.writeFileSync(path.join(work, 'big.bin'), big);
  let r = await primary('put', 'big.bin', 'ais://demo/big.bin', '--progress');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /PUT big\.bin \[#{30}\] 100% 24\.00MiB\/24\.00MiB/);
  r = await other('get', 'ais://demo/big.bin', 'big.out', '--progress');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /GET big\.bin \[#{30}\] 100%/);
  t.is(md5(fs.readFileSync(path.join(work, 'big.out'))), md5(big));
  // To stdout: through a shell pipe (a FIFO, reopened in blocking mode), to a socket whose reader stalls
  // (the writes wait out EAGAIN), and to a reader that leaves early (quiet, exit 0).
  const sh = await shell(c.primary.url, `node ${AIS} get ais://demo/big.bin - | cat > piped.bin`);
  t.is(sh.code, 0, sh.stderr);
  t.is(md5(fs.readFileSync(path.join(work, 'piped.bin'))), md5(big));
  const slow = await slowReader(c.primary.url, ['get', 'ais://demo/big.bin', '-']);
  t.is(slow.code, 0, slow.stderr);
  t.is(slow.out.length, big.length);
  t.is(md5(slow.out), md5(big));
  const early = await shell(c.primary.url, `node ${AIS} get ais://demo/big.bin - | head -c 100 > head.bin; echo "\${PIPESTATUS[0]}"`);
  t.is(early.stdout, '0\n', early.stderr);
  t.is(early.stderr, '');
  t.true(fs.readFileSync(path.join(work, 'head.bin')).equals(big.subarray(0, 100)));
  // With the gateways redirecting, the CLI follows the 307 to the target and writes the same bytes;
  // a cut-short or failed get leaves no file behind.
  t.is((await primary('config', 'cluster', 'proxy.s3_redirect=true')).code, 0);
  try {
    r = await other('get', 'ais://demo/big.bin', 'big.redirected');
    t.is(r.code, 0, r.stderr);
    t.is(md5(fs.readFileSync(path.join(work, 'big.redirected'))), md5(big));
    r = await other('get', 'ais://demo/big.bin', 'tail.bin', '--offset', String((24 << 20) - 1000));
    t.is(r.code, 0, r.stderr);
    t.true(fs.readFileSync(path.join(work, 'tail.bin')).equals(big.subarray((24 << 20) - 1000)));
  } finally {
    await primary('config', 'cluster', 'proxy.s3_redirect=false');
  }
  r = await other('get', 'ais://demo/none.bin', 'none.out');
  t.is(r.code, 1);
  t.deepEqual(fs.readdirSync(work).filter((f) => f.startsWith('none.out')), []);

  r = await other('bucket', 'rm', 'ais://demo');
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, '"ais://demo" bucket destroyed\n');
  r = await primary('ls');
  t.is(r.stdout, 'No "ais://" buckets in the cluster.\n');
  // Created again, it is empty: the objects went with the bucket.
  t.is((await primary('bucket', 'create', 'ais://demo')).code, 0);
  r = await primary('ls', 'ais://demo');
  t.is(r.stdout, 'NAME  SIZE\nListed 0 names\n');
  t.is((await primary('rmb', 'ais://demo')).code, 0);
});
