// The Smap as AIStore's API shows it (core/meta/smap.go, snode_wire.go): clients such as AIStore's Python
// SDK read `id_digest` as an exact unsigned 64-bit number to place objects themselves, so the JSON is
// written by hand for that one field (JSON.stringify cannot print a BigInt).
import type { Smap } from '../cluster/smap';
import { idDigest, nodeUrl, publicUrl, type Snode } from '../cluster/snode';

function netInfo(n: Snode, port: number, url: string): string {
  return JSON.stringify({ node_ip_addr: n.host, daemon_port: String(port), direct_url: url });
}

export function snodeJson(n: Snode): string {
  const net = netInfo(n, n.port, publicUrl(n));
  const intra = n.intraPort === undefined ? net : netInfo(n, n.intraPort, nodeUrl(n));
  return (
    `{"public_net":${net},"intra_control_net":${intra},"intra_data_net":${intra},` +
    `"daemon_type":${JSON.stringify(n.type)},"daemon_id":${JSON.stringify(n.id)},"flags":${n.flags},"id_digest":${idDigest(n.id).toString()}}`
  );
}

function mapJson(m: Record<string, Snode>): string {
  return `{${Object.values(m)
    .map((n) => `${JSON.stringify(n.id)}:${snodeJson(n)}`)
    .join(',')}}`;
}

export function smapJson(smap: Smap): string {
  const d = smap.data;
  const primary = smap.primary;
  return (
    `{"tmap":${mapJson(d.tmap)},"pmap":${mapJson(d.pmap)},"proxy_si":${primary ? snodeJson(primary) : 'null'},` +
    `"uuid":${JSON.stringify(d.uuid)},"creation_time":${JSON.stringify(new Date(d.created).toISOString())},"version":${JSON.stringify(String(d.version))}}`
  );
}
