import type { SpaceAggregates } from './aggregates.js';
import type { RegistryEntry } from './protocol.js';

// What a store worker derives from all of its records besides its indexes: the per-space aggregates
// (introspect.stats) and the registry the hippocampus builds its association graph from. Both used to
// be recounted from every record at each start, which parsed the whole partition (most of a cold start
// at 100,000 records). They are kept up to date by every applied event and saved inside the text index
// snapshot (indexes.ts: same file, same sequences, sealed like it under encryption at rest), so a start
// from a snapshot that needs no replay reads them back instead.

/** Registry entries per space, by record id. */
export type Registry = Map<string, Map<string, RegistryEntry>>;

export interface DerivedStateSnapshot {
  aggregates: Record<string, SpaceAggregates>;
  registry: Record<string, RegistryEntry[]>;
}

const AGGREGATE_FIELDS: (keyof SpaceAggregates)[] = ['records', 'fidelity_sum', 'access_sum', 'association_count', 'embedded', 'dream_episodic_summaries', 'dream_semantic_nodes', 'raw_pending_dream'];

export function derivedStateToJSON(aggregates: Map<string, SpaceAggregates>, registry: Registry): DerivedStateSnapshot {
  return {
    aggregates: Object.fromEntries(aggregates),
    registry: Object.fromEntries([...registry].map(([space, entries]) => [space, [...entries.values()]])),
  };
}

/**
 * Reads what derivedStateToJSON wrote; undefined for anything else (a snapshot from before it was
 * saved, or a malformed one): the worker then counts from the records as it always could. With
 * `withRegistry` (a curated store), the registry must hold one entry per counted record.
 */
export function derivedStateFromJSON(plain: unknown, withRegistry: boolean): { aggregates: Map<string, SpaceAggregates>; registry: Registry } | undefined {
  if (!isObject(plain) || !isObject(plain.aggregates) || !isObject(plain.registry)) return undefined;
  const aggregates = new Map<string, SpaceAggregates>();
  for (const [space, totals] of Object.entries(plain.aggregates)) {
    if (!isObject(totals) || !AGGREGATE_FIELDS.every((field) => typeof totals[field] === 'number')) return undefined;
    aggregates.set(space, totals as unknown as SpaceAggregates);
  }
  const registry: Registry = new Map();
  for (const [space, entries] of Object.entries(plain.registry)) {
    if (!Array.isArray(entries)) return undefined;
    const byId = new Map<string, RegistryEntry>();
    for (const entry of entries as unknown[]) {
      if (!isObject(entry) || typeof entry.id !== 'string' || typeof entry.created_at !== 'string' || !Array.isArray(entry.associations)) return undefined;
      byId.set(entry.id, entry as unknown as RegistryEntry);
    }
    registry.set(space, byId);
  }
  // A curated store registers every record it counts, the raw journal none: anything else is not a
  // snapshot this code wrote.
  for (const space of new Set([...aggregates.keys(), ...registry.keys()])) {
    const expected = withRegistry ? (aggregates.get(space)?.records ?? 0) : 0;
    if ((registry.get(space)?.size ?? 0) !== expected) return undefined;
  }
  return { aggregates, registry };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
