// A target's ETLs follow the EtlMD (cluster/meta.ts): when a newer one arrives (at join, after a
// restart, or pushed by the primary) every ETL in it that is not stopped and not here yet is started,
// and every ETL here that it no longer has is stopped and removed. Starting is in the background: a
// transformer that does not come up leaves its ETL Aborted here, with the reason, until `start`.
import type { Node } from '../cluster/node';
import type { EtlMdData } from '../cluster/meta';
import { nodeUrl } from '../cluster/snode';
import { log } from '../util/log';
import { Etl, commandsRefused, etlPolicy, etls } from './etl';

export function reconcileEtls(node: Node, md: EtlMdData): void {
  for (const [name, etl] of etls) {
    if (Object.hasOwn(md.etls, name)) continue;
    etl.stop('deleted');
    etls.delete(name);
  }
  for (const [name, { spec, stopped }] of Object.entries(md.etls)) {
    if (stopped || etls.has(name)) continue;
    const etl = new Etl(spec, nodeUrl(node.self));
    etls.set(name, etl);
    if (spec.runtime && !etlPolicy.commands) {
      etl.stop(commandsRefused(name, node.self.id));
      log.warn(commandsRefused(name, node.self.id));
      continue;
    }
    etl.start().then(
      () => log.info(`etl ${name}: started (EtlMD v${md.version})`),
      (err: Error) => {
        log.warn(`etl ${name}: ${err.message}`);
        etl.stop(err.message);
      },
    );
  }
}
