import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import { isCmpError } from '../../src/cmp/errors.js';
import { removeDir, sharedServer, startTestServer } from '../helpers/server.js';

// Per-client token buckets on the real server (reference spec §6.1). The test process is the trusted
// proxy (loopback is in trusted_proxy_cidrs), so X-Forwarded-For gives each simulated client its own
// identity over the same loopback socket.

const BURST = 10;
// The clock stands still, so no bucket refills while a test sends its burst, however slow the machine.
const clock = Date.parse('2026-01-01T00:00:00Z');
const server = sharedServer({
  now: () => clock,
  flags: {
    rate_limit: { requests_per_second: 2, burst: BURST },
    http: { trusted_proxy_cidrs: ['127.0.0.0/8', '::1/128'] },
  },
});

const statsAs = (client: string) => server.call('GET', '/v1/introspect/stats', undefined, { 'x-forwarded-for': client });

describe('REST', () => {
  it('allows a burst, then answers 429 RATE_LIMITED with retry_after and Retry-After', async () => {
    const statuses = [];
    for (let i = 0; i < BURST; i += 1) statuses.push((await statsAs('198.51.100.1')).status);
    expect(statuses).toEqual(Array(BURST).fill(200));
    const limited = await statsAs('198.51.100.1');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: 'RATE_LIMITED', details: null });
    expect(limited.body.retry_after).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('retry-after')).toBe(String(limited.body.retry_after));
    expect(limited.headers.get('x-request-id')).toBe(limited.body.request_id);
  });

  it('never limits /health or /readiness', async () => {
    for (let i = 0; i < BURST * 3; i += 1) {
      expect((await server.call('GET', '/health', undefined, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
    }
    expect((await server.call('GET', '/readiness', undefined, { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
    expect((await statsAs('198.51.100.2')).status).toBe(200);
  });

  it('a client hammering past its limit does not cost a well-behaved client a single request', async () => {
    const greedy = Array.from({ length: 60 }, () => statsAs('203.0.113.66'));
    const polite = Array.from({ length: BURST }, () => statsAs('203.0.113.7'));
    const [greedyStatuses, politeStatuses] = await Promise.all([
      Promise.all(greedy).then((all) => all.map((response) => response.status)),
      Promise.all(polite).then((all) => all.map((response) => response.status)),
    ]);
    expect(politeStatuses).toEqual(Array(BURST).fill(200));
    expect(greedyStatuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(60 - BURST - 5);
    expect(greedyStatuses.every((status) => status === 200 || status === 429)).toBe(true);
  });

  it('limits MCP at /mcp like the API routes', async () => {
    const post = () => server.call('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'x-forwarded-for': '198.51.100.3', accept: 'application/json, text/event-stream' });
    for (let i = 0; i < BURST; i += 1) await post();
    const limited = await post();
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
  });
});

describe('Connect', () => {
  it('answers ResourceExhausted with the RATE_LIMITED code header and retry-after', async () => {
    const call = () =>
      fetch(`${server.url}/cerememory.v1.CerememoryService/Stats`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.4' },
        body: '{}',
      });
    for (let i = 0; i < BURST; i += 1) expect((await call()).status).toBe(200);
    const limited = await call();
    expect(limited.status).toBe(429);
    expect(limited.headers.get('cerememory-error-code')).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ code: 'resource_exhausted' });
  });

  it('shares one bucket per client across REST and Connect, and the client sees RATE_LIMITED', async () => {
    // The CerememoryClient sends no X-Forwarded-For: it is the loopback peer itself.
    // retries: 0, so the refusal itself is seen (the client would otherwise wait it out).
    const client = new CerememoryClient({ baseUrl: server.url, protocol: 'grpc', retries: 0 });
    try {
      for (let i = 0; i < BURST; i += 1) await server.call('GET', '/v1/introspect/stats');
      const error = await client.stats().catch((reason: unknown) => reason);
      expect(isCmpError(error) && error.code).toBe('RATE_LIMITED');
      expect(isCmpError(error) && error.retryAfter).toBeGreaterThanOrEqual(1);
    } finally {
      client.close();
    }
  });
});

describe('without trusted proxies', () => {
  const servers: Awaited<ReturnType<typeof startTestServer>>[] = [];
  afterAll(async () => {
    for (const started of servers) {
      await started.close();
      removeDir(started.dataDir);
    }
  });

  it('ignores X-Forwarded-For: a client cannot dodge its limit by inventing addresses', async () => {
    const direct = await startTestServer({ now: () => clock, flags: { rate_limit: { requests_per_second: 1, burst: 3 } } });
    servers.push(direct);
    const statuses = [];
    for (let i = 0; i < 5; i += 1) {
      statuses.push((await direct.call('GET', '/v1/introspect/stats', undefined, { 'x-forwarded-for': `192.0.2.${i}` })).status);
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toContain(429);
  });
});
