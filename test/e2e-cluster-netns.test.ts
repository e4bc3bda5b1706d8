// A cluster whose nodes live in separate network namespaces, joined by veth pairs on a bridge, so that
// every intra-cluster call and every forwarded object crosses real (virtual) interfaces instead of
// loopback. The namespaces, veths and bridge are made here and removed after. Where the kernel or the
// sandbox forbids network namespaces, the test says why and is skipped, not passed.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startNode, s3Client, random, md5, type AisNode } from './helpers/node';
import { parseSmap } from './helpers/cluster';

const TAG = randomBytes(3).toString('hex');
const BRIDGE = `tb${TAG}`;
const SUBNET = `10.${77 + (parseInt(TAG.slice(0, 2), 16) % 100)}.${parseInt(TAG.slice(2, 4), 16)}`;
const NODES = 4; // a proxy and three targets
const ns = (i: number): string => `tais${TAG}n${i}`;
const ip = (i: number): string => `${SUBNET}.${i + 1}`;

function sh(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Why namespaces cannot be used here, or undefined when they can. */
function unavailable(): string | undefined {
  const probe = `taisprobe${TAG}`;
  try {
    sh('netns', 'add', probe);
    sh('netns', 'del', probe);
    return undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split('\n')[0];
  }
}

function setup(): void {
  sh('link', 'add', BRIDGE, 'type', 'bridge');
  sh('addr', 'add', `${SUBNET}.254/24`, 'dev', BRIDGE);
  sh('link', 'set', BRIDGE, 'up');
  for (let i = 0; i < NODES; i++) {
    const host = `tv${TAG}h${i}`;
    const peer = `tv${TAG}p${i}`;
    sh('netns', 'add', ns(i));
    sh('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
    sh('link', 'set', peer, 'netns', ns(i));
    sh('link', 'set', host, 'master', BRIDGE);
    sh('link', 'set', host, 'up');
    sh('-n', ns(i), 'addr', 'add', `${ip(i)}/24`, 'dev', peer);
    sh('-n', ns(i), 'link', 'set', peer, 'up');
    sh('-n', ns(i), 'link', 'set', 'lo', 'up');
  }
}

function teardown(): void {
  for (let i = 0; i < NODES; i++) {
    try {
      sh('netns', 'del', ns(i)); // removes the veth pair with it
    } catch {
      /* not made */
    }
  }
  try {
    sh('link', 'del', BRIDGE);
  } catch {
    /* not made */
  }
}

const why = process.getuid?.() === 0 ? unavailable() : 'not running as root (ip netns needs CAP_SYS_ADMIN)';
if (why) {
  console.log(`e2e-cluster-netns: network namespaces unavailable here: ${why}`);
  test.skip(`cluster across network namespaces (skipped: ${why})`, () => {});
} else {
  test('cluster across network namespaces: join, placement, forwarding and listing over veth interfaces', async (t) => {
    const nodes: AisNode[] = [];
    try {
      setup();
      const proxy = await startNode({ role: 'proxy', name: 'netns-p', netns: ns(0), host: ip(0), port: 9080 });
      nodes.push(proxy);
      for (let i = 1; i < NODES; i++) nodes.push(await startNode({ name: `netns-t${i}`, netns: ns(i), host: ip(i), port: 9080, primary: proxy.url }));
      // The Smap names every node by its own namespace address.
      const r = await fetch(`${proxy.url}/v1/cluster?what=smap`);
      const smap = parseSmap(await r.text());
      t.deepEqual(Object.values(smap.tmap).map((s) => s.public_net.node_ip_addr).sort(), [ip(1), ip(2), ip(3)].sort());
      // Objects go through the proxy to targets in other namespaces and come back byte for byte.
      const s3 = s3Client(proxy.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'netns' }));
      const bodies = Array.from({ length: 24 }, (_, i) => random(1000 + i * 40_000));
      await Promise.all(bodies.map((b, i) => s3.send(new PutObjectCommand({ Bucket: 'netns', Key: `o${i}`, Body: b }))));
      for (let i = 0; i < bodies.length; i++) {
        const g = await s3.send(new GetObjectCommand({ Bucket: 'netns', Key: `o${i}` }));
        t.is(md5(Buffer.from(await g.Body!.transformToByteArray())), md5(bodies[i]!));
      }
      const l = await s3.send(new ListObjectsV2Command({ Bucket: 'netns' }));
      t.is(l.KeyCount, bodies.length);
      // Traffic crossed the interfaces: every target's veth received object bytes.
      for (let i = 1; i < NODES; i++) {
        const stats = execFileSync('ip', ['-n', ns(i), '-s', 'link', 'show', `tv${TAG}p${i}`]).toString();
        const rx = Number(/RX:.*\n\s*(\d+)/.exec(stats)?.[1] ?? 0);
        t.true(rx > 100_000, `${ns(i)} received ${rx} bytes on its veth`);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      teardown();
    }
  });
}
