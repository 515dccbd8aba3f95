import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient, type ClientProtocol } from '../../src/client/client.js';
import { isCmpError } from '../../src/cmp/errors.js';
import { Health, HealthCheckResponse_ServingStatus } from '../../src/gen/grpc/health/v1/health_pb.js';
import { ConfigError, loadConfig } from '../../src/runtime/config/index.js';
import { startServer } from '../../src/server.js';
import { removeDir, sharedServer, tempDataDir, testConfig, textContent } from '../helpers/server.js';

// Auth on every transport of the one port (reference spec §6.1, §6.2, §6.5): REST /v1, MCP at /mcp,
// Connect/gRPC/gRPC-Web; /health, /readiness and gRPC health stay open; keys never reach the logs.

const KEY_ONE = 'k1-c0rrect-horse-battery-staple';
const KEY_TWO = 'k2-another-secret-key-0123456789';
const server = sharedServer({ flags: { auth: { enabled: true, api_keys: [KEY_ONE, KEY_TWO] }, http: { metrics_enabled: true } } });
const clients: CerememoryClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

function client(protocol: ClientProtocol, apiKey?: string) {
  const made = new CerememoryClient({ baseUrl: server.url, protocol, apiKey });
  clients.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isCmpError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('REST /v1', () => {
  it('keeps /metrics behind the key too (it names routes and counts)', async () => {
    const refused = await server.call('GET', '/metrics');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'UNAUTHORIZED' });
    const allowed = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${KEY_ONE}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('cerememory_http_requests_total');
  });

  it('keeps /health and /readiness open', async () => {
    expect((await server.call('GET', '/health')).status).toBe(200);
    expect((await server.call('GET', '/readiness')).status).toBe(200);
  });

  it('answers a missing header with 401 UNAUTHORIZED, the reference message and the request id', async () => {
    const response = await server.call('GET', '/v1/introspect/stats', undefined, { 'x-request-id': 'req-401' });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      code: 'UNAUTHORIZED',
      message: 'Missing Authorization header. Expected: Authorization: Bearer <api-key>',
      details: null,
      retry_after: null,
      request_id: 'req-401',
    });
    expect(response.headers.get('x-request-id')).toBe('req-401');
  });

  it.each([
    ['a wrong key', `Bearer ${KEY_ONE}x`],
    ['a lower-case scheme', `bearer ${KEY_ONE}`],
    ['another scheme', `Basic ${KEY_ONE}`],
  ])('refuses %s with "Invalid API key"', async (_name, authorization) => {
    const response = await server.call('POST', '/v1/encode', { content: textContent('not stored') }, { authorization });
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({ code: 'UNAUTHORIZED', message: 'Invalid API key' });
  });

  it('accepts every configured key', async () => {
    for (const key of [KEY_ONE, KEY_TWO]) {
      const response = await server.call('POST', '/v1/encode', { content: textContent(`stored with ${key.slice(0, 2)}`), space: 'auth' }, { authorization: `Bearer ${key}` });
      expect(response.status).toBe(200);
    }
    const stats = await server.call('GET', '/v1/introspect/stats?space=auth', undefined, { authorization: `Bearer ${KEY_TWO}` });
    expect(stats.body.total_records).toBe(2);
  });
});

describe('Connect, gRPC and gRPC-Web', () => {
  it.each(['connect', 'grpc', 'grpc-web'] as const)('%s: no key → UNAUTHORIZED "Missing authorization metadata"', async (protocol) => {
    const error = await rejection(client(protocol).stats('auth'));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toBe('Missing authorization metadata');
  });

  it.each(['connect', 'grpc', 'grpc-web'] as const)('%s: wrong key → UNAUTHORIZED "Invalid API key", right key works', async (protocol) => {
    const error = await rejection(client(protocol, 'guess').stats('auth'));
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', message: 'Invalid API key' });
    expect((await client(protocol, KEY_ONE).stats('auth')).total_records).toBe(2);
  });

  it('sends the CMP code header with the Unauthenticated status (raw Connect JSON)', async () => {
    const response = await fetch(`${server.url}/cerememory.v1.CerememoryService/Stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('cerememory-error-code')).toBe('UNAUTHORIZED');
    expect(await response.json()).toMatchObject({ code: 'unauthenticated', message: 'Missing authorization metadata' });
  });

  it('keeps gRPC health open', async () => {
    const sessions = new Http2SessionManager(server.url);
    try {
      const health = await createClient(Health, createGrpcTransport({ baseUrl: server.url, sessionManager: sessions })).check({});
      expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    } finally {
      sessions.abort();
    }
  });
});

describe('MCP over HTTP at /mcp', () => {
  it('refuses a client without a key', async () => {
    const mcp = new Client({ name: 'auth-test', version: '1' });
    await expect(mcp.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)))).rejects.toThrow(/401|Unauthorized|authorization/i);
  });

  it('serves a client that sends its key', async () => {
    const mcp = new Client({ name: 'auth-test', version: '1' });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${KEY_TWO}` } } }));
    const result = await mcp.callTool({ name: 'stats', arguments: { space: 'auth' } });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse((result.content as { text: string }[])[0]!.text)).toMatchObject({ total_records: 2 });
    await mcp.close();
  });
});

describe('keys stay secret', () => {
  it('never appear in the server’s logs', async () => {
    // Provoke logging: failed auth on every transport and an internal-path error.
    await server.call('GET', '/v1/introspect/stats', undefined, { authorization: `Bearer ${KEY_ONE}-wrong` });
    await rejection(client('grpc', `${KEY_TWO}-wrong`).stats());
    const logs = server.logs.join('\n');
    expect(logs).not.toContain(KEY_ONE);
    expect(logs).not.toContain(KEY_TWO);
    expect(logs).not.toContain(KEY_ONE.slice(3, 20));
  });
});

describe('startup safety', () => {
  it('refuses to listen beyond loopback without auth, naming the key and the fix', async () => {
    const dataDir = tempDataDir();
    try {
      const error = await startServer(testConfig(dataDir, { http: { bind_address: '0.0.0.0' } })).catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/http\.bind_address.*"0\.0\.0\.0" is not a loopback address and auth is disabled/);
      expect((error as Error).message).toContain('[auth] enabled = true');
    } finally {
      removeDir(dataDir);
    }
  });

  it('listens beyond loopback when auth is on', async () => {
    const dataDir = tempDataDir();
    try {
      const open = await startServer(testConfig(dataDir, { http: { bind_address: '0.0.0.0' }, auth: { enabled: true, api_keys: [KEY_ONE] } }), { log: () => {} });
      await open.close();
    } finally {
      removeDir(dataDir);
    }
  });

  it('rejects auth without keys and blank keys as config errors naming the key, without echoing keys', () => {
    const load = (env: Record<string, string>) => {
      try {
        loadConfig({ env, cwd: tempDataDir() });
      } catch (error) {
        return (error as Error).message;
      }
      return 'loaded';
    };
    expect(load({ CEREMEMORY_AUTH__ENABLED: 'true' })).toMatch(/auth\.enabled.*at least one key/);
    expect(load({ CEREMEMORY_AUTH__ENABLED: 'true', CEREMEMORY_AUTH_API_KEYS: ' , ' })).toMatch(/auth\.enabled.*at least one key/);
    const config = loadConfig({ env: { CEREMEMORY_AUTH__ENABLED: 'true', CEREMEMORY_AUTH_API_KEYS: ` ${KEY_ONE} ,${KEY_TWO}` }, cwd: tempDataDir() });
    expect(config.auth.api_keys).toEqual([KEY_ONE, KEY_TWO]);
  });
});
