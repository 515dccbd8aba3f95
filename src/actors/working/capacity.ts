import type { MemoryRecord } from '../../cmp/types.js';
import type { Capacity } from '../store/memory-partition.js';

// Working memory's bound (spec §2.6): at most `limit` records per space (Miller's 7 by default); a new
// record arriving in a full space makes the least recently used one leave.

/** Spec §2.6: the record with the oldest last_accessed_at leaves; on a tie, the one stored earliest. */
export function leastRecentlyUsed(records: Iterable<MemoryRecord>): MemoryRecord {
  let victim: MemoryRecord | undefined;
  for (const record of records) {
    if (!victim || Date.parse(record.last_accessed_at) < Date.parse(victim.last_accessed_at)) victim = record;
  }
  if (!victim) throw new Error('leastRecentlyUsed: no record to evict (capacity must be at least 1)');
  return victim;
}

export function lruCapacity(limit: number): Capacity<MemoryRecord> {
  return { limit, victim: leastRecentlyUsed };
}
