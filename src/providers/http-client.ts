// The one HTTP client of every remote provider (embeddings and LLMs): JSON over POST with a deadline per
// attempt, retries with backoff, and errors that name the provider, the endpoint and the status but never
// a key. Providers only build requests and read answers.
//
// Failure policy (the reference's adapter-common policy, docs inventory §6.3):
// - 429 and 5xx answers and network errors (connection refused or reset, DNS) are retried with
//   exponential backoff, or after the server's `Retry-After` (or OpenAI's `retry-after-ms`) when it sends
//   one; other 4xx answers (bad key, unknown model, input too long) cannot improve and fail at once.
// - A request that outlives `timeoutMs` fails at once and is not retried: a server that did not answer
//   in that time (30 s by default) seldom answers the next time, and four timeouts would hold a caller
//   for minutes.
// - An aborted caller signal ends the work at once, rejecting with the signal's reason (as fetch does).
// - Every other failure is a CmpError INTERNAL_ERROR whose message starts with the provider's label and
//   endpoint (origin and path only: no credentials, no query) and names the HTTP status. Keys are never
//   in a message: they travel in headers only, and are masked out of any response text quoted (some
//   providers echo the key they refused).

import { setTimeout as sleep } from 'node:timers/promises';
import { CmpError, invalidField } from '../cmp/errors.js';

