// The OpenAI-compatible embedder against a real HTTP server on loopback speaking the embeddings wire
// format, so fetch, headers, timeouts and retries are exercised for real.
import { setTimeout as timerSleep } from 'node:timers/promises';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CmpError, isCmpError } from '../../src/cmp/errors.js';
import { OpenAiCompatibleEmbedder, type OpenAiCompatibleConfig, type OpenAiCompatibleOptions } from '../../src/providers/openai-compatible.js';

const API_KEY = 'sk-test-SECRET-4f9a1c';
const DIMENSION = 4;

interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: { model?: unknown; input?: unknown };
}

type Handler = (request: SeenRequest, response: ServerResponse, attempt: number) => void;

interface TestServer {
  baseUrl: string;
  requests: SeenRequest[];
  /** Settles when the server has read its first request. */
  firstRequest: Promise<void>;
}

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function startServer(handler: Handler): Promise<TestServer> {
  const requests: SeenRequest[] = [];
  let seenFirst!: () => void;
  const firstRequest = new Promise<void>((resolve) => (seenFirst = resolve));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as SeenRequest['body'],
      };
      requests.push(seen);
      seenFirst();
      handler(seen, res, requests.length);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, requests, firstRequest };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A vector that encodes the input text, so order can be checked: "t17" → [17, 0.5, -1, 0.25]. */
function vectorFor(text: string): number[] {
  return [Number(text.slice(1)), 0.5, -1, 0.25];
}

/** The well-behaved server: answers every input, with `data` in reverse order. */
const answerReversed: Handler = (request, res) => {
  const input = request.body.input as string[];
  const data = input.map((text, index) => ({ object: 'embedding', index, embedding: vectorFor(text) }));
  json(res, 200, { object: 'list', data: data.reverse(), model: request.body.model });
};

