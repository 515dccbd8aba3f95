import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../../helpers/server.js';

// MCP over Streamable HTTP, bounded (issue 14): sessions expire when idle (an injected clock, no waiting),
// are capped per client and in total, DELETE closes one; and `export` from an HTTP client writes only
// inside <data_dir>/exports, never at a path the client chose (defects 4 and 5).

let clock = Date.now();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    now: () => clock,
    // Loopback is a trusted proxy here, so X-Forwarded-For can play several clients.
    flags: { mcp: { session_idle_timeout_secs: 600, max_sessions_per_client: 3, max_sessions: 5 }, http: { trusted_proxy_cidrs: ['127.0.0.1/32'] } },
  });
});
afterAll(async () => {
  await server.close();
  removeDir(server.dataDir);
});

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function initialize(client = '10.0.0.1'): Promise<Response> {
  return fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: { ...HEADERS, 'x-forwarded-for': client },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'session-test', version: '1' } },
    }),
  });
}

async function open(client?: string): Promise<string> {
  const answer = await initialize(client);
  expect(answer.status).toBe(200);
  await answer.body?.cancel();
  return answer.headers.get('mcp-session-id')!;
}

async function ping(session: string): Promise<number> {
  const answer = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  await answer.body?.cancel();
  return answer.status;
}

const close = async (session: string) => {
  const answer = await fetch(`${server.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' } });
  await answer.body?.cancel();
  return answer.status;
};

describe('MCP HTTP sessions', () => {
  it('closes a session unused for the idle timeout; its client gets 404 and may initialize again', async () => {
    const session = await open();
    expect(await ping(session)).toBe(200);
    clock += 599_000;
    expect(await ping(session)).toBe(200); // used: the idle time starts again
    clock += 601_000;
    expect(await ping(session)).toBe(404);
    expect(await ping(await open())).toBe(200);
  });

  it('keeps at most max_sessions_per_client per client, closing its least recently used', async () => {
    clock += 3_600_000; // every earlier session idles out
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await open());
    const answers = [];
    for (const session of sessions) answers.push(await ping(session));
    expect(answers).toEqual([404, 404, 200, 200, 200]);
  });

  it('honours DELETE', async () => {
    clock += 3_600_000;
    const session = await open();
    expect(await close(session)).toBe(200);
    expect(await ping(session)).toBe(404);
  });
});

describe('MCP export over HTTP (the client is remote)', () => {
  const outside = tempDataDir('cerememory-outside-');
  let client: Client;
  beforeAll(async () => {
    clock += 3_600_000;
    client = new Client({ name: 'export-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
  });
  afterAll(async () => {
    await client.close();
    removeDir(outside);
  });

  const exportTo = async (output_path: string) => (await client.callTool({ name: 'export', arguments: { output_path } })) as { isError?: boolean; content: { text: string }[] };

  it.each([
    ['an absolute path', () => join(outside, 'x.cma')],
    ['a path with a folder', () => 'sub/x.cma'],
    ['a parent path', () => '../x.cma'],
    ['a hidden name', () => '.x.cma'],
  ])('refuses %s, naming output_path, and writes nothing there', async (_name, path) => {
    const answer = await exportTo(path()).catch((error: Error) => ({ isError: true, content: [{ text: error.message }] }));
    expect(answer.isError).toBe(true);
    expect(answer.content[0]!.text).toMatch(/output_path/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('writes a plain file name inside <data_dir>/exports', async () => {
    const answer = await exportTo('backup.cma');
    expect(answer.isError, answer.content[0]!.text).toBeFalsy();
    expect(existsSync(join(server.dataDir, 'exports', 'backup.cma'))).toBe(true);
    expect(answer.content[0]!.text).toContain(join(server.dataDir, 'exports', 'backup.cma'));
  });
});

describe('the total cap', () => {
  it('refuses initialize past max_sessions with 503 and Retry-After, and admits again once one closes', async () => {
    clock += 3_600_000;
    const first = [await open('10.0.0.2'), await open('10.0.0.2'), await open('10.0.0.2')];
    await open('10.0.0.3');
    await open('10.0.0.3');
    const refused = await initialize('10.0.0.3');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/Too many open MCP sessions/);
    for (const session of first) expect(await ping(session)).toBe(200); // nobody else's session was taken
    expect(await close(first[0]!)).toBe(200);
    expect(await ping(await open('10.0.0.3'))).toBe(200);
  });
});
