// The CMP data model (reference spec §1). Wire names are snake_case on purpose: these objects are
// stored, exported and sent as JSON unchanged, so one shape serves the partition, REST and archives.
// Timestamps are RFC 3339 strings; binary payloads are base64 strings inside the engine (the
// transports accept integer arrays too, spec §1.1).

export const STORE_TYPES = ['episodic', 'semantic', 'procedural', 'emotional', 'working'] as const;
export type StoreType = (typeof STORE_TYPES)[number];

/** The persistent curated stores (working memory lives in RAM only). */
export const PERSISTENT_STORES = ['episodic', 'semantic', 'procedural', 'emotional'] as const;
export type PersistentStore = (typeof PERSISTENT_STORES)[number];

/** Every partition the runtime owns: the five curated stores plus the raw journal. */
export type PartitionName = StoreType | 'raw_journal';

export const MODALITIES = ['text', 'image', 'audio', 'video', 'structured', 'spatial', 'temporal', 'interoceptive'] as const;
export type Modality = (typeof MODALITIES)[number];

export interface ContentBlock {
  modality: Modality;
  /** MIME type or identifier, e.g. "text/plain". */
  format: string;
  /** The payload, base64-encoded. */
  data: string;
  embedding?: number[] | null;
}

export interface MemoryContent {
  blocks: ContentBlock[];
  summary?: string | null;
}

export interface FidelityState {
  /** 0 = fully decayed, 1 = pristine. */
  score: number;
  /** 0 = no noise, 1 = fully noisy. */
  noise_level: number;
  /** Power-law exponent d of this record (DESIGN §2.1: per store by default). */
  decay_rate: number;
  /** The last emotional modulation E_mod applied. */
  emotional_anchor: number;
  reinforcement_count: number;
  /** S in seconds: how slowly the record fades (DESIGN §2.1). */
  stability: number;
  last_decay_tick: string;
  /**
   * F_anchor: the fidelity at the last reinforcement (encode or reconsolidating recall). Decay is
   * evaluated in closed form from this anchor (DESIGN §2.1). Absent on imported reference records:
   * then `score` at `last_decay_tick` is the anchor.
   */
  anchor_score?: number;
  /** t_anchor: when the last reinforcement happened (RFC 3339). */
  anchor_at?: string;
}

export const EMOTION_DIMENSIONS = ['joy', 'trust', 'fear', 'surprise', 'sadness', 'disgust', 'anger', 'anticipation'] as const;
export type EmotionDimension = (typeof EMOTION_DIMENSIONS)[number];

export type EmotionVector = Record<EmotionDimension, number> & {
  /** 0..1 nominal. */
  intensity: number;
  /** -1..1 nominal. */
  valence: number;
};

export const ASSOCIATION_TYPES = ['temporal', 'spatial', 'semantic', 'emotional', 'causal', 'sequential', 'cross_modal', 'user_defined'] as const;
export type AssociationType = (typeof ASSOCIATION_TYPES)[number];

export interface Association {
  target_id: string;
  association_type: AssociationType;
  /** 0..1 */
  weight: number;
  created_at: string;
  last_co_activation: string;
}

export interface ManualAssociation {
  target_id: string;
  association_type: AssociationType;
  weight: number;
}

export const CAPTURE_STATUSES = ['provided', 'inferred', 'legacy', 'unavailable'] as const;
export type CaptureStatus = (typeof CAPTURE_STATUSES)[number];

export const META_RELATIONS = ['motivated_by', 'caused_by', 'derived_from', 'supports', 'contradicts', 'chose_over', 'explains', 'context_of'] as const;
export type MetaRelation = (typeof META_RELATIONS)[number];

export interface MetaEvidenceRef {
  record_id?: string | null;
  raw_record_id?: string | null;
  label?: string | null;
  excerpt?: string | null;
  uri?: string | null;
  confidence?: number | null;
}

export interface MetaAlternative {
  option: string;
  reason?: string | null;
  chosen: boolean;
}

export interface MetaEdge {
  source_id?: string | null;
  target_id: string;
  relation: MetaRelation;
  rationale?: string | null;
  evidence: MetaEvidenceRef[];
  confidence?: number | null;
  created_at?: string | null;
}

export interface MetaMemory {
  schema_version: number;
  capture_status: CaptureStatus;
  intent: string | null;
  rationale: string | null;
  trigger: string | null;
  goals: string[];
  evidence: MetaEvidenceRef[];
  assumptions: string[];
  alternatives: MetaAlternative[];
  decision: string | null;
  confidence: number | null;
  source_record_ids: string[];
  parent_meta_ids: string[];
  context_edges: MetaEdge[];
  tags: string[];
  captured_at: string | null;
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface MemoryRecord {
  id: string;
  /** Memory space (tenant); DESIGN §2.8. */
  space: string;
  store: StoreType;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
  access_count: number;
  content: MemoryContent;
  fidelity: FidelityState;
  emotion: EmotionVector;
  associations: Association[];
  metadata: JsonValue;
  version: number;
  meta: MetaMemory;
}

export const RAW_SOURCES = ['conversation', 'tool_io', 'scratchpad', 'summary', 'imported'] as const;
export type RawSource = (typeof RAW_SOURCES)[number];
export const RAW_SPEAKERS = ['user', 'assistant', 'system', 'tool'] as const;
export type RawSpeaker = (typeof RAW_SPEAKERS)[number];
export const RAW_VISIBILITIES = ['normal', 'private_scratch', 'sealed'] as const;
export type RawVisibility = (typeof RAW_VISIBILITIES)[number];
export const SECRECY_LEVELS = ['public', 'sensitive', 'secret'] as const;
export type SecrecyLevel = (typeof SECRECY_LEVELS)[number];

export interface RawJournalRecord {
  id: string;
  space: string;
  session_id: string;
  turn_id: string | null;
  topic_id: string | null;
  source: RawSource;
  speaker: RawSpeaker;
  visibility: RawVisibility;
  secrecy_level: SecrecyLevel;
  created_at: string;
  updated_at: string;
  content: MemoryContent;
  metadata: JsonValue;
  derived_memory_ids: string[];
  suppressed: boolean;
  meta: MetaMemory;
}

/** A record as a partition holds it: curated or raw. */
export type StoredRecord = MemoryRecord | RawJournalRecord;

export interface TemporalRange {
  start: string;
  end: string;
}

export interface EncodeContext {
  source?: string | null;
  session_id?: string | null;
  spatial?: JsonValue;
  temporal?: JsonValue;
}

export const DEFAULT_SPACE = 'default';
