import type { StoredRecord } from '../../cmp/types.js';

// Running totals a store actor keeps per space so that introspect.stats never scans a partition.
// Built once when the partition opens, then moved by every applied write and removal.

export interface SpaceAggregates {
  records: number;
  fidelity_sum: number;
  /** Sum of access_count: how many times memories of this store were recalled. */
  access_sum: number;
  association_count: number;
  /** Records with at least one embedded block. */
  embedded: number;
  dream_episodic_summaries: number;
  dream_semantic_nodes: number;
  /** Raw journal: records not yet digested by a dream tick. */
  raw_pending_dream: number;
}

export const emptyAggregates = (): SpaceAggregates => ({
  records: 0,
  fidelity_sum: 0,
  access_sum: 0,
  association_count: 0,
  embedded: 0,
  dream_episodic_summaries: 0,
  dream_semantic_nodes: 0,
  raw_pending_dream: 0,
});

function dreamKind(record: StoredRecord): unknown {
  const metadata = record.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const dream = metadata._dream;
  if (dream === null || typeof dream !== 'object' || Array.isArray(dream)) return undefined;
  return 'store' in record ? dream.kind : dream.processed_at;
}

/** Moves `totals` by one record: `sign` 1 adds it, -1 takes it away. */
export function countRecord(totals: SpaceAggregates, record: StoredRecord, sign: 1 | -1): void {
  totals.records += sign;
  if ('store' in record) {
    totals.fidelity_sum += sign * record.fidelity.score;
    totals.access_sum += sign * record.access_count;
    totals.association_count += sign * record.associations.length;
    const kind = dreamKind(record);
    if (kind === 'episodic_summary') totals.dream_episodic_summaries += sign;
    if (kind === 'semantic_summary') totals.dream_semantic_nodes += sign;
  } else if (typeof dreamKind(record) !== 'string') {
    totals.raw_pending_dream += sign;
  }
  if (record.content.blocks.some((block) => block.embedding != null && block.embedding.length > 0)) totals.embedded += sign;
}
