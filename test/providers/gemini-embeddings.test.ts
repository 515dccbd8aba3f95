// The Gemini embedder against a loopback server speaking batchEmbedContents.
import { afterEach, describe, expect, it } from 'vitest';
import { isCmpError, type CmpError } from '../../src/cmp/errors.js';
import { createEmbedder } from '../../src/embedding/factory.js';
import { GeminiEmbedder } from '../../src/providers/index.js';
import { json, startFakeProvider, type FakeHandler, type FakeProvider } from '../helpers/fake-provider.js';

const API_KEY = 'gm-SECRET-123';
const fakes: FakeProvider[] = [];
afterEach(async () => {
  for (const fake of fakes.splice(0)) await fake.close();
});

async function fake(handler: FakeHandler): Promise<FakeProvider> {
  const server = await startFakeProvider(handler);
  fakes.push(server);
  return server;
}

/** Answers one vector per request, encoding the text: "t7" → [7, 1, 0]. */
const answer: FakeHandler = (request, res) =>
  json(res, 200, {
    embeddings: request.body.requests.map((r: { content: { parts: { text: string }[] } }) => ({
      values: [Number(r.content.parts[0].text.slice(1)), 1, 0],
    })),
  });

const embedder = (server: FakeProvider, retryDelayMs = 1) => new GeminiEmbedder({ baseUrl: `${server.origin}/v1beta`, model: 'text-embedding-004', apiKey: API_KEY, dimension: 3 }, { retryDelayMs });

describe('GeminiEmbedder', () => {
  it('posts batchEmbedContents with the key in a header and keeps input order; blanks are not sent', async () => {
    const server = await fake(answer);
    const vectors = await embedder(server).embed(['t1', ' ', 't2']);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [1, 1, 0],
      [0, 0, 0],
      [2, 1, 0],
    ]);
    const [request] = server.requests;
    expect(request.url).toBe('/v1beta/models/text-embedding-004:batchEmbedContents');
    expect(request.headers['x-goog-api-key']).toBe(API_KEY);
    expect(request.body.requests[0]).toEqual({
      model: 'models/text-embedding-004',
      content: { parts: [{ text: 't1' }] },
      outputDimensionality: 3,
    });
  });

  it('retries a 429 and succeeds', async () => {
    const server = await fake((request, res, attempt) => (attempt === 1 ? json(res, 429, { error: { status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '0' }) : answer(request, res, attempt)));
    expect(Array.from((await embedder(server, 60_000).embed(['t5']))[0])).toEqual([5, 1, 0]);
    expect(server.requests).toHaveLength(2);
  });

  it('rejects a vector of the wrong length and a 401, naming the provider and never the key', async () => {
    const short = await fake((_request, res) => json(res, 200, { embeddings: [{ values: [1, 2] }] }));
    let error = (await embedder(short)
      .embed(['t1'])
      .catch((e: unknown) => e)) as CmpError;
    expect(isCmpError(error)).toBe(true);
    expect(error.message).toContain(`embedding provider gemini ${short.origin}/v1beta/models/text-embedding-004:batchEmbedContents returned a vector of length 2`);
    const denied = await fake((request, res) => json(res, 401, { error: `bad ${String(request.headers['x-goog-api-key'])}` }));
    error = (await embedder(denied)
      .embed(['t1'])
      .catch((e: unknown) => e)) as CmpError;
    expect(error.message).toContain('answered 401');
    expect(error.message).not.toContain(API_KEY);
    expect(denied.requests).toHaveLength(1);
  });

  it('is what createEmbedder builds for provider "gemini"', () => {
    const built = createEmbedder({ provider: 'gemini', dimension: 8, model: 'text-embedding-004', api_key: 'k' });
    expect(built).toBeInstanceOf(GeminiEmbedder);
    expect(built.name).toBe('gemini:text-embedding-004');
  });
});
