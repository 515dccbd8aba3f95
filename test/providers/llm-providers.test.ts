// The three LLM providers through one shared suite (STYLE §2: one interface, one suite), each against a
// loopback server speaking its wire format: success, 429 then success, 401, timeout, malformed replies.
import { afterEach, describe, expect, it } from 'vitest';
import { isCmpError, type CmpError } from '../../src/cmp/errors.js';
import { ANTHROPIC_VERSION, anthropicProvider, createLlmProvider, geminiProvider, openAiCompatibleProvider, type LlmProvider, type ProviderHttpOptions } from '../../src/providers/index.js';
import { json, replyBody, startFakeProvider, type FakeHandler, type FakeProvider, type SeenRequest } from '../helpers/fake-provider.js';

const API_KEY = 'sk-test-SECRET-77e1';

interface ProviderCase {
  kind: 'openai_compatible' | 'anthropic' | 'gemini';
  make(origin: string, options: ProviderHttpOptions): LlmProvider;
  path: string;
  checkAuth(request: SeenRequest): void;
}

const cases: ProviderCase[] = [
  {
    kind: 'openai_compatible',
    make: (origin, options) => openAiCompatibleProvider({ baseUrl: `${origin}/v1`, model: 'gpt-test', apiKey: API_KEY }, options),
    path: '/v1/chat/completions',
    checkAuth: (request) => {
      expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(request.body).toMatchObject({ model: 'gpt-test', max_tokens: 200, temperature: 0 });
      expect(request.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user']);
    },
  },
  {
    kind: 'anthropic',
    make: (origin, options) => anthropicProvider({ baseUrl: origin, model: 'claude-test', apiKey: API_KEY }, options),
    path: '/v1/messages',
    checkAuth: (request) => {
      expect(request.headers['x-api-key']).toBe(API_KEY);
      expect(request.headers['anthropic-version']).toBe(ANTHROPIC_VERSION);
      expect(request.headers.authorization).toBeUndefined();
      expect(request.body).toMatchObject({ model: 'claude-test', max_tokens: 200 });
      expect(typeof request.body.system).toBe('string');
      expect(request.body.messages.map((m: { role: string }) => m.role)).toEqual(['user']);
    },
  },
  {
    kind: 'gemini',
    make: (origin, options) => geminiProvider({ baseUrl: `${origin}/v1beta`, model: 'gemini-test', apiKey: API_KEY }, options),
    path: '/v1beta/models/gemini-test:generateContent',
    checkAuth: (request) => {
      expect(request.headers['x-goog-api-key']).toBe(API_KEY);
      expect(request.url).not.toContain('key=');
      expect(request.body.generationConfig).toEqual({ maxOutputTokens: 200, temperature: 0 });
      expect(request.body.contents[0].role).toBe('user');
    },
  },
];

const fakes: FakeProvider[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
});

