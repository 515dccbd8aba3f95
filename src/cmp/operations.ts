// Requests and responses of the CMP operations (reference spec §3), as the hippocampus receives them:
// already decoded and validated by src/cmp/requests.ts, defaults applied, binary data as base64.
import type { EmotionVector, EncodeContext, JsonValue, ManualAssociation, MemoryContent, MemoryRecord, RawJournalRecord, RawVisibility, SecrecyLevel, StoreType, TemporalRange } from './types.js';

/** Fields every request may carry. */
export interface RequestBase {
  /** Memory space; "default" when absent. */
  space: string;
  /**
   * Idempotency key of a mutating request (the CMP header's `request_id`). A retry with the same
   * key within the same space returns the first result and writes nothing twice.
   */
  idempotency_key?: string;
}

export interface EncodeStoreRequest extends RequestBase {
  content: MemoryContent;
  store: StoreType | null;
  emotion: EmotionVector | null;
  context: EncodeContext | null;
  metadata: JsonValue | null;
  associations: ManualAssociation[];
  /** Caller-provided meta-memory, validated but not yet normalised (that needs the trigger and now). */
  meta: Record<string, unknown> | null;
}

export interface EncodeStoreResponse {
  record_id: string;
  store: StoreType;
  initial_fidelity: number;
  associations_created: number;
}

export interface EncodeBatchRequest extends RequestBase {
  records: Omit<EncodeStoreRequest, 'space' | 'idempotency_key'>[];
  infer_associations: boolean;
}

export interface EncodeBatchResponse {
  results: EncodeStoreResponse[];
  associations_inferred: number;
}

export interface EncodeUpdateRequest extends RequestBase {
  record_id: string;
  content?: MemoryContent;
  emotion?: EmotionVector;
  metadata?: JsonValue;
  meta?: Record<string, unknown>;
}

export interface EncodeStoreRawRequest extends RequestBase, Pick<RawJournalRecord, 'session_id' | 'turn_id' | 'topic_id' | 'source' | 'speaker' | 'visibility' | 'secrecy_level'> {
  content: MemoryContent;
  metadata: JsonValue;
  meta: Record<string, unknown> | null;
}

export interface EncodeStoreRawResponse {
  record_id: string;
  session_id: string;
  visibility: RawVisibility;
  secrecy_level: SecrecyLevel;
}

export interface EncodeBatchRawRequest extends RequestBase {
  records: Omit<EncodeStoreRawRequest, 'space' | 'idempotency_key'>[];
}

export interface EncodeBatchRawResponse {
  results: EncodeStoreRawResponse[];
}

export interface IntrospectRecordRequest extends RequestBase {
  record_id: string;
  include_history: boolean;
  include_associations: boolean;
  include_versions: boolean;
}

export interface StatsRequest extends RequestBase {}

export interface ForgetRequest extends RequestBase {
  record_ids: string[];
  store: StoreType | null;
  temporal_range: TemporalRange | null;
  cascade: boolean;
  confirm: boolean;
}

export interface ForgetResponse {
  records_deleted: number;
}

// ── lifecycle.export / lifecycle.import (§3.16, §3.17, §7) ───────────────────────────────────────

export interface ExportRequest extends RequestBase {
  /** Only CMA exists; `jsonl` is accepted as its alias (§3.16). */
  format: 'cma';
  /** Stores to export, each once; null: all five. */
  stores: StoreType[] | null;
  /** Adds the raw journal: a version 2.0 bundle instead of 1.0. */
  include_raw_journal: boolean;
  encrypt: boolean;
  encryption_key: string | null;
  /** Ours (DESIGN §2.8): every space instead of the request's one; each record carries its `space`. */
  all_spaces: boolean;
}

export interface ExportResponse {
  archive_id: string;
  size_bytes: number;
  record_count: number;
  /** SHA-256 of the plaintext entry lines (§7.1). */
  checksum: string;
}

export const CONFLICT_RESOLUTIONS = ['keep_newer', 'keep_existing', 'keep_imported'] as const;
export type ConflictResolution = (typeof CONFLICT_RESOLUTIONS)[number];

export interface ImportRequest extends RequestBase {
  /** Informational (§3.17). */
  archive_id: string;
  strategy: 'merge' | 'replace';
  conflict_resolution: ConflictResolution;
  /** The archive is decrypted iff a key is given (§7.2). */
  decryption_key: string | null;
  /**
   * Ours (DESIGN §2.8): records go to the space each names (the request's space when it names none),
   * and `replace` empties every space. Otherwise every record goes to the request's space and
   * `replace` empties only that space.
   */
  all_spaces: boolean;
}

