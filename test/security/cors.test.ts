import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';

// CORS on the REST binding (reference spec §6.1): none by default, "*" reflects the origin with
// credentials, an exact list otherwise; preflights are answered before auth.

const KEY = 'cors-test-key-0123456789';
const servers = new Map<string, TestServer>();
afterAll(async () => {
  for (const server of servers.values()) {
    await server.close();
    removeDir(server.dataDir);
  }
});

async function serverWith(origins: string[]): Promise<TestServer> {
  const name = origins.join(',');
  if (!servers.has(name)) {
    servers.set(name, await startTestServer({ flags: { http: { cors_origins: origins }, auth: { enabled: true, api_keys: [KEY] } } }));
  }
  return servers.get(name)!;
}

const preflight = (server: TestServer, origin: string) =>
  fetch(`${server.url}/v1/encode`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS', () => {
  it('sends no CORS headers at all when no origin is configured, and refuses pages (issue 14, defect 1)', async () => {
    const server = await serverWith([]);
    const response = await server.call('GET', '/v1/introspect/stats', undefined, { origin: 'https://app.example', authorization: `Bearer ${KEY}` });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'FORBIDDEN', details: { field: 'origin' } });
    expect([...response.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });

  it('with "*", reflects the origin, allows credentials and exposes x-request-id and retry-after', async () => {
    const server = await serverWith(['*']);
    const answer = await preflight(server, 'https://anything.example');
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://anything.example');
    expect(answer.headers.get('access-control-allow-credentials')).toBe('true');
    expect(answer.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const response = await server.call('GET', '/v1/introspect/stats', undefined, { origin: 'https://anything.example', authorization: `Bearer ${KEY}` });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://anything.example');
    expect(response.headers.get('access-control-expose-headers')).toMatch(/x-request-id.*retry-after/);
  });

  it('with a list, allows exactly those origins, without credentials, and answers preflights before auth', async () => {
    const server = await serverWith(['https://app.example']);
    const allowed = await preflight(server, 'https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();
    const other = await preflight(server, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // A real request still needs its key, and an error still carries the CORS headers the page needs.
    const refused = await server.call('GET', '/v1/introspect/stats', undefined, { origin: 'https://app.example' });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('covers Connect and gRPC-Web paths too, so browser RPC clients can read errors', async () => {
    const rpc = `/cerememory.v1.CerememoryService/Stats`;
    const server = await serverWith(['https://app.example']);
    const answer = await fetch(`${server.url}${rpc}`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, connect-protocol-version' },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-allow-headers')).toBe('authorization, content-type, connect-protocol-version');
    const call = (origin: string) => fetch(`${server.url}${rpc}`, { method: 'POST', headers: { origin, 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: '{}' });
    const allowed = await call('https://app.example');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/cerememory-error-code.*grpc-status/);
    const other = await call('https://evil.example');
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();

    const none = await serverWith([]);
    const page = await fetch(`${none.url}${rpc}`, { method: 'POST', headers: { origin: 'https://app.example', 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: '{}' });
    expect(page.status).toBe(403);
    expect(page.headers.get('access-control-allow-origin')).toBeNull();
    const sdk = await fetch(`${none.url}${rpc}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` }, body: '{}' });
    expect(sdk.status).toBe(200);
  });
});
