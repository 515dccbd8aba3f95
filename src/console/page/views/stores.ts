import type { ViewContext } from '../context.js';
import { h, replace } from '../dom.js';
import { fidelity, STORES, when } from '../format.js';
import type { EvolutionResponse, ReadinessResponse, StatsResponse } from '../types.js';
import { definitionList, errorText, storeBadge, table } from './common.js';

// The stores at a glance: counts and average fidelity (introspect.stats), readiness and restarts of
// each store worker (/readiness), and what evolution has adjusted (introspect.evolution).

export function storesView({ api }: ViewContext): HTMLElement {
  const body = h('div', { id: 'stores' }, h('progress', { 'aria-label': 'Loading' }));
  void (async () => {
    try {
      const [stats, evolution, readiness] = await Promise.all([
        api.get<StatsResponse>('/v1/introspect/stats'),
        api.get<EvolutionResponse>('/v1/introspect/evolution'),
        // /readiness answers 503 while a store is down, with the same body: read it either way.
        fetch('/readiness', { cache: 'no-store' }).then((response) => response.json() as Promise<ReadinessResponse>),
      ]);
      const health = new Map(readiness.stores.map((store) => [store.name, store]));
      const rows = STORES.map((store) => {
        const worker = health.get(store);
        const params = evolution.current_parameters[store];
        return [
          storeBadge(store),
          String(stats.records_by_store[store] ?? 0),
          fidelity(stats.avg_fidelity_by_store[store]),
          worker?.state ?? '–',
          String(worker?.restarts ?? '–'),
          worker?.last_crash ? when(worker.last_crash) : '–',
          params ? `d ${params.decay_exponent.toFixed(3)} · S₀ ${(params.initial_stability_secs / 86_400).toFixed(2)} d · prune < ${params.prune_threshold}` : '–',
        ];
      });
      const journal = health.get('raw_journal');
      replace(
        body,
        table(['store', 'records', 'avg fidelity', 'state', 'restarts', 'last crash', 'decay parameters'], rows, 'Stores'),
        definitionList([
          ['space', stats.space],
          ['records', String(stats.total_records)],
          ['average fidelity', fidelity(stats.avg_fidelity)],
          ['associations', String(stats.total_associations)],
          ['vectors indexed', `${stats.vector_index_records}${stats.vector_backlog ? ` (${stats.vector_backlog} waiting)` : ''}`],
          ['embedder', stats.embedder],
          ['recalls', String(stats.total_recall_count)],
          ['raw journal', `${stats.raw_journal_records} records, ${stats.raw_journal_pending_dream} waiting for a dream · worker ${journal?.state ?? '–'}, ${journal?.restarts ?? 0} restarts`],
          ['background decay / dream', `${stats.background_decay_enabled ? 'on' : 'off'} / ${stats.background_dream_enabled ? 'on' : 'off'}`],
          ['oldest / newest', `${when(stats.oldest_record)} / ${when(stats.newest_record)}`],
          ['server', readiness.status],
        ]),
        h('h3', {}, 'Evolution'),
        evolution.parameter_adjustments.length === 0
          ? h('p', { class: 'empty' }, 'No parameter adjusted yet.')
          : table(
              ['store', 'parameter', 'original', 'current', 'reason'],
              evolution.parameter_adjustments.map((a) => [a.store, a.parameter, String(a.original_value), String(a.current_value), a.reason]),
              'Evolution adjustments',
            ),
        evolution.detected_patterns.length > 0
          ? h(
              'ul',
              {},
              evolution.detected_patterns.map((pattern) => h('li', {}, pattern)),
            )
          : null,
      );
    } catch (error) {
      replace(body, h('p', { class: 'error' }, errorText(error)));
    }
  })();
  return h('div', { class: 'view stores-view' }, h('h2', {}, 'Stores'), body);
}
