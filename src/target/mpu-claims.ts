// "This upload is being completed", for every HTTP thread of the node at once: a slot per upload-id hash
// in the node's shared claim table (conditions.ts completionClaims), holding a tag of the id while some
// thread assembles that upload. A Complete takes it for the whole assembly; UploadPart and the
// abandoned-upload sweeper keep off a claimed upload; a second Complete of the same upload waits.
import { completionClaims } from './conditions';

/** True while some thread of this node completes upload `id`. */
export function isCompleting(id: string): boolean {
  const c = completionClaims();
  return Atomics.load(c.table, c.slot(id)) === c.tag(id);
}

/**
 * Takes the upload's completion claim, waiting while another completion holds its slot. Waiting blocks
 * no thread (Atomics.waitAsync); `waiting` runs first, to keep the client's connection alive.
 */
export async function claimCompletion(id: string, waiting: () => void): Promise<void> {
  const { table, slot: slotOf, tag: tagOf } = completionClaims();
  const slot = slotOf(id);
  const tag = tagOf(id);
  for (let waited = false; ; waited = true) {
    const held = Atomics.compareExchange(table, slot, 0, tag);
    if (held === 0) return;
    if (!waited) waiting();
    // Another upload hashed to the same slot waits too: a collision only serializes two completions.
    // The timeout is a safety net only: every release notifies.
    const w = Atomics.waitAsync(table, slot, held, 1000);
    if (w.async) await w.value;
  }
}

export function releaseCompletion(id: string): void {
  const { table, slot: slotOf } = completionClaims();
  const slot = slotOf(id);
  Atomics.store(table, slot, 0);
  Atomics.notify(table, slot);
}
