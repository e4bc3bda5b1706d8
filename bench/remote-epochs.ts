// First and second epoch through a remote (s3://) bucket, against reading the remote directly.
// The remote is a tais node with SigV4 on (access keys); in front of it a one-node tais cluster with
// the bucket attached (credentials from the environment, as the AWS SDK's default chain reads them).
// Each epoch reads every object once with the AWS SDK, CONC requests in flight.
//   node dist/bench/remote-epochs.js [--objects 1000] [--size 1048576] [--conc 16]
// A 1 GiB cold GET and the cluster node's memory: --objects 1 --size 1073741824 --conc 1
import { parseArgs } from 'node:util';
import http from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { startTais, tempDir, cleanupAll, RssSampler } from './lib/servers';

const { values } = parseArgs({ options: { objects: { type: 'string', default: '1000' }, size: { type: 'string', default: String(1 << 20) }, conc: { type: 'string', default: '16' } } });
const N = Number(values.objects);
const SIZE = Number(values.size);
const CONC = Number(values.conc);
const AK = 'BENCHKEY';
const SK = 'bench-secret';
const B = 'epochs';

function client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: AK, secretAccessKey: SK },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: new http.Agent({ keepAlive: true, maxSockets: CONC }) },
  });
}

async function pool(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < n) await fn(next++);
  }));
}

let frontRss: RssSampler | undefined;

async function epoch(name: string, s3: S3Client): Promise<number> {
  frontRss?.mark();
  const t0 = process.hrtime.bigint();
  let bytes = 0;
  await pool(N, async (i) => {
    const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: `obj-${String(i).padStart(5, '0')}` }));
    // Counted as it streams (a 1 GiB object is never held whole here).
    let got = 0;
    for await (const chunk of r.Body as AsyncIterable<Uint8Array>) got += chunk.length;
    if (got !== SIZE) console.error(`${name}: obj ${i}: ${got} bytes (Content-Length ${r.ContentLength})`);
    bytes += got;
  });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bytes !== N * SIZE) throw new Error(`${name}: read ${bytes} bytes, expected ${N * SIZE}`);
  const mibs = bytes / (1 << 20) / s;
  const rss = frontRss ? `  cluster node peak RSS ${(frontRss.mark() / (1 << 20)).toFixed(0)} MiB` : '';
  console.log(`${name.padEnd(34)} ${s.toFixed(2).padStart(7)} s ${mibs.toFixed(1).padStart(9)} MiB/s${rss}`);
  return mibs;
}

async function main(): Promise<void> {
  process.env.AWS_ACCESS_KEY_ID = AK;
  process.env.AWS_SECRET_ACCESS_KEY = SK;
  process.env.AWS_REGION = 'us-east-1';
  const remote = await startTais(tempDir('remote'), { config: { auth: { s3: { keys: { [AK]: SK } } } } });
  const front = await startTais(tempDir('front'));
  const direct = client(`${remote.url}/s3`);
  await direct.send(new CreateBucketCommand({ Bucket: B }));
  // One random block repeated: a 1 GiB object is uploaded as a stream, never held whole.
  const block = randomBytes(Math.min(SIZE, 1 << 20));
  const bodyOf = (): Readable => Readable.from((function* () {
    for (let left = SIZE; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
  })());
  await pool(N, async (i) => {
    await direct.send(new PutObjectCommand({ Bucket: B, Key: `obj-${String(i).padStart(5, '0')}`, Body: bodyOf(), ContentLength: SIZE }));
  });
  const attach = await fetch(`${front.url}/v1/buckets/${B}?provider=aws`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'create-bck', value: { extra: { aws: { endpoint: `${remote.url}/s3` } } } }),
  });
  if (attach.status !== 200) throw new Error(`attach: ${attach.status} ${await attach.text()}`);
  console.log(`${N} objects of ${SIZE} bytes, ${CONC} requests in flight; remote and cluster on this machine`);
  const viaCluster = client(`${front.url}/s3`);
  frontRss = new RssSampler(front.pid, 100);
  const d = await epoch('remote directly', direct);
  const cold = await epoch('epoch 1 through the cluster (cold)', viaCluster);
  const warm = await epoch('epoch 2 through the cluster (warm)', viaCluster);
  console.log(`cold/direct ${(cold / d).toFixed(2)}  warm/direct ${(warm / d).toFixed(2)}`);
  direct.destroy();
  viaCluster.destroy();
}

main()
  .catch((err: Error) => {
    console.error(err.stack ?? err.message);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
