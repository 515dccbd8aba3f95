import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledEntry } from '../../helpers/compiled-cli.js';
import { localEndpoint } from '../../../src/transports/endpoint.js';
import { createMcpServer } from '../../../src/transports/mcp/tools.js';
import { VERSION } from '../../../src/version.js';
import { LEXICAL_ENV, removeDir, sharedServer, tempDataDir } from '../../helpers/server.js';

// The MCP tools as an agent reaches them: through the SDK's Client over Streamable HTTP at /mcp, and over
// stdio to a spawned `cerememory mcp` process, both with its own engine on a data directory and as a
// proxy to a running server.

const ROOT = join(import.meta.dirname, '../../..');
const CLI = compiledEntry();

export const TOOLS = [
  'associate',
  'batch_store',
  'batch_store_raw',
  'consolidate',
  'decay_forecast',
  'dream_tick',
  'export',
  'forget',
  'graph',
  'inspect',
  'recall',
  'recall_raw',
  'set_mode',
  'stats',
  'store',
  'store_raw',
  'timeline',
  'update',
];

const server = sharedServer();
const clients: Client[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  dirs.forEach(removeDir);
});

async function connect(transport: Transport): Promise<Client> {
  const client = new Client({ name: 'cerememory-test', version: '1.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

function stdio(args: string[]): StdioClientTransport {
  return new StdioClientTransport({
    command: process.execPath,
    args: [...CLI, ...args],
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV },
    stderr: 'pipe',
  });
}

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text: string }[];
}

async function tool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const answer = (await client.callTool({ name, arguments: args })) as ToolAnswer;
  expect(answer.isError, answer.content[0]?.text).toBeFalsy();
  const text = answer.content[0]!.text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function toolError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const answer = (await client.callTool({ name, arguments: args })) as ToolAnswer;
  expect(answer.isError).toBe(true);
  return answer.content[0]!.text;
}

/** The round every transport must pass: the tool set, store → recall, and clear errors that change nothing. */
async function roundTrip(client: Client, space: string) {
  const { tools } = await client.listTools();
  expect(tools.map((t) => t.name).sort()).toEqual(TOOLS);
  expect(client.getServerVersion()?.name).toBe('cerememory');

  const stored = await tool(client, 'store', {
    content: 'The ferry to the island leaves at seven',
    emotion: 'anticipation',
    space,
    meta_json: JSON.stringify({ intent: 'remember the schedule', confidence: 0.9, tags: ['travel'] }),
  });
  expect(stored).toMatchObject({ store: expect.any(String), initial_fidelity: 1 });
  const recalled = await tool(client, 'recall', { query: 'when does the ferry leave', limit: 3, space });
  expect(recalled.memories[0]).toMatchObject({
    record_id: stored.record_id,
    text: 'The ferry to the island leaves at seven',
    emotion: 'anticipation',
  });
  const record = await tool(client, 'inspect', { record_id: stored.record_id, space });
  expect(record).toMatchObject({ id: stored.record_id, meta: { intent: 'remember the schedule', capture_status: 'provided' } });

  // bad input: named, nothing stored, the server keeps answering
  expect(await toolError(client, 'store', { content: '   ', space })).toMatch(/content must not be empty/);
  expect(await toolError(client, 'store', { content: 'x', store: 'attic', space })).toMatch(/STORE_INVALID/);
  expect(await toolError(client, 'store', { content: 'x', meta_json: '{nope', space })).toMatch(/Invalid MetaMemory JSON/);
  expect(await toolError(client, 'store', { space })).toMatch(/content/);
  expect(await toolError(client, 'recall', { query: 5, space })).toMatch(/query/);
  expect(await toolError(client, 'inspect', { record_id: '01900000-0000-7000-8000-000000000000', space })).toMatch(/RECORD_NOT_FOUND/);
  expect(await toolError(client, 'forget', { record_ids: stored.record_id, confirm: false, space })).toMatch(/FORGET_UNCONFIRMED/);
  expect(await toolError(client, 'update', { record_id: stored.record_id, space })).toMatch(/At least one of/);
  expect(await tool(client, 'stats', { space })).toMatchObject({ total_records: 1 });
  return stored.record_id as string;
}