function embedderFor(server: TestServer, options: OpenAiCompatibleOptions = {}, config: Partial<OpenAiCompatibleConfig> = {}): OpenAiCompatibleEmbedder {
  return new OpenAiCompatibleEmbedder({ baseUrl: server.baseUrl, model: 'test-embed', dimension: DIMENSION, apiKey: API_KEY, ...config }, { retryDelayMs: 5, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<CmpError> {
  try {
    await promise;
  } catch (error) {
    if (isCmpError(error)) return error;
    throw error;
  }
  throw new Error('expected a CmpError, but the promise resolved');
}

function expectNoKey(error: CmpError): void {
  expect(error.message).not.toContain(API_KEY);
  expect(String(error.stack)).not.toContain(API_KEY);
}

describe('OpenAiCompatibleEmbedder', () => {
  it('posts { model, input } with the bearer key and puts the answer back in input order', async () => {
    const server = await startServer(answerReversed);
    const embedder = embedderFor(server);
    expect(embedder.name).toBe('openai-compatible:test-embed');
    expect(embedder.dimension).toBe(DIMENSION);

    const vectors = await embedder.embed(['t0', 't1', 't2']);

    expect(vectors.map((v) => v instanceof Float32Array)).toEqual([true, true, true]);
    expect(vectors.map((v) => Array.from(v))).toEqual([vectorFor('t0'), vectorFor('t1'), vectorFor('t2')]);
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/v1/embeddings');
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.body).toEqual({ model: 'test-embed', input: ['t0', 't1', 't2'] });
  });

  it('sends no Authorization header when no key is configured', async () => {
    const server = await startServer(answerReversed);
    await embedderFor(server, {}, { apiKey: undefined }).embed(['t1']);
    expect(server.requests[0].headers.authorization).toBeUndefined();
  });

  it('tolerates a trailing slash in base_url', async () => {
    const server = await startServer(answerReversed);
    await embedderFor(server, {}, { baseUrl: `${server.baseUrl}/` }).embed(['t1']);
    expect(server.requests[0].url).toBe('/v1/embeddings');
  });

  it('sends nothing for an empty list, and gives blank texts zero vectors without sending them', async () => {
    const server = await startServer(answerReversed);
    const embedder = embedderFor(server);
    expect(await embedder.embed([])).toEqual([]);
    expect(server.requests).toHaveLength(0);

    const vectors = await embedder.embed(['t5', '', '  ', 't7']);
    expect(vectors.map((v) => Array.from(v))).toEqual([vectorFor('t5'), [0, 0, 0, 0], [0, 0, 0, 0], vectorFor('t7')]);
    expect(server.requests.map((r) => r.body.input)).toEqual([['t5', 't7']]);
  });

  it('sends more than 128 texts in chunks of 128, in order', async () => {
    const server = await startServer(answerReversed);
    const texts = Array.from({ length: 300 }, (_, i) => `t${i}`);

    const vectors = await embedderFor(server).embed(texts);

    expect(server.requests.map((r) => (r.body.input as string[]).length)).toEqual([128, 128, 44]);
    expect(server.requests[1].body.input).toEqual(texts.slice(128, 256));
    expect(vectors.map((v) => v[0])).toEqual(texts.map((_, i) => i));
  });

  describe('retries', () => {
    it('retries a 429 after the Retry-After it was given', async () => {
      const server = await startServer((request, res, attempt) => {
        if (attempt === 1) json(res, 429, { error: { message: 'slow down' } }, { 'retry-after': '1' });
        else answerReversed(request, res, attempt);
      });
      // The waits are recorded, not slept through: what is asserted is the wait chosen, not the clock.
      const waits: number[] = [];
      const sleep = async (ms: number) => void waits.push(ms);

      const vectors = await embedderFor(server, { retryDelayMs: 10, sleep }).embed(['t3']);

      expect(Array.from(vectors[0])).toEqual(vectorFor('t3'));
      expect(server.requests).toHaveLength(2);
      // The backoff alone would have waited 10 ms; the server asked for 1 s.
      expect(waits).toEqual([1000]);
    });

    it('gives up when Retry-After is longer than it is willing to wait', async () => {
      const server = await startServer((_request, res) => json(res, 429, {}, { 'retry-after': '120' }));
      const error = await rejection(embedderFor(server, { maxRetryAfterMs: 1000 }).embed(['t1']));
      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toContain('429');
      expect(error.message).toContain('retry after 120 s');
      expect(server.requests).toHaveLength(1);
    });

    it('retries 5xx with backoff, then gives up with a clear error', async () => {
      const server = await startServer((_request, res) => json(res, 503, { error: 'model loading' }));

      const error = await rejection(embedderFor(server, { retries: 2 }).embed(['t1']));

      expect(server.requests).toHaveLength(3);
      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toBe(`embedding provider ${server.baseUrl}/embeddings answered 503 Service Unavailable: ` + `{"error":"model loading"} (after 3 attempts)`);
    });

    it('retries network errors', async () => {
      // A port that was just free: nothing listens there now.
      const probe = await startServer(answerReversed);
      const closed = servers.pop()!;
      await new Promise<void>((resolve) => closed.close(() => resolve()));

      const error = await rejection(embedderFor(probe, { retries: 2 }).embed(['t1']));

      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toBe(`embedding provider ${probe.baseUrl}/embeddings could not be reached: ECONNREFUSED (after 3 attempts)`);
      expect(error.cause).toBeInstanceOf(Error);
    });

    it('fails at once on 401, without retrying, and masks the key the server echoes', async () => {
      const server = await startServer((request, res) => json(res, 401, { error: { message: `Incorrect API key provided: ${String(request.headers.authorization)}` } }));

      const error = await rejection(embedderFor(server).embed(['t1']));

      expect(server.requests).toHaveLength(1);
      expect(server.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toContain(`embedding provider ${server.baseUrl}/embeddings answered 401 Unauthorized`);
      expect(error.message).toContain('Bearer [REDACTED]');
      expectNoKey(error);
    });

    it('fails at once on other 4xx', async () => {
      const server = await startServer((_request, res) => json(res, 404, { error: 'model "test-embed" not found' }));
      const error = await rejection(embedderFor(server).embed(['t1']));
      expect(server.requests).toHaveLength(1);
      expect(error.message).toContain('404');
      expect(error.message).toContain('model \\"test-embed\\" not found');
    });

    it('stops waiting between retries when the caller aborts', async () => {
      const server = await startServer((_request, res) => json(res, 500, {}));
      const controller = new AbortController();
      // The wait is a real timer (as the default), wrapped to say when the backoff has begun.
      let backoffStarted!: () => void;
      const inBackoff = new Promise<void>((resolve) => (backoffStarted = resolve));
      const sleep = (ms: number, signal?: AbortSignal) => {
        backoffStarted();
        return timerSleep(ms, undefined, signal === undefined ? undefined : { signal });
      };
      const pending = embedderFor(server, { retryDelayMs: 60_000, sleep }).embed(['t1'], controller.signal);
      // Abort during the (long) backoff after the first failure.
      await inBackoff;
      const reason = new CmpError('STORE_UNAVAILABLE', 'deadline of the encode passed');
      controller.abort(reason);

      await expect(pending).rejects.toBe(reason);
      expect(server.requests).toHaveLength(1);
    });

    it('aborts a request in flight when the caller aborts', async () => {
      const server = await startServer(() => {
        // Never answer.
      });
      const controller = new AbortController();
      const pending = embedderFor(server, { timeoutMs: 60_000 }).embed(['t1'], controller.signal);
      await server.firstRequest;
      controller.abort(new Error('client went away'));

      await expect(pending).rejects.toThrow('client went away');
      expect(server.requests).toHaveLength(1);
    });
  });

  it('fails with a timeout error, without retrying, when the server never answers', async () => {
    const server = await startServer(() => {
      // Never answer.
    });
    const waits: number[] = [];

    const error = await rejection(embedderFor(server, { timeoutMs: 200, retries: 3, sleep: async (ms) => void waits.push(ms) }).embed(['t1']));

    // The server never answers, so only the deadline can end the call; one request and no wait
    // between attempts say it was not retried (no elapsed-time bounds: a loaded machine is not a bug).
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe(`embedding provider ${server.baseUrl}/embeddings did not answer within 200 ms`);
    expect(server.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  describe('bad answers', () => {
    it('rejects a body that is not JSON', async () => {
      const server = await startServer((_request, res) => json(res, 200, '<html>gateway</html>'));
      const error = await rejection(embedderFor(server).embed(['t1']));
      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toBe(`embedding provider ${server.baseUrl}/embeddings answered with a body that is not JSON: <html>gateway</html>`);
      expect(server.requests).toHaveLength(1);
    });

    it.each([
      [{ object: 'list' }, 'answered without a "data" array'],
      [{ data: [] }, 'answered 0 embeddings for 1 inputs'],
      [{ data: [{ embedding: [1, 2, 3, 4] }] }, 'answered data[0].index = undefined, expected an integer from 0 to 0'],
      [{ data: [{ index: 0, embedding: 'AAAA' }] }, 'answered data[0].embedding that is not an array of numbers'],
      [{ data: [{ index: 0, embedding: [1, 'x', 3, 4] }] }, 'answered data[0].embedding[1] = "x", expected a finite number'],
    ])('rejects the wrong shape %j', async (body, problem) => {
      const server = await startServer((_request, res) => json(res, 200, body));
      const error = await rejection(embedderFor(server).embed(['t1']));
      expect(error.message).toBe(`embedding provider ${server.baseUrl}/embeddings ${problem}`);
    });

    it('rejects a duplicated index', async () => {
      const server = await startServer((_request, res) =>
        json(res, 200, {
          data: [
            { index: 1, embedding: [1, 2, 3, 4] },
            { index: 1, embedding: [1, 2, 3, 4] },
          ],
        }),
      );
      const error = await rejection(embedderFor(server).embed(['t0', 't1']));
      expect(error.message).toContain('answered index 1 twice');
    });

    it('rejects a vector of another length, naming both lengths', async () => {
      const server = await startServer((_request, res) => json(res, 200, { data: [{ index: 0, embedding: [1, 2, 3] }] }));
      const error = await rejection(embedderFor(server).embed(['t1']));
      expect(error.code).toBe('INTERNAL_ERROR');
      expect(error.message).toBe(`embedding provider ${server.baseUrl}/embeddings returned a vector of length 3 for model "test-embed", ` + 'but embedding.dimension is 4');
    });
  });

  it('never puts the API key in an error message, whatever fails', async () => {
    const echoKey = (request: SeenRequest) => `key was ${String(request.headers.authorization)}`;
    const handlers: Handler[] = [
      (request, res) => json(res, 401, echoKey(request)),
      (request, res) => json(res, 403, { error: echoKey(request) }),
      (request, res) => json(res, 500, echoKey(request)),
      (request, res) => json(res, 429, echoKey(request)),
      (request, res) => json(res, 200, `not json ${echoKey(request)}`),
      (_request, res) => json(res, 200, { data: [{ index: 0, embedding: [1] }] }),
    ];
    for (const handler of handlers) {
      const server = await startServer(handler);
      const error = await rejection(embedderFor(server, { retries: 1, retryDelayMs: 1 }).embed(['t1']));
      expect(server.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(error.message).toContain(server.baseUrl);
      expectNoKey(error);
    }
  });

  describe('configuration', () => {
    it.each([
      [{ baseUrl: 'not a url' }, 'embedding.base_url: expected an http(s) URL'],
      [{ baseUrl: 'ftp://example.com/v1' }, 'embedding.base_url: expected an http(s) URL'],
      [{ baseUrl: 'http://user:pw@example.com/v1' }, 'embedding.base_url: must not contain credentials; set embedding.api_key instead'],
      [{ model: ' ' }, 'embedding.model: must not be blank'],
      [{ dimension: 0 }, 'embedding.dimension: expected a positive integer, got 0'],
    ])('rejects %j', (config, message) => {
      let error: unknown;
      try {
        new OpenAiCompatibleEmbedder({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm', dimension: 4, ...config });
      } catch (e) {
        error = e;
      }
      expect(isCmpError(error) && error.code).toBe('VALIDATION_ERROR');
      expect((error as Error).message).toBe(message);
    });
  });
});
