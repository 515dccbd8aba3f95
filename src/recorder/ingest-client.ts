import { createHash } from 'node:crypto';
import type { RawRecord } from './capture-event.js';
import { redactText } from './redact.js';

// The recorder's HTTP side: which server URLs it accepts, and one call per endpoint it uses. Every
// failure is a value saying whether trying again later can help (transport errors, 429, 5xx) or not
// (401, a malformed answer), so the caller decides between spooling and stopping.

/** Request timeout; a hook waits on the recorder, so a hung server must not hang the agent. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Error bodies are shown redacted and cut to this many characters. */
const PREVIEW_CHARS = 512;

export type SendResult = { ok: true } | { ok: false; retryable: boolean; status: number | null; message: string };

export class ServerUrlError extends Error {
  override name = 'ServerUrlError';
}

const LOOPBACK_HOSTS = new Set(['localhost', '[::1]']);
function isLoopback(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Checks a --server-url: http or https, a host, no credentials, query or fragment, and plain http only
 * to a loopback host (the API key and the captured transcript would otherwise cross the network in
 * clear). Returns the URL without a trailing slash.
 */
export function checkServerUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ServerUrlError(`--server-url: not a URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ServerUrlError(`--server-url: must be http:// or https:// (got ${url.protocol})`);
  if (url.hostname === '') throw new ServerUrlError('--server-url: must name a host');
  if (url.username !== '' || url.password !== '') throw new ServerUrlError('--server-url: must not contain credentials (use CEREMEMORY_SERVER_API_KEY)');
  if (url.search !== '' || url.hash !== '') throw new ServerUrlError('--server-url: must not have a query or fragment');
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new ServerUrlError(`--server-url: plain http:// is allowed only to loopback (localhost, 127.0.0.1, [::1]); use https:// for ${url.hostname}`);
  }
  return url.href.replace(/\/+$/, '');
}

export interface IngestClientOptions {
  serverUrl: string;
  /** Sent as `Authorization: Bearer <key>`; from CEREMEMORY_SERVER_API_KEY, trimmed. */
  apiKey?: string;
  timeoutMs?: number;
}

export function apiKeyFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env.CEREMEMORY_SERVER_API_KEY?.trim();
  return key === undefined || key === '' ? undefined : key;
}

function describeStatus(status: number): string {
  if (status === 401) return 'server rejected CEREMEMORY_SERVER_API_KEY';
  if (status === 429) return 'rate limited';
  return `HTTP ${status}`;
}

export function createIngestClient(options: IngestClientOptions) {
  const base = checkServerUrl(options.serverUrl);
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;

  async function request(method: 'GET' | 'POST', path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<{ result: SendResult; json?: unknown }> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...extraHeaders,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.apiKey === undefined ? {} : { authorization: `Bearer ${options.apiKey}` }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (cause?.code ?? cause?.message ?? (error as Error).message);
      return { result: { ok: false, retryable: true, status: null, message: `cannot reach ${base}: ${reason}` } };
    }
    const text = await response.text().catch(() => '');
    if (!response.ok) {
      const preview = redactText(text).slice(0, PREVIEW_CHARS);
      const retryable = response.status === 429 || response.status >= 500;
      return { result: { ok: false, retryable, status: response.status, message: `${describeStatus(response.status)}${preview === '' ? '' : `: ${preview}`}` } };
    }
    try {
      return { result: { ok: true }, json: text === '' ? null : JSON.parse(text) };
    } catch {
      return { result: { ok: false, retryable: false, status: response.status, message: 'server answered with something that is not JSON' } };
    }
  }

  return {
    baseUrl: base,
    /** `POST /v1/encode/raw/batch`; the answer must hold exactly one result per record. */
    async sendBatch(records: readonly RawRecord[]): Promise<SendResult> {
      // The key is the batch's own digest, so resending it (a retry, a spool replay after an answer
      // that never came) is recognised by the server instead of journalled twice.
      const body = { records };
      const key = `recorder-${createHash('sha256').update(JSON.stringify(body)).digest('hex')}`;
      const { result, json } = await request('POST', '/v1/encode/raw/batch', body, { 'idempotency-key': key });
      if (!result.ok) return result;
      const results = (json as { results?: unknown } | null)?.results;
      if (!Array.isArray(results) || results.length !== records.length) {
        return {
          ok: false,
          retryable: false,
          status: 200,
          message: `protocol error: sent ${records.length} records, server answered ${Array.isArray(results) ? results.length : 'no'} results`,
        };
      }
      return { ok: true };
    },
    async get(path: string): Promise<SendResult> {
      return (await request('GET', path)).result;
    },
    async post(path: string, body: unknown): Promise<SendResult> {
      return (await request('POST', path, body)).result;
    },
  };
}

export type IngestClient = ReturnType<typeof createIngestClient>;
