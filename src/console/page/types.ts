// The wire shapes the console reads (reference spec §1 and §3, as the REST API answers them). Only
// the fields it shows; the server's own types live in src/cmp and are not imported into the page.
import type { Content, Emotion, Meta, Store } from './format.js';

export interface MemoryRecord {
  id: string;
  space: string;
  store: Store;
  created_at: string;
  updated_at: string;
  last_accessed_at: string;
  access_count: number;
  content: Content;
  fidelity: {
    score: number;
    noise_level: number;
    decay_rate: number;
    reinforcement_count: number;
    stability: number;
    last_decay_tick: string;
    anchor_score?: number;
    anchor_at?: string;
  };
  emotion: Emotion;
  associations: { target_id: string; association_type: string; weight: number; created_at: string; last_co_activation: string }[];
  metadata: unknown;
  version: number;
  meta: Meta;
}

export interface RecalledMemory {
  record: MemoryRecord;
  relevance_score: number;
  activation_path: string[] | null;
  rendered_content: Content;
}

export interface RecallResponse {
  memories: RecalledMemory[];
  total_candidates: number;
  query_metadata: { stores_searched: Store[]; strategies: string[]; stores_unavailable?: Store[] };
}

export interface TimelineResponse {
  buckets: { start: string; end: string; memories: RecalledMemory[]; count: number }[];
}

export interface GraphResponse {
  nodes: { id: string; store: Store; summary: string; fidelity: number }[];
  edges: { source: string; target: string; edge_type: string; weight: number }[];
  total_nodes: number;
}

export interface ForecastResponse {
  forecasts: { record_id: string; current_fidelity: number; forecasted_fidelity: number; estimated_threshold_date: string | null }[];
}

export interface DecayParams {
  decay_exponent: number;
  initial_stability_secs: number;
  prune_threshold: number;
  retrieval_boost: number;
}

export interface EvolutionResponse {
  parameter_adjustments: { store: Store; parameter: string; original_value: number; current_value: number; reason: string }[];
  detected_patterns: string[];
  current_parameters: Record<Store, DecayParams>;
}

export interface StatsResponse {
  space: string;
  total_records: number;
  records_by_store: Record<Store, number>;
  total_associations: number;
  avg_fidelity: number;
  avg_fidelity_by_store: Partial<Record<Store, number>>;
  oldest_record: string | null;
  newest_record: string | null;
  total_recall_count: number;
  raw_journal_records: number;
  raw_journal_pending_dream: number;
  vector_index_records: number;
  vector_backlog: number;
  embedder: string;
  dream_episodic_summaries: number;
  dream_semantic_nodes: number;
  background_decay_enabled: boolean;
  background_dream_enabled: boolean;
}

export interface ReadinessResponse {
  status: 'ready' | 'degraded';
  stores: { name: string; state: string; restarts: number; in_flight: number; last_crash: string | null }[];
  /** The embedder in use and the records waiting for their vector. */
  embedding?: { embedder: string; vector_backlog: number };
}

export interface RawRecord {
  id: string;
  session_id: string;
  turn_id: string | null;
  topic_id: string | null;
  source: string;
  speaker: string;
  visibility: string;
  secrecy_level: string;
  created_at: string;
  content: Content;
  derived_memory_ids: string[];
  suppressed: boolean;
}

export interface RawQueryResponse {
  records: RawRecord[];
  total_candidates: number;
}