describe('MCP over Streamable HTTP at /mcp', () => {
  it('initializes, lists the tools, stores and recalls, and answers bad input with clear errors', async () => {
    const client = await connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    await roundTrip(client, 'mcp-http');
  });

  it('runs every tool', async () => {
    const client = await connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    const space = 'mcp-all';
    const batch = await tool(client, 'batch_store', {
      records_json: JSON.stringify([{ content: 'Bread rises faster in a warm kitchen' }, { content: 'Sourdough needs a starter', store: 'semantic' }]),
      space,
    });
    expect(batch.results).toHaveLength(2);
    const [first, second] = batch.results.map((result: { record_id: string }) => result.record_id);
    await tool(client, 'store_raw', { content: 'we baked bread today', session_id: 'kitchen', space });
    const raw = await tool(client, 'batch_store_raw', {
      records_json: JSON.stringify([{ content: 'the loaf collapsed', session_id: 'kitchen', speaker: 'assistant' }]),
      space,
    });
    expect(raw.results).toHaveLength(1);
    expect(await toolError(client, 'batch_store_raw', { records_json: '[{"content":"x"}]', space })).toMatch(/session_id/);
    expect(await tool(client, 'update', { record_id: first, content: 'Bread rises faster somewhere warm', space })).toBe(`Updated record ${first}`);
    const rawHits = await tool(client, 'recall_raw', { session_id: 'kitchen', space });
    expect(rawHits.records.map((r: { text: string }) => r.text).sort()).toEqual(['the loaf collapsed', 'we baked bread today']);
    expect(await toolError(client, 'recall_raw', { start: new Date().toISOString(), space })).toMatch(/together/);
    const timeline = await tool(client, 'timeline', { granularity: 'DAY', space });
    expect(timeline.buckets.reduce((sum: number, bucket: { count: number }) => sum + bucket.count, 0)).toBe(2);
    expect(await toolError(client, 'timeline', { granularity: 'fortnight', space })).toMatch(/Valid options: minute, hour, day, week, month/);
    const gemini = await tool(client, 'recall', { query: 'sourdough', format: 'Gemini', budget_tokens: 200, space });
    expect(gemini.context).toMatchObject({ format: 'gemini', included: expect.arrayContaining([second]) });
    expect(await toolError(client, 'recall', { query: 'x', format: 'llama', space })).toMatch(/Valid options: claude, gpt, gemini/);
    expect(await tool(client, 'associate', { record_id: first, space })).toHaveProperty('memories');
    expect((await tool(client, 'graph', { center_id: first, space })).nodes.map((n: { id: string }) => n.id)).toContain(first);
    const forecast = await tool(client, 'decay_forecast', { record_ids: `${first},${second}`, forecast_at: new Date(Date.now() + 30 * 86_400_000).toISOString(), space });
    expect(forecast.forecasts).toHaveLength(2);
    expect(await tool(client, 'dream_tick', { session_id: 'kitchen', dry_run: true, space })).toMatchObject({ raw_records_processed: 2 });
    expect(await tool(client, 'consolidate', { dry_run: true, space })).toHaveProperty('records_processed');
    expect(await tool(client, 'set_mode', { mode: 'Perfect', scope: 'working' })).toBe('Recall mode set to perfect for working');
    expect(await tool(client, 'forget', { record_ids: second, confirm: true, space })).toEqual({ records_deleted: 1 });
    expect(await tool(client, 'stats', { space })).toMatchObject({ total_records: 1, raw_journal_records: 2 });
  });

  it('exports to a new file only, by name, inside <data_dir>/exports (the client is remote)', async () => {
    const client = await connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    const space = 'mcp-export';
    await tool(client, 'store', { content: 'Archive me', space });
    const target = join(server.dataDir, 'exports', 'backup.cma');
    const answer = await tool(client, 'export', { output_path: 'backup.cma', space });
    expect(answer).toMatch(/"record_count": 1/);
    expect(answer).toContain(`Archive written to: ${target}`);
    const lines = readFileSync(target, 'utf8').trim().split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ version: '2.0', record_count: 1 });
    expect(await toolError(client, 'export', { output_path: 'backup.cma', space })).toMatch(/already exists/);
    expect(await toolError(client, 'export', { output_path: '/tmp/x.cma', space })).toMatch(/name a file only/);
    await tool(client, 'export', { output_path: 'secret.cma', encrypt: true, encryption_key: 'correct horse', space });
    expect(readFileSync(join(server.dataDir, 'exports', 'secret.cma')).includes('Archive me')).toBe(false);
  });

  it("exports where the caller says when the MCP process is the caller's own (stdio), with the reference path rules", async () => {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await createMcpServer(localEndpoint(server.runtime.operations), VERSION).connect(serverSide);
    const client = await connect(clientSide);
    const space = 'mcp-export-caller';
    await tool(client, 'store', { content: 'Archive me too', space });
    const dir = tempDataDir('cerememory-export-');
    dirs.push(dir);
    const target = join(dir, 'backup.cma');
    expect(await tool(client, 'export', { output_path: target, space })).toContain(`Archive written to: ${target}`);
    expect(await toolError(client, 'export', { output_path: target, space })).toMatch(/already exists/);
    expect(await toolError(client, 'export', { output_path: `${dir}/../x.cma`, space })).toMatch(/'\.\.'/);
    expect(await toolError(client, 'export', { output_path: join(dir, 'missing', 'x.cma'), space })).toMatch(/does not exist/);
    expect(await toolError(client, 'export', { output_path: ' ', space })).toMatch(/must not be empty/);
  });

  it('refuses requests without a session and malformed JSON, and keeps serving', async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body });
    const malformed = await post('{nope');
    expect(malformed.status).toBe(400);
    expect((await malformed.json()).error.code).toBe(-32700);
    const notInitialize = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));
    expect(notInitialize.status).toBe(400);
    const unknownSession = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), { 'mcp-session-id': 'nope' });
    expect(unknownSession.status).toBe(404);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});

