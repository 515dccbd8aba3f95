// The embedding seam (DESIGN §2.2): every text record and text cue is embedded by one Embedder, the
// built-in semantic one by default (USE lite, src/embedding/use-lite.ts; the lexical hashing one on
// request or when the model cannot load), an OpenAI-compatible or Gemini endpoint when configured (src/providers). Callers depend on this
// interface only; vectors are compared by cosine, so the providers' scales need not agree, but their
// dimension must match the index they feed.

//
// This file holds the interface only (no implementation is imported here, so implementations can import
// it without a cycle); src/embedding/factory.ts builds an embedder from the configuration.

export interface Embedder {
  /** Stored beside each vector so that vectors of different schemes or models are never mixed. */
  readonly name: string;
  /** Length of every vector returned. */
  readonly dimension: number;
  /**
   * One vector per text, in input order. Rejects with a CmpError, except that an aborted `signal` stops
   * the work and rejects with the signal's reason (as fetch does), so a caller's own deadline error comes
   * back to it unchanged.
   */
  embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]>;
  /**
   * A recall cue's vector, where the embedder has a cheaper path for cues than for memories (the
   * model's static query vectors, static-query.ts), comparable with the vectors embed() gives
   * memories. Absent: cues are embedded by embed().
   */
  embedQuery?(text: string, signal?: AbortSignal): Promise<QueryVector>;
}

/** A cue's vector from Embedder.embedQuery. */
export interface QueryVector {
  vector: Float32Array;
  /** Made by the static query table: its cosines with memories run lower than the model's (recall.ts). */
  static: boolean;
}

/** The `[embedding]` configuration section, as far as building an embedder needs it. */
export interface EmbedderConfig {
  provider: 'local' | 'lexical' | 'openai_compatible' | 'gemini' | 'none';
  dimension: number;
  /** provider "local": where the model's files are; unset: the npm package's. */
  model_dir?: string;
  base_url?: string;
  model?: string;
  api_key?: string;
  /** Embed a memory with the one before it in its session (store indexes); default true. */
  session_context?: boolean;
  /** provider "local": cues by the static query table ("static", default) or the model ("model"). */
  query_vectors?: 'static' | 'model';
}

/** `GET /readiness`'s `embedding` (runtime.ts): the embedder, how cues are embedded now, the backlog. */
export interface EmbeddingReport {
  embedder: string;
  /** "static": by the static query table (static-query.ts); "model": by the embedder itself. */
  query_vectors: 'static' | 'model';
  vector_backlog: number;
  links_pending: number;
}