async function fake(handler: FakeHandler): Promise<FakeProvider> {
  const server = await startFakeProvider(handler);
  fakes.push(server);
  return server;
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

describe.each(cases)('$kind provider', ({ kind, make, path, checkAuth }) => {
  const reply =
    (text: string): FakeHandler =>
    (_request, res) =>
      json(res, 200, replyBody[kind](text));
  const label = `LLM provider ${kind}`;

  it('summarises over its wire format, with its auth headers, and trims the reply', async () => {
    const server = await fake(reply('  Tea is preferred.\n'));
    const provider = make(server.origin, { retryDelayMs: 1 });
    expect(await provider.summarize(['I like tea', 'Tea again'], 200)).toBe('Tea is preferred.');
    expect(server.requests).toHaveLength(1);
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(path);
    expect(request.headers['content-type']).toBe('application/json');
    checkAuth(request);
    expect(JSON.stringify(request.body)).toContain('I like tea');
  });

  it('extracts relations from a fenced JSON answer, skipping malformed entries', async () => {
    const answer =
      'Here you go:\n```json\n[{"subject":"Alice","predicate":"likes","object":"tea","confidence":0.9},' + '{"subject":"x"},{"subject":"Bob","predicate":"owns","object":"a cat","confidence":7}]\n```';
    const server = await fake(reply(answer));
    const relations = await make(server.origin, {}).extractRelations('Alice likes tea. Bob owns a cat.');
    expect(relations).toEqual([
      { subject: 'Alice', predicate: 'likes', object: 'tea', confidence: 0.9 },
      { subject: 'Bob', predicate: 'owns', object: 'a cat', confidence: 1 },
    ]);
  });

  it('retries a 429 after the Retry-After it was given, then succeeds', async () => {
    const server = await fake((request, res, attempt) => {
      if (attempt === 1) json(res, 429, { error: 'rate limited' }, { 'retry-after': '0' });
      else reply('ok')(request, res, attempt);
    });
    // The backoff alone would wait a minute; the server asked for no wait at all.
    expect(await make(server.origin, { retryDelayMs: 60_000 }).summarize(['t'], 200)).toBe('ok');
    expect(server.requests).toHaveLength(2);
  });

  it('retries 5xx, then gives up naming the provider, endpoint and status', async () => {
    const server = await fake((_request, res) => json(res, 503, { error: 'overloaded' }));
    const error = await rejection(make(server.origin, { retries: 2, retryDelayMs: 1 }).summarize(['t'], 200));
    expect(server.requests).toHaveLength(3);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toBe(`${label} ${server.origin}${path} answered 503 Service Unavailable: {"error":"overloaded"} (after 3 attempts)`);
  });

  it('fails at once on 401, without retrying, never showing the key it echoes', async () => {
    const server = await fake((request, res) => json(res, 401, { error: { message: `invalid key ${JSON.stringify(request.headers)}` } }));
    const error = await rejection(make(server.origin, { retryDelayMs: 1 }).summarize(['t'], 200));
    expect(server.requests).toHaveLength(1);
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toContain(`${label} ${server.origin}${path} answered 401 Unauthorized`);
    expect(error.message).toContain('[REDACTED]');
    expectNoKey(error);
  });

  it('fails with a timeout error, without retrying, when the server never answers', async () => {
    const server = await fake(() => {
      // never answer
    });
    const error = await rejection(make(server.origin, { timeoutMs: 200, retries: 3 }).summarize(['t'], 200));
    expect(error.message).toBe(`${label} ${server.origin}${path} did not answer within 200 ms`);
    expect(server.requests).toHaveLength(1);
  });

  it.each([
    ['a body that is not JSON', '<html>bad gateway</html>', 'answered with a body that is not JSON: <html>bad gateway</html>'],
    ['JSON of another shape', { unexpected: true }, 'answered without'],
  ])('rejects %s', async (_what, body, problem) => {
    const server = await fake((_request, res) => json(res, 200, body));
    const error = await rejection(make(server.origin, { retries: 0 }).summarize(['t'], 200));
    expect(error.code).toBe('INTERNAL_ERROR');
    expect(error.message).toContain(`${label} ${server.origin}${path} ${problem}`);
  });

  it('rejects a blank summary and relations that are not a JSON array', async () => {
    const blank = await fake(reply('   '));
    expect((await rejection(make(blank.origin, {}).summarize(['t'], 200))).message).toContain('answered an empty summary');
    const prose = await fake(reply('Alice likes tea.'));
    expect((await rejection(make(prose.origin, {}).extractRelations('t'))).message).toContain('relations that are not a JSON array');
  });
});

describe('createLlmProvider', () => {
  const base = { timeout_ms: 1000, max_retries: 0 };

  it('gives no provider for "none"', () => {
    expect(createLlmProvider({ ...base, provider: 'none' })).toBeNull();
  });

  it('builds the configured provider with its name', () => {
    expect(createLlmProvider({ ...base, provider: 'anthropic', model: 'claude-x', api_key: 'k' })?.name).toBe('anthropic:claude-x');
    expect(createLlmProvider({ ...base, provider: 'openai_compatible', model: 'm', base_url: 'http://127.0.0.1:1/v1' })?.name).toBe('openai_compatible:m');
  });

  it.each([
    [{ provider: 'anthropic', model: 'm' }, 'llm.api_key'],
    [{ provider: 'gemini', api_key: 'k' }, 'llm.model'],
    [{ provider: 'gemini', model: 'a/b', api_key: 'k' }, 'llm.model'],
    [{ provider: 'openai_compatible', model: 'm', base_url: 'http://u:p@host/v1' }, 'llm.base_url'],
  ] as const)('refuses %j naming %s', (config, field) => {
    let error: unknown;
    try {
      createLlmProvider({ ...base, ...config });
    } catch (caught) {
      error = caught;
    }
    expect(isCmpError(error) && error.code).toBe('VALIDATION_ERROR');
    expect((error as CmpError).field).toBe(field);
  });
});
