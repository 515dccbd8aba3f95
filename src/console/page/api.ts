// The console speaks the public REST API only (/v1, same origin), so it is also an example of it.
// Every request with a body is JSON and says so (the server's front door refuses mutating requests
// without `content-type: application/json`); the API key, when the server asks for one, goes in
// `Authorization: Bearer`, and lives in sessionStorage only.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const KEY_STORAGE = 'cerememory.console.api_key';

export class Api {
  #key: string | null = sessionStorage.getItem(KEY_STORAGE);
  /** The memory space every request names. */
  space = 'default';
  /** Called when the server answers 401, after the request fails. */
  onUnauthorized: () => void = () => {};

  get hasKey(): boolean {
    return this.#key !== null;
  }

  setKey(key: string | null): void {
    this.#key = key;
    if (key === null) sessionStorage.removeItem(KEY_STORAGE);
    else sessionStorage.setItem(KEY_STORAGE, key);
  }

  get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const params = new URLSearchParams({ space: this.space, ...query });
    return this.request<T>('GET', `${path}?${params}`);
  }

  /** POST/PUT/DELETE with a JSON body; the space is added to the body. */
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>(method, path, { space: this.space, ...body });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#key !== null) headers.authorization = `Bearer ${this.#key}`;
    // A relative URL: same origin, so neither CORS nor the host check ever comes into play.
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!response.ok) {
      // The reference's envelope (spec §3.22): {code, message, details: {field} | null, retry_after}.
      const envelope = (typeof parsed === 'object' ? parsed : null) as { code?: string; message?: string; details?: { field?: string } | null } | null;
      const failure = new ApiError(response.status, envelope?.code ?? `HTTP_${response.status}`, envelope?.message ?? response.statusText, envelope?.details?.field ?? null);
      if (response.status === 401) this.onUnauthorized();
      throw failure;
    }
    return parsed as T;
  }
}