// `cerememory mcp` processes from source: the timeout is a safety net for a hang on a loaded machine.
describe('cerememory mcp over stdio', { timeout: 120_000 }, () => {
  it('runs the engine on the data directory when no server owns it, and keeps what it stored', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await connect(stdio(['--data-dir', dataDir, 'mcp']));
    const id = await roundTrip(first, 'default');
    await first.close();
    // a second process on the same directory finds the memory
    const second = await connect(stdio(['--data-dir', dataDir, 'mcp']));
    const record = await tool(second, 'inspect', { record_id: id });
    expect(record.id).toBe(id);
  });

  it('proxies to a running server with --server-url, and finds it through the data directory without', async () => {
    const proxy = await connect(stdio(['mcp', '--server-url', server.url]));
    const id = await roundTrip(proxy, 'mcp-proxy');
    const viaRest = await server.call('GET', `/v1/introspect/record/${id}?space=mcp-proxy`);
    expect(viaRest.status).toBe(200);

    const found = await connect(stdio(['--data-dir', server.dataDir, 'mcp']));
    expect(await tool(found, 'stats', { space: 'mcp-proxy' })).toMatchObject({ total_records: 1 });
  });

  it('refuses an API key over plain HTTP to another machine', async () => {
    const transport = stdio(['mcp', '--server-url', 'http://192.0.2.1:8420', '--server-api-key', 'k']);
    const client = new Client({ name: 'cerememory-test', version: '1.0.0' });
    await expect(client.connect(transport)).rejects.toThrow();
  });
});
