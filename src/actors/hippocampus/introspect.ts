import { toTimestamp } from '../../cmp/ids.js';
import type { IntrospectRecordRequest, RequestBase, StatsRequest } from '../../cmp/operations.js';
import { STORE_TYPES, type MemoryRecord, type StoreType } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import { fidelityNow, forecast } from '../store/decay.js';
import type { SpaceStats, Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';
import type { EvolutionKeeper } from './evolution-keeper.js';
import { locate, notFound } from './locate.js';

// The read-only introspect operations (spec §3.18–§3.20): one record, a space's statistics, and
// what a decay tick at a given time would find. They read the stores and the graph, never write.

export interface DecayForecastEntry {
  record_id: string;
  current_fidelity: number;
  forecasted_fidelity: number;
  estimated_threshold_date: string | null;
}

export interface IntrospectContext {
  stores: Stores;
  graph: AssociationGraph;
  evolution: EvolutionKeeper;
  embedder: Embedder;
  now: () => number;
}

export async function introspectRecord({ stores, graph }: IntrospectContext, request: IntrospectRecordRequest): Promise<MemoryRecord> {
  const store = await locate(stores, graph, request.space, request.record_id);
  const record = await stores[store].get(request.space, request.record_id);
  if (!record || !('store' in record)) throw notFound(request.record_id);
  return record;
}

/** introspect.decay_forecast (spec §3.20): what a tick at `forecast_at` would find, in closed form. */
export async function decayForecast(
  { stores, graph, evolution, now }: IntrospectContext,
  request: RequestBase & { record_ids: string[]; forecast_at: string },
): Promise<{ forecasts: DecayForecastEntry[] }> {
  const at = Date.parse(request.forecast_at);
  const nowMs = now();
  const forecasts: DecayForecastEntry[] = [];
  for (const id of request.record_ids) {
    const store = await locate(stores, graph, request.space, id);
    const record = await stores[store].get(request.space, id);
    if (!record) throw notFound(id);
    const predicted = forecast(record.fidelity, record.emotion.intensity, at, evolution.params(store).prune_threshold);
    forecasts.push({
      record_id: id,
      current_fidelity: fidelityNow(record.fidelity, record.emotion.intensity, nowMs),
      forecasted_fidelity: predicted.fidelity,
      estimated_threshold_date: predicted.threshold_at_ms === null ? null : toTimestamp(predicted.threshold_at_ms),
    });
  }
  return { forecasts };
}

/** introspect.stats (spec §3.18): every store's aggregates of the space, summed, plus the hippocampus's own. */
export async function stats({ stores, graph, evolution, embedder }: IntrospectContext, request: StatsRequest, background: { decay: boolean; dream: boolean }): Promise<Record<string, unknown>> {
  const { space } = request;
  const perStore = Object.fromEntries(await Promise.all(STORE_TYPES.map(async (store) => [store, await stores[store].stats(space)] as const))) as Record<StoreType, SpaceStats>;
  const raw = await stores.raw_journal.stats(space);
  const curated = Object.values(perStore);
  const totalRecords = curated.reduce((sum, entry) => sum + entry.records, 0);
  const fidelitySum = curated.reduce((sum, entry) => sum + entry.fidelity_sum, 0);
  const created = curated.flatMap((entry) => [entry.oldest_created_at, entry.newest_created_at]).filter((at): at is string => at !== null);
  created.sort();
  return {
    space,
    total_records: totalRecords,
    records_by_store: Object.fromEntries(STORE_TYPES.map((store) => [store, perStore[store].records])),
    total_associations: graph.totalAssociations(space),
    avg_fidelity: totalRecords === 0 ? 0 : fidelitySum / totalRecords,
    avg_fidelity_by_store: Object.fromEntries(STORE_TYPES.filter((store) => perStore[store].records > 0).map((store) => [store, perStore[store].fidelity_sum / perStore[store].records])),
    oldest_record: created[0] ?? null,
    newest_record: created.at(-1) ?? null,
    total_recall_count: curated.reduce((sum, entry) => sum + entry.access_sum, 0),
    raw_journal_records: raw.records,
    raw_journal_pending_dream: raw.raw_pending_dream,
    vector_index_records: curated.reduce((sum, entry) => sum + entry.indexed_vectors, 0),
    vector_backlog: curated.reduce((sum, entry) => sum + entry.vector_backlog, 0),
    vector_search_backend: 'hnsw',
    embedder: `${embedder.name}/${embedder.dimension}`,
    dream_episodic_summaries: perStore.episodic.dream_episodic_summaries,
    dream_semantic_nodes: perStore.semantic.dream_semantic_nodes,
    evolution_metrics: evolution.metrics,
    background_decay_enabled: background.decay,
    background_dream_enabled: background.dream,
  };
}
