import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isCmpError } from '../../src/cmp/errors.js';
import type { EmbedderConfig } from '../../src/embedding/embedder.js';
import { createEmbedder } from '../../src/embedding/factory.js';
import { LocalEmbedder, embedText } from '../../src/embedding/local.js';
import { OpenAiCompatibleEmbedder } from '../../src/providers/openai-compatible.js';

function validationErrorOf(fn: () => unknown): { code: string; field: string | undefined; message: string } {
  try {
    fn();
  } catch (error) {
    if (isCmpError(error)) return { code: error.code, field: error.field, message: error.message };
    throw error;
  }
  throw new Error('expected a CmpError, but nothing was thrown');
}

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('createEmbedder', () => {
  it('builds the lexical embedder, with the configured dimension', async () => {
    const embedder = createEmbedder({ provider: 'lexical', dimension: 128 });
    expect(embedder).toBeInstanceOf(LocalEmbedder);
    expect(embedder.name).toBe('local-hash-v1');
    expect(embedder.dimension).toBe(128);
    const [vector] = await embedder.embed(['works with no key and no network']);
    expect(Array.from(vector)).toEqual(Array.from(embedText('works with no key and no network', 128)));
  });

  it('builds an OpenAI-compatible embedder that uses the given fetch and options', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    let fetchCalls = 0;
    const countingFetch: typeof fetch = (input, init) => {
      fetchCalls++;
      return fetch(input, init);
    };

    const embedder = createEmbedder(
      {
        provider: 'openai_compatible',
        dimension: 8,
        base_url: `http://127.0.0.1:${port}/v1`,
        model: 'nomic',
        api_key: 'k',
      },
      { fetch: countingFetch, retries: 1, retryDelayMs: 1 },
    );

    expect(embedder).toBeInstanceOf(OpenAiCompatibleEmbedder);
    expect(embedder.name).toBe('openai-compatible:nomic');
    expect(embedder.dimension).toBe(8);
    await expect(embedder.embed(['x'])).rejects.toThrow('after 2 attempts');
    expect(fetchCalls).toBe(2);
    expect(seen).toEqual(['Bearer k', 'Bearer k']);
  });

  it.each([
    [{ provider: 'openai_compatible', dimension: 8, model: 'm' }, 'embedding.base_url'],
    [{ provider: 'openai_compatible', dimension: 8, base_url: 'http://localhost:11434/v1' }, 'embedding.model'],
    [{ provider: 'lexical', dimension: 0 }, 'embedding.dimension'],
    [{ provider: 'local', dimension: 512 }, 'embedding.provider'],
    [{ provider: 'onnx', dimension: 8 }, 'embedding.provider'],
  ])('rejects %j naming %s', (config, field) => {
    const error = validationErrorOf(() => createEmbedder(config as EmbedderConfig));
    expect(error.code).toBe('VALIDATION_ERROR');
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
  });
});
