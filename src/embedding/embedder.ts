// The embedding seam (DESIGN §2.2): every text record and text cue is embedded by one Embedder, the
// built-in local one by default, an OpenAI-compatible or Gemini endpoint when configured (src/providers). Callers depend on this
// interface only; vectors are compared by cosine, so the providers' scales need not agree, but their
// dimension must match the index they feed.

import { invalidField } from '../cmp/errors.js';
import { LocalEmbedder } from './local.js';
import { GeminiEmbedder } from '../providers/gemini.js';
import { OpenAiCompatibleEmbedder, type OpenAiCompatibleOptions } from '../providers/openai-compatible.js';

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
}

/** The `[embedding]` configuration section, as far as building an embedder needs it. */
export interface EmbedderConfig {
  provider: 'local' | 'openai_compatible' | 'gemini' | 'none';
  dimension: number;
  base_url?: string;
  model?: string;
  api_key?: string;
}

/** Transport knobs of a remote provider; ignored by the local one. See `OpenAiCompatibleOptions`. */
export type EmbedderOptions = OpenAiCompatibleOptions;

export function createEmbedder(config: EmbedderConfig, options: EmbedderOptions = {}): Embedder {
  switch (config.provider) {
    case 'local':
      return new LocalEmbedder({ dimension: config.dimension });
    case 'none':
      return noEmbedder;
    case 'openai_compatible': {
      const { base_url: baseUrl, model } = config;
      const required = 'required when embedding.provider = "openai_compatible"';
      if (baseUrl === undefined) throw invalidField('embedding.base_url', required);
      if (model === undefined) throw invalidField('embedding.model', required);
      return new OpenAiCompatibleEmbedder(
        { baseUrl, model, dimension: config.dimension, apiKey: config.api_key },
        options,
      );
    }
    case 'gemini': {
      const required = 'required when embedding.provider = "gemini"';
      if (config.model === undefined) throw invalidField('embedding.model', required);
      if (config.api_key === undefined) throw invalidField('embedding.api_key', required);
      return new GeminiEmbedder(
        { baseUrl: config.base_url, model: config.model, apiKey: config.api_key, dimension: config.dimension },
        options,
      );
    }
    default:
      throw invalidField(
        'embedding.provider',
        `expected "local", "openai_compatible", "gemini" or "none", got ${JSON.stringify((config as { provider: unknown }).provider)}`,
      );
  }
}

/**
 * `provider = "none"`: no automatic embeddings. Every text gets an empty vector, which the indexes and
 * the hippocampus treat as "no vector"; caller-supplied embeddings are still indexed.
 */
const noEmbedder: Embedder = {
  name: 'none',
  dimension: 0,
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map(() => new Float32Array(0));
  },
};
