// Smap: the cluster map (proxies, targets, the primary), versioned like all cluster metadata. Only the
// primary makes new versions; every node holds the latest it has seen and places objects with it.
import { randomUUID } from 'node:crypto';
import { hrwSelect, objectUname } from './hrw';
import { idDigest, FLAG_MAINT, FLAG_DECOMM, type Snode } from './snode';

export interface SmapData {
  version: number;
  uuid: string;
  created: number;
  primary: string;
  pmap: Record<string, Snode>;
  tmap: Record<string, Snode>;
}

interface Candidate {
  readonly digest: bigint;
  readonly node: Snode;
}

export class Smap {
  /** Targets that take objects, in ID order (HRW does not depend on the order; logs and tests do). */
  private readonly active: Candidate[];

  constructor(readonly data: SmapData) {
    this.active = Object.values(data.tmap)
      .filter((t) => (t.flags & (FLAG_MAINT | FLAG_DECOMM)) === 0)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((node) => ({ node, digest: idDigest(node.id) }));
  }

  static create(primary: Snode): Smap {
    const data: SmapData = { version: 1, uuid: randomUUID(), created: Date.now(), primary: primary.id, pmap: {}, tmap: {} };
    (primary.type === 'proxy' ? data.pmap : data.tmap)[primary.id] = primary;
    return new Smap(data);
  }

  get version(): number {
    return this.data.version;
  }

  get primary(): Snode | undefined {
    return this.get(this.data.primary);
  }

  get(id: string): Snode | undefined {
    return Object.hasOwn(this.data.tmap, id) ? this.data.tmap[id] : Object.hasOwn(this.data.pmap, id) ? this.data.pmap[id] : undefined;
  }

  targets(): Snode[] {
    return this.active.map((c) => c.node);
  }

  /** Every node but `except`: whom the primary pushes metadata to. */
  nodes(except?: string): Snode[] {
    return [...Object.values(this.data.pmap), ...Object.values(this.data.tmap)].filter((n) => n.id !== except);
  }

  /** The target that owns bucket/object (AIStore's HrwName2T); undefined with no targets. */
  owner(bucket: string, objName: string, provider = 'ais'): Snode | undefined {
    return this.ownerOfUname(objectUname(provider, bucket, objName));
  }

  ownerOfUname(uname: string): Snode | undefined {
    return hrwSelect(this.active, uname)?.node;
  }

  /** Same set of active targets (IDs and addresses): a change in it is what starts a rebalance. */
  sameTargets(other: Smap): boolean {
    const a = this.active;
    const b = other.active;
    return a.length === b.length && a.every((c, i) => c.node.id === b[i].node.id);
  }

  /** A copy with `change` applied and the version bumped (primary only). */
  next(change: (d: SmapData) => void): Smap {
    const d = structuredClone(this.data);
    change(d);
    d.version = this.data.version + 1;
    return new Smap(d);
  }
}
