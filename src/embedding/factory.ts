import type { MessagePort } from 'node:worker_threads';
import { invalidField } from '../cmp/errors.js';
import { GeminiEmbedder } from '../providers/gemini.js';
import { OpenAiCompatibleEmbedder, type OpenAiCompatibleOptions } from '../providers/openai-compatible.js';
import { requireProviderKeys } from '../providers/requirements.js';
import { EmbedClient } from './embed-client.js';
import type { EmbedPriority } from './embed-protocol.js';
import type { Embedder, EmbedderConfig } from './embedder.js';
import { LOCAL_EMBEDDER_NAME, LocalEmbedder } from './local.js';

// Builds the configured embedder (src/embedding/embedder.ts is the interface alone).
//   "local"              the semantic model, which runs in the embedding worker: connectEmbedder()
//                        over a port to it (src/embedding/embed-service.ts hands the ports out)
//   "lexical"            the hashing embedder (local.ts), in the caller's thread: ~40 µs a text
//   "openai_compatible", "gemini"   remote endpoints (src/providers)
//   "none"               no automatic vectors

/** Transport knobs of a remote provider; ignored by the local ones. */
export type EmbedderOptions = OpenAiCompatibleOptions;

export function createEmbedder(config: EmbedderConfig, options: EmbedderOptions = {}): Embedder {
  switch (config.provider) {
    case 'lexical':
      return new LocalEmbedder({ dimension: config.dimension });
    case 'local':
      throw invalidField('embedding.provider', '"local" runs in the embedding worker: use connectEmbedder() with a port to it');
    case 'none':
      return noEmbedder;
    case 'openai_compatible': {
      requireProviderKeys('embedding', config);
      return new OpenAiCompatibleEmbedder({ baseUrl: config.base_url!, model: config.model!, dimension: config.dimension, apiKey: config.api_key }, options);
    }
    case 'gemini': {
      requireProviderKeys('embedding', config);
      return new GeminiEmbedder({ baseUrl: config.base_url, model: config.model!, apiKey: config.api_key!, dimension: config.dimension }, options);
    }
    default:
      throw invalidField('embedding.provider', `expected "local", "lexical", "openai_compatible", "gemini" or "none", got ${JSON.stringify((config as { provider: unknown }).provider)}`);
  }
}

/**
 * The embedder a thread uses: over `port` to the embedding worker when there is one (provider
 * "local"; the worker may have fallen back to the lexical embedder, and says so), else built here.
 */
export async function connectEmbedder(config: EmbedderConfig, port: MessagePort | undefined, priority: EmbedPriority): Promise<Embedder> {
  if (port) return EmbedClient.connect(port, priority);
  return createEmbedder(config);
}

/**
 * Whether vectors of this embedder are computed in the background, behind the write (indexes.ts): the
 * model and remote providers cost milliseconds a text; the lexical one is cheaper than the queue.
 */
export function defersVectors(embedder: Embedder): boolean {
  return embedder.dimension > 0 && embedder.name !== LOCAL_EMBEDDER_NAME;
}

/**
 * `provider = "none"`: no automatic embeddings. Every text gets an empty vector, which the indexes and
 * the hippocampus treat as "no vector"; caller-supplied embeddings are still indexed.
 */
export const noEmbedder: Embedder = {
  name: 'none',
  dimension: 0,
  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map(() => new Float32Array(0));
  },
};
