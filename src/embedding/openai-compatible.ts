// An embedder for any OpenAI-compatible `POST {base_url}/embeddings` endpoint (OpenAI, Ollama, vLLM,
// LM Studio, llama.cpp server), DESIGN §2.2. Wire format: request `{ model, input: string[] }`, answer
// `{ data: [{ index, embedding: number[] }] }`; `data` may come in any order and is put back in input
// order by `index`.
//
// Failure policy:
// - 429 and 5xx answers and network errors (connection refused or reset, DNS) are retried with
//   exponential backoff, or after the server's `Retry-After` (or OpenAI's `retry-after-ms`) when it sends
//   one; other 4xx answers (bad key, unknown model, input too long) cannot improve and fail at once.
// - A request that outlives `timeoutMs` fails at once and is not retried: a server that did not answer
//   in that time (30 s by default) seldom answers the next time, and four timeouts would hold an encode
//   for minutes.
// - An aborted caller signal ends the work at once, rejecting with the signal's reason (as fetch does).
// - Every other failure is a CmpError INTERNAL_ERROR whose message names the endpoint (origin and path only,
//   no credentials or query) and the HTTP status. The API key is never in a message: it is not in the
//   URL, and it is masked out of any response text quoted (some providers echo the key they refused).

import { setTimeout as sleep } from 'node:timers/promises';
import { CmpError, invalidField } from '../cmp/errors.js';
import type { Embedder } from './embedder.js';

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

export interface OpenAiCompatibleOptions {
  /** The fetch to use. Default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Deadline of one request, body included. Milliseconds, default 30000, range >= 1. */
  timeoutMs?: number;
  /** Retries after the first attempt, on 429, 5xx and network errors. Count, default 3, range >= 0. */
  retries?: number;
  /** Delay before the first retry, doubled for each next one. Milliseconds, default 500, range >= 0. */
  retryDelayMs?: number;
  /**
   * Longest `Retry-After` waited for; a server asking for more ends the retries with an error.
   * Milliseconds, default 60000, range >= 0.
   */
  maxRetryAfterMs?: number;
  /** Texts per request; larger inputs are sent in sequential chunks. Count, default 128, range >= 1. */
  batchSize?: number;
}

export const defaultOpenAiCompatibleOptions = {
  timeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 500,
  maxRetryAfterMs: 60_000,
  batchSize: 128,
} as const satisfies Required<Omit<OpenAiCompatibleOptions, 'fetch'>>;

/** Response text quoted in an error message is cut to this many characters. */
const QUOTE_LIMIT = 300;

