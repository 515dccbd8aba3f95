import type {
  EncodeBatchRawRequest,
  EncodeBatchRawResponse,
  EncodeBatchRequest,
  EncodeBatchResponse,
  EncodeStoreRawRequest,
  EncodeStoreRawResponse,
  EncodeStoreRequest,
  EncodeStoreResponse,
  EncodeUpdateRequest,
  ExportRequest,
  ExportResponse,
  ForgetRequest,
  ForgetResponse,
  ImportRequest,
  ImportResponse,
  RecallMode,
  RecallQueryRequest,
  RecallQueryResponse,
  RequestBase,
} from '../cmp/operations.js';
import type { StoreType } from '../cmp/types.js';
import type { AuditEvent, AuditSummary } from './chain.js';

// What each audited operation's entry says (reference spec §8.2 table), one typed rule per operation;
// the operations table (src/transports/operations.ts) names each row's rule and appends its entry after
// the operation succeeded. Entries carry ids, store names, the space and counters: never memory text,
// metadata, embeddings or keys. If the append fails the operation reports the failure, although its
// effect stays (as in the reference).

/** The entry of one successful operation, or none (an operation that changed nothing). */
export interface AuditRule<Request, Result> {
  entry(request: Request, result: Result): AuditEvent | undefined;
  /**
   * The answer does not wait for the entry's flush (issue 18: nothing in a read path waits on a disk
   * flush). The entry still takes its place in the chain at once (appends queue in call order); a
   * failure is logged.
   */
  afterAnswer?: boolean;
}

/** Number and boolean fields of a response: its counters, which carry no memory content. */
function counters(result: object): AuditSummary {
  const summary: AuditSummary = {};
  for (const [key, value] of Object.entries(result)) {
    if (typeof value === 'number' || typeof value === 'boolean') summary[key] = value;
  }
  return summary;
}

const unique = (values: StoreType[]) => [...new Set(values)];

export const encodeStoreAudit: AuditRule<EncodeStoreRequest, EncodeStoreResponse> = {
  entry: (request, result) => ({
    operation: 'encode.store',
    record_ids: [result.record_id],
    store_types: [result.store],
    summary: { space: request.space, record_id: result.record_id, store: result.store, associations_created: result.associations_created },
  }),
};

export const encodeBatchAudit: AuditRule<EncodeBatchRequest, EncodeBatchResponse> = {
  entry: (request, result) => ({
    operation: 'encode.batch',
    record_ids: result.results.map((entry) => entry.record_id),
    store_types: unique(result.results.map((entry) => entry.store)),
    summary: { space: request.space, records: result.results.length, associations_inferred: result.associations_inferred },
  }),
};

export const encodeUpdateAudit: AuditRule<EncodeUpdateRequest, unknown> = {
  entry: (request) => ({
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
};

export const encodeStoreRawAudit: AuditRule<EncodeStoreRawRequest, EncodeStoreRawResponse> = {
  entry: (request, result) => ({
    operation: 'encode.store_raw',
    record_ids: [result.record_id],
    store_types: [],
    summary: { space: request.space, record_id: result.record_id, visibility: result.visibility, secrecy_level: result.secrecy_level },
  }),
};

export const encodeBatchRawAudit: AuditRule<EncodeBatchRawRequest, EncodeBatchRawResponse> = {
  entry: (request, result) => ({
    operation: 'encode.batch_raw',
    record_ids: result.results.map((entry) => entry.record_id),
    store_types: [],
    summary: { space: request.space, records: result.results.length },
  }),
};

/** A recall is read-only unless it reconsolidated what it returned (spec §8.2); it never waits for the flush. */
export const recallQueryAudit: AuditRule<RecallQueryRequest, RecallQueryResponse> = {
  entry: (request, result) =>
    request.reconsolidate && result.memories.length > 0
      ? {
          operation: 'recall.query.reconsolidate',
          record_ids: result.memories.map((memory) => memory.record.id),
          store_types: unique(result.memories.map((memory) => memory.record.store)),
          summary: { space: request.space, records_updated: result.memories.length },
        }
      : undefined,
  afterAnswer: true,
};

/** A mode change answers at once (it is synchronous): its entry is queued in order, a failure only logged. */
export const setModeAudit: AuditRule<{ mode: RecallMode; scope: StoreType[] | null }, unknown> = {
  entry: (request) => ({ operation: 'lifecycle.set_mode', record_ids: [], store_types: request.scope ?? [], summary: { mode: request.mode } }),
  afterAnswer: true,
};

export const consolidateAudit: AuditRule<RequestBase & { strategy: string; dry_run: boolean }, object> = {
  entry: (request, result) => ({
    operation: 'lifecycle.consolidate',
    record_ids: [],
    store_types: ['episodic', 'semantic'],
    summary: { space: request.space, strategy: request.strategy, dry_run: request.dry_run === true, ...counters(result) },
  }),
};

export const dreamTickAudit: AuditRule<RequestBase & { dry_run: boolean }, object> = {
  entry: (request, result) => ({
    operation: 'lifecycle.dream_tick',
    record_ids: [],
    store_types: ['episodic', 'semantic'],
    summary: { space: request.space, dry_run: request.dry_run === true, ...counters(result) },
  }),
};

export const decayTickAudit: AuditRule<RequestBase & { tick_duration_seconds: number }, object> = {
  entry: (request, result) => ({
    operation: 'lifecycle.decay_tick',
    record_ids: [],
    store_types: [],
    summary: { space: request.space, tick_duration_seconds: request.tick_duration_seconds, ...counters(result) },
  }),
};

export const forgetAudit: AuditRule<ForgetRequest, ForgetResponse> = {
  entry: (request, result) => ({
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

/** The key of an encrypted archive is in the request; only whether there was one is written. */
export const exportAudit: AuditRule<ExportRequest, ExportResponse> = {
  entry: (request, response) => ({
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
  }),
};

export const importAudit: AuditRule<ImportRequest, ImportResponse> = {
  entry: (request, result) => ({
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
};
