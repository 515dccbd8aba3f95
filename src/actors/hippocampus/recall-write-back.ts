import type { RecalledMemory } from '../../cmp/operations.js';
import { toTimestamp } from '../../cmp/ids.js';
import type { AssociationType } from '../../cmp/types.js';
import { reconsolidatedRecord } from '../store/events.js';
import type { AssociationGraph } from './association-graph.js';
import { coActivationUpdates } from './associations.js';
import type { RecallEvolution } from './evolution-keeper.js';
import { groupBy } from './group-by.js';
import type { Ledger } from './ledger.js';

// What recalling does to memory (spec §4.6, §4.7): each returned memory is reconsolidated (stronger,
// refreshed) and memories returned together strengthen their links (Hebbian). The caller sees the new
// state at once; the writes go to the stores in the background, so recall latency never includes a
// disk flush.

export interface WriteBackParts {
  ledger: Pick<Ledger, 'apply'>;
  graph: AssociationGraph;
  evolution: RecallEvolution;
  log: (line: string) => void;
}

/**
 * Reconsolidates `memories` in place (their records as the stores will hold them) and sends the writes:
 * `records.reconsolidated` per store and, with `learnLinks`, `associations.reweighted` for the pairs
 * recalled together. Not awaited: a failed write is logged.
 */
export function writeBack(parts: WriteBackParts, space: string, memories: RecalledMemory[], nowMs: number, learnLinks = true): void {
  if (memories.length === 0) return;
  const { ledger, graph, evolution } = parts;
  const at = toTimestamp(nowMs);
  for (const memory of memories) memory.record = reconsolidatedRecord(memory.record, at, evolution.retrievalBoost(memory.record.store));
  const writes: Promise<unknown>[] = [];
  for (const [store, storeMemories] of groupBy(memories, (memory) => memory.record.store)) {
    const ids = storeMemories.map((memory) => memory.record.id);
    writes.push(ledger.apply(space, store, { type: 'records.reconsolidated', ids, retrieval_boost: evolution.retrievalBoost(store) }));
  }
  const links = learnLinks
    ? coActivationUpdates(
        memories.map((memory) => memory.record.id),
        (a, b) => graph.edge(space, a, b),
      )
    : [];
  // Strengthen the existing link of the pair; a pair recalled together without one gets a weak
  // `semantic` link (they answered the same cue).
  const reweights = links
    .filter((link) => graph.storeOf(space, link.source_id) !== undefined)
    .map((link) => ({ ...link, association_type: (graph.edge(space, link.source_id, link.target_id)?.type ?? 'semantic') as AssociationType }));
  for (const [store, storeLinks] of groupBy(reweights, (link) => graph.storeOf(space, link.source_id)!)) {
    writes.push(ledger.apply(space, store, { type: 'associations.reweighted', links: storeLinks }));
  }
  void Promise.allSettled(writes).then((results) => {
    for (const result of results) if (result.status === 'rejected') parts.log(`recall write-back failed: ${String(result.reason)}`);
  });
}
