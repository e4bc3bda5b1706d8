// Prometheus text exposition of a node's counters, named as AIStore names them (ais_target_get_count,
// ais_target_err_cksum_count, ...) so existing dashboards and `ais show performance` can read them.
import type { StatsSnapshot } from '../target/stats';

const COUNTERS: ReadonlyArray<readonly [keyof StatsSnapshot, string, string]> = [
  ['getCount', 'get_count', 'GET requests served'],
  ['getBytes', 'get_bytes', 'bytes sent by GET'],
  ['putCount', 'put_count', 'objects written by PUT'],
  ['putBytes', 'put_bytes', 'bytes written by PUT'],
  ['headCount', 'head_count', 'HEAD requests served'],
  ['delCount', 'del_count', 'objects deleted'],
  ['lstCount', 'lst_count', 'list-objects pages served'],
  ['errGetCount', 'err_get_count', 'failed GET requests'],
  ['errPutCount', 'err_put_count', 'failed PUT requests'],
  ['errCksum', 'err_cksum_count', 'objects or metadata that failed checksum validation'],
  ['gfnCount', 'gfn_count', 'GET/HEAD served from another target during a rebalance (get-from-neighbour)'],
  ['remoteGetCount', 'remote_get_count', 'cold GETs from remote buckets (fetches started)'],
  ['remoteGetBytes', 'remote_get_bytes_total', 'bytes fetched from remote buckets and stored'],
  ['getSendfileCount', 'get_sendfile_count', 'GETs whose body went out with sendfile (io.sendfile)'],
  ['renameCount', 'rename_count', 'objects renamed (rename-obj)'],
  ['mpuPlacedCount', 'mpu_placed_count', 'completed multipart objects sent to their owner by the target holding their upload'],
];

export function prometheusText(stats: StatsSnapshot, nodeId: string): string {
  let out = '';
  for (const [field, name, help] of COUNTERS) {
    const metric = `ais_target_${name}`;
    out += `# HELP ${metric} ${help}\n# TYPE ${metric} counter\n${metric}{node_id="${nodeId}"} ${stats[field]}\n`;
  }
  return out;
}