export interface ProviderHttpOptions {
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
  /**
   * Waits `ms` between attempts, rejecting when `signal` aborts. Default a timer; tests inject one
   * that records the waits instead of sleeping through them.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The default wait between attempts: a timer that an aborted signal cuts short. */
const timerSleep = (ms: number, signal?: AbortSignal): Promise<void> => sleep(ms, undefined, signal === undefined ? undefined : { signal });

export const defaultProviderHttpOptions = {
  timeoutMs: 30_000,
  retries: 3,
  retryDelayMs: 500,
  maxRetryAfterMs: 60_000,
} as const satisfies Required<Omit<ProviderHttpOptions, 'fetch' | 'sleep'>>;

/** Response text quoted in an error message is cut to this many characters. */
const QUOTE_LIMIT = 300;

export interface ProviderHttpClientConfig {
  /** How errors name the provider, e.g. "embedding provider" or "LLM provider anthropic". */
  label: string;
  /** Config key of the base URL, named by configuration errors (e.g. "llm.base_url"). */
  baseUrlField: string;
  /** Config key of the API key, named when a base URL carries credentials. */
  apiKeyField: string;
  baseUrl: string;
  /** Values masked out of every quoted response text (the API key). */
  secrets: readonly (string | undefined)[];
}

/** A base URL checked to be http(s) without credentials, trailing slashes removed. */
export function checkBaseUrl(baseUrl: string, field: string, apiKeyField: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw invalidField(field, 'expected an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidField(field, 'expected an http(s) URL');
  if (url.username !== '' || url.password !== '') {
    // fetch refuses such URLs, and a secret in the URL would end up in logs.
    throw invalidField(field, `must not contain credentials; set ${apiKeyField} instead`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

export class ProviderHttpClient {
  readonly #label: string;
  readonly #base: URL;
  readonly #secrets: string[];
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #options: Required<Omit<ProviderHttpOptions, 'fetch' | 'sleep'>>;

  constructor(config: ProviderHttpClientConfig, options: ProviderHttpOptions = {}) {
    this.#label = config.label;
    this.#base = checkBaseUrl(config.baseUrl, config.baseUrlField, config.apiKeyField);
    this.#secrets = config.secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
    const { fetch: fetchImpl, sleep: sleepImpl, ...knobs } = options;
    this.#fetch = fetchImpl ?? globalThis.fetch;
    this.#sleep = sleepImpl ?? timerSleep;
    this.#options = { ...defaultProviderHttpOptions, ...withoutUndefined(knobs) };
    checkKnob('timeoutMs', this.#options.timeoutMs, 1);
    checkKnob('retries', this.#options.retries, 0);
    checkKnob('retryDelayMs', this.#options.retryDelayMs, 0);
    checkKnob('maxRetryAfterMs', this.#options.maxRetryAfterMs, 0);
  }

  /** `path` appended to the base URL's path (e.g. "/embeddings"). */
  endpoint(path: string): Endpoint {
    const url = new URL(this.#base.href);
    // A bare origin's pathname is "/" even after trimming; never produce "//v1/...".
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return { href: url.href, shown: `${url.origin}${url.pathname}` };
  }

  /**
   * POSTs `body` as JSON and returns the parsed JSON answer, retried per the policy in the file header.
   * A 2xx answer that is not JSON is an error here; its shape is the caller's to check (`error`).
   */
  async postJson(endpoint: Endpoint, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<unknown> {
    const { retries, retryDelayMs, maxRetryAfterMs } = this.#options;
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.#attempt(endpoint, payload, headers, signal);
      if (outcome.kind === 'done') return outcome.json;
      const attempts = attempt + 1;
      const tail = attempts > 1 ? ` (after ${attempts} attempts)` : '';
      if (attempt >= retries) throw this.error(endpoint, `${outcome.reason}${tail}`, outcome.cause);
      const wait = outcome.retryAfterMs ?? retryDelayMs * 2 ** attempt;
      if (wait > maxRetryAfterMs) {
        const asked = `it asks to retry after ${Math.ceil(wait / 1000)} s`;
        throw this.error(endpoint, `${outcome.reason}; ${asked}${tail}`, outcome.cause);
      }
      try {
        await this.#sleep(wait, signal);
      } catch (error) {
        throw signal?.aborted ? signal.reason : error;
      }
    }
  }

  /** The CmpError of this provider: "<label> <endpoint> <problem>". */
  error(endpoint: Endpoint, problem: string, cause?: unknown): CmpError {
    return new CmpError('INTERNAL_ERROR', `${this.#label} ${endpoint.shown} ${problem}`, { cause });
  }

  /** A response text cut short, on one line, with every secret masked. */
  quote(text: string): string {
    let quoted = text.replace(/\s+/g, ' ').trim();
    for (const secret of this.#secrets) quoted = quoted.split(secret).join('[REDACTED]');
    if (quoted === '') return '(empty body)';
    // Cut after masking, so a key straddling the cut cannot leak a prefix of itself.
    return quoted.length > QUOTE_LIMIT ? `${quoted.slice(0, QUOTE_LIMIT)}…` : quoted;
  }

  async #attempt(endpoint: Endpoint, payload: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<AttemptOutcome> {
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
      let response: Response;
      let text: string;
      try {
        response = await this.#fetch(endpoint.href, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: payload,
          signal: controller.signal,
        });
        text = await response.text();
      } catch (error) {
        signal?.throwIfAborted();
        if (timedOut) throw this.error(endpoint, `did not answer within ${this.#options.timeoutMs} ms`, error);
        return { kind: 'retry', reason: `could not be reached: ${describeNetworkError(error)}`, cause: error };
      }
      const status = `answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      if (response.status === 429 || response.status >= 500) {
        return { kind: 'retry', reason: `${status}: ${this.quote(text)}`, retryAfterMs: retryAfterMs(response.headers) };
      }
      if (!response.ok) throw this.error(endpoint, `${status}: ${this.quote(text)}`);
      try {
        return { kind: 'done', json: JSON.parse(text) as unknown };
      } catch (error) {
        throw this.error(endpoint, `answered with a body that is not JSON: ${this.quote(text)}`, error);
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** A request URL and how errors show it (origin and path only). */
export interface Endpoint {
  href: string;
  shown: string;
}

type AttemptOutcome = { kind: 'done'; json: unknown } | { kind: 'retry'; reason: string; cause?: unknown; retryAfterMs?: number };

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

export function checkKnob(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new CmpError('INTERNAL_ERROR', `provider option ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
}

export function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
