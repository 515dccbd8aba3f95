import type { Hippocampus } from '../actors/hippocampus/coordinator.js';
import type { AuditLog } from './audit-log.js';
import type { AuditEvent, AuditSummary } from './chain.js';

// Which hippocampus calls are audited, and what each entry says (reference spec §8.2 table). Entries
// carry ids, store names, the space and counters: never memory text, metadata, embeddings or keys.
// The audit sits around the hippocampus instance, so every caller is covered (REST, Connect, MCP, the
// CLI's in-process engine, and the background decay and dream jobs, which call the same methods).
// The entry is appended after the mutation succeeded; if the append fails the operation reports the
// failure, although its effect stays (as in the reference).

type Json = Record<string, any>;
type Describe = (request: Json, result: Json) => AuditEvent | undefined;

/** Number and boolean fields of a response: its counters, which carry no memory content. */
function counters(result: Json | undefined): AuditSummary {
  const summary: AuditSummary = {};
  for (const [key, value] of Object.entries(result ?? {})) {
    if (typeof value === 'number' || typeof value === 'boolean') summary[key] = value;
  }
  return summary;
}

const unique = (values: (string | undefined)[]) => [...new Set(values.filter((value): value is string => typeof value === 'string'))];

function exportEvent(request: Json, response: Json): AuditEvent {
  return {
    operation: 'lifecycle.export',
    record_ids: [],
    store_types: request.stores ?? [],
    summary: {
      space: request.space,
      all_spaces: request.all_spaces === true,
      archive_id: response.archive_id,
      record_count: response.record_count,
      size_bytes: response.size_bytes,
      checksum: response.checksum,
      include_raw_journal: request.include_raw_journal === true,
      encrypted: request.encrypt === true,
    },
  };
}

export const AUDITED: Record<string, Describe> = {
  encodeStore: (request, result) => ({
    operation: 'encode.store',
    record_ids: [result.record_id],
    store_types: [result.store],
    summary: { space: request.space, record_id: result.record_id, store: result.store, associations_created: result.associations_created },
  }),
  encodeBatch: (request, result) => ({
    operation: 'encode.batch',
    record_ids: result.results.map((entry: Json) => entry.record_id),
    store_types: unique(result.results.map((entry: Json) => entry.store)),
    summary: { space: request.space, records: result.results.length, associations_inferred: result.associations_inferred },
  }),
  encodeUpdate: (request) => ({
    operation: 'encode.update',
    record_ids: [request.record_id],
    store_types: [],
    summary: {
      space: request.space,
      record_id: request.record_id,
      content_changed: request.content !== undefined,
      emotion_changed: request.emotion !== undefined,
      meta_changed: request.meta !== undefined || request.metadata !== undefined,
    },
  }),
  encodeStoreRaw: (request, result) => ({
    operation: 'encode.store_raw',
    record_ids: [result.record_id],
    store_types: [],
    summary: { space: request.space, record_id: result.record_id, visibility: result.visibility, secrecy_level: result.secrecy_level },
  }),
  encodeBatchRaw: (request, result) => ({
    operation: 'encode.batch_raw',
    record_ids: result.results.map((entry: Json) => entry.record_id),
    store_types: [],
    summary: { space: request.space, records: result.results.length },
  }),
  // A recall is read-only unless it reconsolidated what it returned (spec §8.2).
  recallQuery: (request, result) =>
    request.reconsolidate === true && result.memories.length > 0
      ? {
          operation: 'recall.query.reconsolidate',
          record_ids: result.memories.map((memory: Json) => memory.record.id),
          store_types: unique(result.memories.map((memory: Json) => memory.record.store)),
          summary: { space: request.space, records_updated: result.memories.length },
        }
      : undefined,
  consolidate: (request, result) => ({
    operation: 'lifecycle.consolidate',
    record_ids: [],
    store_types: ['episodic', 'semantic'],
    summary: { space: request.space, strategy: request.strategy, dry_run: request.dry_run === true, ...counters(result) },
  }),
  dreamTick: (request, result) => ({
    operation: 'lifecycle.dream_tick',
    record_ids: [],
    store_types: ['episodic', 'semantic'],
    summary: { space: request.space, dry_run: request.dry_run === true, ...counters(result) },
  }),
  decayTick: (request, result) => ({
    operation: 'lifecycle.decay_tick',
    record_ids: [],
    store_types: [],
    summary: { space: request.space, tick_duration_seconds: request.tick_duration_seconds, ...counters(result) },
  }),
  // The key of an encrypted archive is in the request; only whether there was one is written.
  exportArchive: (request, result) => exportEvent(request, result),
  prepareExport: (request, result) => exportEvent(request, result.response),
  importArchive: (request, result) => ({
    operation: 'lifecycle.import',
    record_ids: [],
    store_types: [],
    summary: {
      space: request.space,
      archive_id: request.archive_id,
      strategy: request.strategy,
      conflict_resolution: request.conflict_resolution,
      all_spaces: request.all_spaces === true,
      encrypted: typeof request.decryption_key === 'string',
      imported: result.records_imported,
    },
  }),
  forget: (request, result) => ({
    operation: 'lifecycle.forget',
    record_ids: request.record_ids,
    store_types: request.store ? [request.store] : [],
    summary: {
      space: request.space,
      deleted: result.records_deleted,
      cascade: request.cascade === true,
      by_store: request.store ?? null,
      by_time: request.temporal_range !== null && request.temporal_range !== undefined,
    },
  }),
};

/**
 * Operations whose entry is appended without the answer waiting for its flush (issue 18: nothing in a
 * read path waits on a disk flush). A reconsolidating recall only strengthens what it returned; its
 * entry still takes its place in the chain at once (append queues in call order), a failure is logged.
 */
const APPENDED_AFTER_ANSWER = new Set(['recallQuery']);

/**
 * Replaces the audited methods of this hippocampus instance with ones that append an entry after each
 * success. `setMode` is synchronous, so its entry is queued (in order) and a failure only logged.
 */
export function auditHippocampus(hippocampus: Hippocampus, log: AuditLog, onError: (line: string) => void): void {
  const target = hippocampus as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const [name, describe] of Object.entries(AUDITED)) {
    const original = target[name]!.bind(hippocampus);
    target[name] = async function audited(request: unknown, ...rest: unknown[]) {
      const result = (await original(request, ...rest)) as Json;
      const event = describe(request as Json, result);
      if (event === undefined) return result;
      const appended = log.append(event);
      if (APPENDED_AFTER_ANSWER.has(name)) appended.catch((error: unknown) => onError(`audit: ${(error as Error).message}`));
      else await appended;
      return result;
    };
  }
  const setMode = target.setMode!.bind(hippocampus);
  target.setMode = function auditedSetMode(mode: unknown, scope: unknown = null) {
    setMode(mode, scope);
    log
      .append({ operation: 'lifecycle.set_mode', record_ids: [], store_types: Array.isArray(scope) ? scope : [], summary: { mode } })
      .catch((error: unknown) => onError(`audit: ${(error as Error).message}`));
  };
}