export interface ImportResponse {
  records_imported: number;
}

export type { MemoryRecord, RawJournalRecord };

// ── recall (§3.6–§3.10) ──────────────────────────────────────────────────────────────────────────

export interface RecallCue {
  /** Trimmed; null when absent or blank. */
  text: string | null;
  embedding: number[] | null;
  emotion: EmotionVector | null;
  temporal: TemporalRange | null;
  /** base64 */
  image: string | null;
  /** base64 */
  audio: string | null;
  spatial: JsonValue;
  semantic: JsonValue;
}

export const RECALL_MODES = ['human', 'perfect'] as const;
export type RecallMode = (typeof RECALL_MODES)[number];

/** Model families a recall can be formatted for (src/adapters): Claude XML, GPT JSON, Gemini Markdown. */
export const CONTEXT_FORMATS = ['claude', 'gpt', 'gemini'] as const;
export type ContextFormat = (typeof CONTEXT_FORMATS)[number];

/** Ours: a recall's memories as one prompt block for a model (`format` on recall.query). */
export interface RecallContext {
  format: ContextFormat;
  text: string;
  /** Estimated tokens of `text` (src/adapters/tokens.ts). */
  token_estimate: number;
  /** Record ids in the order they appear in `text`. */
  included: string[];
  /** Record ids left out, in relevance order: over the budget, or without text. */
  omitted: { id: string; reason: 'budget' | 'no_text' }[];
}

export interface RecallQueryRequest extends RequestBase {
  cue: RecallCue;
  /** null → all five stores. */
  stores: StoreType[] | null;
  limit: number;
  min_fidelity: number | null;
  include_decayed: boolean;
  reconsolidate: boolean;
  activation_depth: number;
  recall_mode: RecallMode;
  /** Ours: also answer the memories as a prompt block for this model family; null or absent = no block. */
  format?: ContextFormat | null;
  /** Ours: most tokens that block may take; null or absent = unlimited. Only with `format`. */
  budget_tokens?: number | null;
}

export interface RecalledMemory {
  record: MemoryRecord;
  relevance_score: number;
  /** The path activation took to reach this memory, from the hit it spread from; null for direct hits. */
  activation_path: string[] | null;
  rendered_content: MemoryContent;
}

export interface RecallQueryResponse {
  memories: RecalledMemory[];
  activation_trace: null;
  total_candidates: number;
  query_metadata: {
    total_records_scanned: number;
    stores_searched: StoreType[];
    fidelity_filtered: number;
    /** Ours: which retrieval paths ran ("text", "vector", "temporal", "activation", "recent"). */
    strategies: string[];
    /** Ours: stores skipped because they were restarting; the answer comes from the others. */
    stores_unavailable?: StoreType[];
  };
  /** Present when the request named a `format`. */
  context?: RecallContext;
}

export interface RecallAssociateRequest extends RequestBase {
  record_id: string;
  association_types: import('./types.js').AssociationType[] | null;
  depth: number;
  min_weight: number;
  limit: number;
}

export interface RecallAssociateResponse {
  memories: RecalledMemory[];
  total_candidates: number;
}

export type TimeGranularity = 'minute' | 'hour' | 'day' | 'week' | 'month';

export interface RecallTimelineRequest extends RequestBase {
  range: TemporalRange;
  granularity: TimeGranularity;
  min_fidelity: number | null;
  emotion_filter: EmotionVector | null;
}

export interface TimelineBucket {
  start: string;
  end: string;
  memories: RecalledMemory[];
  count: number;
}

export interface RecallGraphRequest extends RequestBase {
  center_id: string | null;
  depth: number;
  edge_types: string[] | null;
  limit_nodes: number;
  include_meta: boolean;
}

export interface GraphNode {
  id: string;
  store: StoreType;
  summary: string;
  fidelity: number;
  meta?: import('./types.js').MetaMemory;
}

export interface GraphEdge {
  source: string;
  target: string;
  edge_type: string;
  weight: number;
}

export interface RecallGraphResponse {
  nodes: GraphNode[];
  edges: GraphEdge[];
  total_nodes: number;
  meta_edges: import('./types.js').MetaEdge[];
}

export interface RecallRawQueryRequest extends RequestBase {
  session_id: string | null;
  query: string | null;
  temporal: TemporalRange | null;
  limit: number;
  include_private_scratch: boolean;
  include_sealed: boolean;
  secrecy_levels: SecrecyLevel[] | null;
}

export interface RecallRawQueryResponse {
  records: RawJournalRecord[];
  total_candidates: number;
}
