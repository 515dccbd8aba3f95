// Any OpenAI-compatible API (OpenAI, Ollama, vLLM, LM Studio, llama.cpp server, DESIGN §2.2):
// - embeddings: `POST {base_url}/embeddings`, request `{ model, input: string[] }`, answer
//   `{ data: [{ index, embedding: number[] }] }`; `data` may come in any order and is put back in input
//   order by `index`;
// - summaries and relations: `POST {base_url}/chat/completions`, request `{ model, messages, max_tokens,
//   temperature }`, answer `{ choices: [{ message: { content } }] }`.
// Auth is `Authorization: Bearer <key>`, left out when no key is set (local servers need none). Retries,
// deadlines and error wording are the shared client's (http-client.ts).

import { CmpError, invalidField } from '../cmp/errors.js';
import type { Embedder } from '../embedding/embedder.js';
import { ProviderHttpClient, checkKnob, defaultProviderHttpOptions, withoutUndefined, type Endpoint, type ProviderHttpOptions } from './http-client.js';
import { llmProvider, stringAt, type LlmProvider, type Prompt } from './llm-provider.js';

export interface OpenAiCompatibleConfig {
  /** Base URL of the API, e.g. "https://api.openai.com/v1" or "http://localhost:11434/v1". */
  baseUrl: string;
  /** Model name sent with each request. */
  model: string;
  /** Length every returned vector must have; a provider that answers another length is an error. */
  dimension: number;
  /** Sent as `Authorization: Bearer <key>`; no header at all when unset (local servers need none). */
  apiKey?: string;
}

export interface OpenAiCompatibleOptions extends ProviderHttpOptions {
  /** Texts per request; larger inputs are sent in sequential chunks. Count, default 128, range >= 1. */
  batchSize?: number;
}

export const defaultOpenAiCompatibleOptions = {
  ...defaultProviderHttpOptions,
  batchSize: 128,
} as const satisfies Required<Omit<OpenAiCompatibleOptions, 'fetch' | 'sleep'>>;

function bearer(apiKey: string | undefined): Record<string, string> {
  return apiKey === undefined || apiKey === '' ? {} : { authorization: `Bearer ${apiKey}` };
}

export class OpenAiCompatibleEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly #client: ProviderHttpClient;
  readonly #endpoint: Endpoint;
  readonly #model: string;
  readonly #headers: Record<string, string>;
  readonly #batchSize: number;

  constructor(config: OpenAiCompatibleConfig, options: OpenAiCompatibleOptions = {}) {
    const { batchSize, ...http } = options;
    this.#client = new ProviderHttpClient(
      {
        label: 'embedding provider',
        baseUrlField: 'embedding.base_url',
        apiKeyField: 'embedding.api_key',
        baseUrl: config.baseUrl,
        secrets: [config.apiKey],
      },
      http,
    );
    this.#endpoint = this.#client.endpoint('/embeddings');
    if (config.model.trim() === '') throw invalidField('embedding.model', 'must not be blank');
    if (!Number.isInteger(config.dimension) || config.dimension < 1) {
      throw invalidField('embedding.dimension', `expected a positive integer, got ${String(config.dimension)}`);
    }
    this.#model = config.model;
    this.name = `openai-compatible:${config.model}`;
    this.dimension = config.dimension;
    this.#headers = bearer(config.apiKey);
    this.#batchSize = withoutUndefined({ batchSize }).batchSize ?? defaultOpenAiCompatibleOptions.batchSize;
    checkKnob('batchSize', this.#batchSize, 1);
  }

  /**
   * Blank texts are not sent (OpenAI rejects an empty input, failing the whole chunk with it) and get
   * all-zero vectors, as with the local embedder.
   */
  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = new Array(texts.length);
    const sent: number[] = [];
    for (let i = 0; i < texts.length; i++) {
      if (texts[i].trim() === '') vectors[i] = new Float32Array(this.dimension);
      else sent.push(i);
    }
    for (let start = 0; start < sent.length; start += this.#batchSize) {
      signal?.throwIfAborted();
      const positions = sent.slice(start, start + this.#batchSize);
      const input = positions.map((i) => texts[i]);
      const json = await this.#client.postJson(this.#endpoint, { model: this.#model, input }, this.#headers, signal);
      const chunk = this.#parse(json, input.length);
      for (let k = 0; k < positions.length; k++) vectors[positions[k]] = chunk[k];
    }
    return vectors;
  }

  /** Checks the answer's shape and returns the vectors in input order. */
  #parse(json: unknown, expected: number): Float32Array[] {
    const fail = (problem: string) => this.#client.error(this.#endpoint, problem);
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw fail('answered without a "data" array');
    if (data.length !== expected) throw fail(`answered ${data.length} embeddings for ${expected} inputs`);
    const vectors: Float32Array[] = new Array(expected);
    for (let i = 0; i < data.length; i++) {
      const item = data[i] as { index?: unknown; embedding?: unknown } | null;
      const index = item?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected) {
        throw fail(`answered data[${i}].index = ${JSON.stringify(index)}, expected an integer from 0 to ${expected - 1}`);
      }
      if (vectors[index] !== undefined) throw fail(`answered index ${index} twice`);
      // Some servers answer base64 when asked; we never ask, so a string here is a shape error too.
      vectors[index] = checkedVector(item?.embedding, `data[${i}].embedding`, this.dimension, this.#model, fail);
    }
    return vectors;
  }
}

/** `value` as a vector of `dimension` finite numbers, or the provider's error naming `path`. */
export function checkedVector(value: unknown, path: string, dimension: number, model: string, fail: (problem: string) => CmpError): Float32Array {
  if (!Array.isArray(value)) throw fail(`answered ${path} that is not an array of numbers`);
  if (value.length !== dimension) {
    throw fail(`returned a vector of length ${value.length} for model "${model}", but embedding.dimension is ${dimension}`);
  }
  const vector = new Float32Array(dimension);
  for (let j = 0; j < value.length; j++) {
    const number = value[j];
    if (typeof number !== 'number' || !Number.isFinite(number)) {
      throw fail(`answered ${path}[${j}] = ${JSON.stringify(number)}, expected a finite number`);
    }
    vector[j] = number;
  }
  return vector;
}

export interface OpenAiCompatibleChatConfig {
  /** Base URL of the API, e.g. "https://api.openai.com/v1". */
  baseUrl: string;
  model: string;
  apiKey?: string;
}

/** Summaries and relations over `/chat/completions`. */
export function openAiCompatibleProvider(config: OpenAiCompatibleChatConfig, options: ProviderHttpOptions = {}): LlmProvider {
  const client = new ProviderHttpClient(
    { label: 'LLM provider openai_compatible', baseUrlField: 'llm.base_url', apiKeyField: 'llm.api_key', baseUrl: config.baseUrl, secrets: [config.apiKey] },
    options,
  );
  const endpoint = client.endpoint('/chat/completions');
  const fail = (problem: string) => client.error(endpoint, problem);
  const headers = bearer(config.apiKey);
  return llmProvider(
    `openai_compatible:${config.model}`,
    async function completeChat(prompt: Prompt, signal?: AbortSignal): Promise<string> {
      const body = {
        model: config.model,
        messages: [
          { role: 'system', content: prompt.system },
          { role: 'user', content: prompt.user },
        ],
        max_tokens: prompt.maxTokens,
        temperature: 0,
      };
      const json = await client.postJson(endpoint, body, headers, signal);
      return stringAt(json, ['choices', 0, 'message', 'content'], fail);
    },
    fail,
  );
}
