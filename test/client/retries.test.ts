import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient, retryDelayMs } from '../../src/client/client.js';
import { CmpError, isCmpError } from '../../src/cmp/errors.js';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';

// Issue 14: our typed client (which the CLI and the MCP proxy use) sends an idempotency key with every
// write and retries retryable failures, so a write whose answer was lost, or that met a restarting
// server, lands exactly once. The waits are injected: no timer runs in these tests.

const servers: TestServer[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  dirs.forEach(removeDir);
});

async function count(server: TestServer, space: string): Promise<number> {
  return (await server.call('GET', `/v1/introspect/stats?space=${space}`)).body.total_records;
}

describe('CerememoryClient retries', () => {
  it('retries a write whose answer was lost with the same idempotency key: stored exactly once', async () => {
    const server = await startTestServer();
    servers.push(server);
    const waits: number[] = [];
    const client = new CerememoryClient({ baseUrl: server.url, sleep: async (ms) => void waits.push(ms) });
    const rpc = client.rpc as unknown as Record<string, (message: { idempotencyKey?: string }) => Promise<unknown>>;
    const real = rpc.encodeStore!;
    const keys: (string | undefined)[] = [];
    rpc.encodeStore = async (message) => {
      keys.push(message.idempotencyKey);
      const answer = await real(message); // the server stores it...
      if (keys.length === 1) throw new CmpError('STORE_UNAVAILABLE', 'answer lost', { retryAfter: 1 }); // ...the answer is lost
      return answer;
    };
    try {
      const stored = await client.store('the ferry leaves at nine', { space: 'lost-answer' });
      expect(stored.record_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/\S/);
      expect(keys[1]).toBe(keys[0]);
      expect(waits).toEqual([1000]); // the server's Retry-After
      expect(await count(server, 'lost-answer')).toBe(1);
    } finally {
      client.close();
    }
  });

  it('rides out a server restart on the same port and data directory', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await startTestServer({ dataDir });
    const port = first.port;
    await first.close();
    let second: Promise<TestServer> | undefined;
    const client = new CerememoryClient({
      baseUrl: first.url,
      // The first failed attempt brings the server back; the retry then reaches it.
      sleep: async () => {
        second ??= startTestServer({ dataDir, flags: { http: { port } } });
        servers.push(await second);
      },
    });
    try {
      await client.store('written while the server restarts', { space: 'restart' });
      expect(second).toBeDefined();
      expect(await count(await second!, 'restart')).toBe(1);
    } finally {
      client.close();
    }
  });

  it('does not retry what retrying cannot fix, and not at all with retries: 0', async () => {
    const server = await startTestServer();
    servers.push(server);
    let waited = 0;
    const client = new CerememoryClient({ baseUrl: server.url, sleep: async () => void waited++ });
    const refused = await client.call('encodeStore', { content: { blocks: [] } }).catch((error: unknown) => error);
    expect(isCmpError(refused) && refused.code).toBe('VALIDATION_ERROR');
    expect(waited).toBe(0);
    client.close();

    const once = new CerememoryClient({ baseUrl: 'http://127.0.0.1:1', retries: 0, sleep: async () => void waited++ });
    const unreachable = await once.stats().catch((error: unknown) => error);
    expect(isCmpError(unreachable) && unreachable.code).toBe('STORE_UNAVAILABLE');
    expect(waited).toBe(0);
    once.close();
  });

  it.each([
    [0, undefined, 200],
    [1, undefined, 400],
    [4, undefined, 3000],
    [0, 2, 2000],
    [0, 60, 10_000],
  ])('waits before attempt %i+1 (Retry-After %s): %i ms', (attempt, retryAfter, ms) => {
    expect(retryDelayMs(attempt, retryAfter)).toBe(ms);
  });
});
