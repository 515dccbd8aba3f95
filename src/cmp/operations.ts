// Requests and responses of the CMP operations (reference spec §3), as the hippocampus receives them:
// already decoded and validated by src/cmp/requests.ts, defaults applied, binary data as base64.
import type {
  EmotionVector, EncodeContext, JsonValue, ManualAssociation, MemoryContent, MemoryRecord, RawJournalRecord,
  RawSource, RawSpeaker, RawVisibility, SecrecyLevel, StoreType, TemporalRange,
} from './types.js';

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

export interface EncodeStoreRawRequest extends RequestBase {
  session_id: string;
  turn_id: string | null;
  topic_id: string | null;
  source: RawSource;
  speaker: RawSpeaker;
  visibility: RawVisibility;
  secrecy_level: SecrecyLevel;
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

export type { MemoryRecord, RawJournalRecord };