export class OpenAiCompatibleEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly #endpoint: string;
  /** The endpoint as errors show it: origin and path, no userinfo, query or fragment. */
  readonly #shownEndpoint: string;
  readonly #model: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #options: Required<Omit<OpenAiCompatibleOptions, 'fetch'>>;

  constructor(config: OpenAiCompatibleConfig, options: OpenAiCompatibleOptions = {}) {
    let url: URL;
    try {
      url = new URL(config.baseUrl);
    } catch {
      throw invalidField('embedding.base_url', 'expected an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw invalidField('embedding.base_url', 'expected an http(s) URL');
    }
    if (url.username !== '' || url.password !== '') {
      // fetch refuses such URLs, and a secret in the URL would end up in logs.
      throw invalidField('embedding.base_url', 'must not contain credentials; set embedding.api_key instead');
    }
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/embeddings`;
    this.#endpoint = url.href;
    this.#shownEndpoint = `${url.origin}${url.pathname}`;
    if (config.model.trim() === '') throw invalidField('embedding.model', 'must not be blank');
    if (!Number.isInteger(config.dimension) || config.dimension < 1) {
      throw invalidField('embedding.dimension', `expected a positive integer, got ${String(config.dimension)}`);
    }
    this.#model = config.model;
    this.name = `openai-compatible:${config.model}`;
    this.dimension = config.dimension;
    this.#apiKey = config.apiKey === undefined || config.apiKey === '' ? undefined : config.apiKey;
    const { fetch: fetchImpl, ...knobs } = options;
    this.#fetch = fetchImpl ?? globalThis.fetch;
    this.#options = { ...defaultOpenAiCompatibleOptions, ...withoutUndefined(knobs) };
    checkKnob('timeoutMs', this.#options.timeoutMs, 1);
    checkKnob('retries', this.#options.retries, 0);
    checkKnob('retryDelayMs', this.#options.retryDelayMs, 0);
    checkKnob('maxRetryAfterMs', this.#options.maxRetryAfterMs, 0);
    checkKnob('batchSize', this.#options.batchSize, 1);
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
    const { batchSize } = this.#options;
    for (let start = 0; start < sent.length; start += batchSize) {
      signal?.throwIfAborted();
      const positions = sent.slice(start, start + batchSize);
      const chunk = await this.#embedChunk(positions.map((i) => texts[i]), signal);
      for (let k = 0; k < positions.length; k++) vectors[positions[k]] = chunk[k];
    }
    return vectors;
  }

  /** One request, retried per the failure policy in the file header. */
  async #embedChunk(texts: string[], signal: AbortSignal | undefined): Promise<Float32Array[]> {
    const { retries, retryDelayMs, maxRetryAfterMs } = this.#options;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt(texts, signal);
      if (outcome.kind === 'done') return outcome.vectors;
      const attempts = attempt + 1;
      const tail = attempts > 1 ? ` (after ${attempts} attempts)` : '';
      if (attempt >= retries) throw this.#error(`${outcome.reason}${tail}`, outcome.cause);
      const wait = outcome.retryAfterMs ?? retryDelayMs * 2 ** attempt;
      if (wait > maxRetryAfterMs) {
        const asked = `it asks to retry after ${Math.ceil(wait / 1000)} s`;
        throw this.#error(`${outcome.reason}; ${asked}${tail}`, outcome.cause);
      }
      try {
        await sleep(wait, undefined, signal === undefined ? undefined : { signal });
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
    }
  }

  async #attempt(texts: string[], signal: AbortSignal | undefined): Promise<AttemptOutcome> {
    signal?.throwIfAborted();
    // One controller per attempt, aborted by the deadline or by the caller; a plain listener rather than
    // AbortSignal.any so a long-lived caller signal keeps no reference to finished attempts.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#options.timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (this.#apiKey !== undefined) headers.authorization = `Bearer ${this.#apiKey}`;
      let response: Response;
      let body: string;
      try {
        response = await this.#fetch(this.#endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: this.#model, input: texts }),
          signal: controller.signal,
        });
        body = await response.text();
      } catch (error) {
        signal?.throwIfAborted();
        if (timedOut) throw this.#error(`did not answer within ${this.#options.timeoutMs} ms`, error);
        return { kind: 'retry', reason: `could not be reached: ${describeNetworkError(error)}`, cause: error };
      }
      const status = `answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status === 429 || response.status >= 500) {
        return {
          kind: 'retry',
          reason: `${status}: ${this.#quote(body)}`,
          retryAfterMs: retryAfterMs(response.headers),
        };
      }
      if (!response.ok) throw this.#error(`${status}: ${this.#quote(body)}`);
      return { kind: 'done', vectors: this.#parse(body, texts.length) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Checks the answer's shape and returns the vectors in input order. */
  #parse(body: string, expected: number): Float32Array[] {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw this.#error(`answered with a body that is not JSON: ${this.#quote(body)}`, error);
    }
    const data = (json as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw this.#error('answered without a "data" array');
    if (data.length !== expected) {
      throw this.#error(`answered ${data.length} embeddings for ${expected} inputs`);
    }
    const vectors: Float32Array[] = new Array(expected);
    for (let i = 0; i < data.length; i++) {
      const item = data[i] as { index?: unknown; embedding?: unknown } | null;
      const index = item?.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected) {
        const shown = JSON.stringify(index);
        throw this.#error(`answered data[${i}].index = ${shown}, expected an integer from 0 to ${expected - 1}`);
      }
      if (vectors[index] !== undefined) throw this.#error(`answered index ${index} twice`);
      const embedding = item?.embedding;
      if (!Array.isArray(embedding)) {
        // Some servers answer base64 when asked; we never ask, so a string here is a shape error too.
        throw this.#error(`answered data[${i}].embedding that is not an array of numbers`);
      }
      if (embedding.length !== this.dimension) {
        throw this.#error(
          `returned a vector of length ${embedding.length} for model "${this.#model}", ` +
            `but embedding.dimension is ${this.dimension}`,
        );
      }
      const vector = new Float32Array(this.dimension);
      for (let j = 0; j < embedding.length; j++) {
        const value = embedding[j];
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw this.#error(`answered data[${i}].embedding[${j}] = ${JSON.stringify(value)}, expected a finite number`);
        }
        vector[j] = value;
      }
      vectors[index] = vector;
    }
    return vectors;
  }

  /** A response text cut short, on one line, with the API key masked. */
  #quote(text: string): string {
    let quoted = text.replace(/\s+/g, ' ').trim();
    if (this.#apiKey !== undefined) quoted = quoted.split(this.#apiKey).join('[REDACTED]');
    if (quoted === '') return '(empty body)';
    // Cut after masking, so a key straddling the cut cannot leak a prefix of itself.
    return quoted.length > QUOTE_LIMIT ? `${quoted.slice(0, QUOTE_LIMIT)}…` : quoted;
  }

  #error(problem: string, cause?: unknown): CmpError {
    return new CmpError('INTERNAL_ERROR', `embedding provider ${this.#shownEndpoint} ${problem}`, { cause });
  }
}

type AttemptOutcome =
  | { kind: 'done'; vectors: Float32Array[] }
  | { kind: 'retry'; reason: string; cause?: unknown; retryAfterMs?: number };

/**
 * The server's requested delay: OpenAI's `retry-after-ms`, else `Retry-After` as seconds or as an HTTP
 * date (RFC 9110 §10.2.3). Fractional seconds are accepted, as some servers send them.
 */
function retryAfterMs(headers: Headers): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms.trim());
  const value = headers.get('retry-after')?.trim();
  if (value === undefined || value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Node's fetch hides the socket error under `cause`; its code says more than "fetch failed". */
function describeNetworkError(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}

function checkKnob(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    const problem = `${name} must be an integer >= ${min}, got ${String(value)}`;
    throw new CmpError('INTERNAL_ERROR', `OpenAiCompatibleEmbedder: ${problem}`);
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
