// Google Gemini API (generativelanguage.googleapis.com, v1beta), key in the `x-goog-api-key` header
// (never in the URL's `?key=`, which would put it in every log line that shows a URL):
// - summaries and relations: `POST {base_url}/models/{model}:generateContent`, request
//   `{ systemInstruction, contents: [{ role: "user", parts: [{ text }] }], generationConfig }`, answer
//   `{ candidates: [{ content: { parts: [{ text }] } }] }` (parts joined);
// - embeddings: `POST {base_url}/models/{model}:batchEmbedContents` (the batch form of embedContent),
//   request `{ requests: [{ model: "models/{model}", content: { parts: [{ text }] }, outputDimensionality }] }`,
//   answer `{ embeddings: [{ values: number[] }] }` in request order.
import { invalidField } from '../cmp/errors.js';
import type { Embedder } from '../embedding/embedder.js';
import { ProviderHttpClient, checkKnob, type ProviderHttpOptions } from './http-client.js';
import { llmProvider, type LlmProvider, type Prompt } from './llm-provider.js';
import { checkedVector } from './openai-compatible.js';

export const GEMINI_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';

export interface GeminiConfig {
  /** Default "https://generativelanguage.googleapis.com/v1beta". */
  baseUrl?: string;
  /** e.g. "gemini-2.0-flash" or, for embeddings, "text-embedding-004". */
  model: string;
  apiKey: string;
}

function geminiClient(config: GeminiConfig, section: 'llm' | 'embedding', options: ProviderHttpOptions): ProviderHttpClient {
  return new ProviderHttpClient(
    {
      label: section === 'llm' ? 'LLM provider gemini' : 'embedding provider gemini',
      baseUrlField: `${section}.base_url`,
      apiKeyField: `${section}.api_key`,
      baseUrl: config.baseUrl ?? GEMINI_BASE_URL,
      secrets: [config.apiKey],
    },
    options,
  );
}

/** The model as a path segment; a model with a "/" or ":" would change which API is called. */
function modelSegment(model: string, field: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(model)) throw invalidField(field, 'expected a model name like "gemini-2.0-flash"');
  return model;
}

export function geminiProvider(config: GeminiConfig, options: ProviderHttpOptions = {}): LlmProvider {
  const client = geminiClient(config, 'llm', options);
  const endpoint = client.endpoint(`/models/${modelSegment(config.model, 'llm.model')}:generateContent`);
  const fail = (problem: string) => client.error(endpoint, problem);
  const headers = { 'x-goog-api-key': config.apiKey };
  return llmProvider(
    `gemini:${config.model}`,
    async function generateContent(prompt: Prompt, signal?: AbortSignal): Promise<string> {
      const body = {
        systemInstruction: { parts: [{ text: prompt.system }] },
        contents: [{ role: 'user', parts: [{ text: prompt.user }] }],
        generationConfig: { maxOutputTokens: prompt.maxTokens, temperature: 0 },
      };
      const json = await client.postJson(endpoint, body, headers, signal);
      const parts = (json as { candidates?: { content?: { parts?: unknown } }[] } | null)?.candidates?.[0]?.content?.parts;
      if (!Array.isArray(parts)) throw fail('answered without candidates[0].content.parts');
      const texts = parts.filter((part) => typeof part?.text === 'string').map((part) => part.text as string);
      if (texts.length === 0) throw fail('answered no text part');
      return texts.join('');
    },
    fail,
  );
}

export interface GeminiEmbedderConfig extends GeminiConfig {
  dimension: number;
}

/** Texts per batchEmbedContents request (the API's limit is 100). */
const GEMINI_BATCH = 100;

export class GeminiEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly #client: ProviderHttpClient;
  readonly #endpoint;
  readonly #model: string;
  readonly #headers: Record<string, string>;

  constructor(config: GeminiEmbedderConfig, options: ProviderHttpOptions = {}) {
    this.#client = geminiClient(config, 'embedding', options);
    this.#model = modelSegment(config.model, 'embedding.model');
    this.#endpoint = this.#client.endpoint(`/models/${this.#model}:batchEmbedContents`);
    checkKnob('dimension', config.dimension, 1);
    this.dimension = config.dimension;
    this.name = `gemini:${config.model}`;
    this.#headers = { 'x-goog-api-key': config.apiKey };
  }

  /** Blank texts are not sent and get all-zero vectors, as with the other embedders. */
  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = new Array(texts.length);
    const sent: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (texts[i].trim() === '') vectors[i] = new Float32Array(this.dimension);
      else sent.push(i);
    }
    const fail = (problem: string) => this.#client.error(this.#endpoint, problem);
    for (let start = 0; start < sent.length; start += GEMINI_BATCH) {
      signal?.throwIfAborted();
      const positions = sent.slice(start, start + GEMINI_BATCH);
      const requests = positions.map((i) => ({
        model: `models/${this.#model}`,
        content: { parts: [{ text: texts[i] }] },
        outputDimensionality: this.dimension,
      }));
      const json = await this.#client.postJson(this.#endpoint, { requests }, this.#headers, signal);
      const embeddings = (json as { embeddings?: unknown } | null)?.embeddings;
      if (!Array.isArray(embeddings)) throw fail('answered without an "embeddings" array');
      if (embeddings.length !== positions.length) throw fail(`answered ${embeddings.length} embeddings for ${positions.length} inputs`);
      embeddings.forEach((item: { values?: unknown } | null, k) => {
        vectors[positions[k]] = checkedVector(item?.values, `embeddings[${k}].values`, this.dimension, this.#model, fail);
      });
    }
    return vectors;
  }
}
