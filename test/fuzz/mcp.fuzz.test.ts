import { readdirSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localEndpoint } from '../../src/transports/endpoint.js';
import { createMcpServer } from '../../src/transports/mcp/tools.js';
import { VERSION } from '../../src/version.js';
import { removeDir, startTestServer, tempDataDir, type TestServer } from '../helpers/server.js';
import { guardedSnapshot, seedGuarded } from './guard.js';
import { applyMutation, fuzzParameters, mutationOf } from './hostile.js';
import { FUZZ_SPACE } from './operations.js';

// The MCP tools under fuzzing (issue 14): each tool's valid arguments with one made hostile, through the
// SDK client, in memory and once over Streamable HTTP on the real port. A tool answers a result or a
// tool error that says what is wrong; never a raw TypeError or an internal error; the guarded spaces
// stay the same and `export` never writes outside its folder.

const space = { space: FUZZ_SPACE };
const rawItem = { content: 'a turn', session_id: 's', source: 'conversation', speaker: 'user', visibility: 'normal', secrecy_level: 'public', meta_json: '{"intent":"x"}' };

/** Seeds; `records` stands for `records_json`, mutated as a list and sent as its JSON text. */
const SEEDS: Record<string, (record: string) => Record<string, unknown>> = {
  store: () => ({ ...space, content: 'a memory', store: 'episodic', emotion: 'joy', meta_json: '{"intent":"remember"}' }),
  store_raw: () => ({ ...space, ...rawItem }),
  update: (record) => ({ ...space, record_id: record, content: 'updated', emotion: 'trust' }),
  batch_store: () => ({ ...space, records: [{ content: 'one', store: 'semantic', emotion: 'joy', meta_json: '{}' }, { content: 'two' }] }),
  batch_store_raw: () => ({ ...space, records: [rawItem, { ...rawItem, speaker: 'assistant' }] }),
  recall: () => ({ ...space, query: 'memory', limit: 5, stores: 'episodic,semantic', reconsolidate: false, activation_depth: 1, format: 'claude', budget_tokens: 100 }),
  recall_raw: () => ({ ...space, session_id: 's', query: 'turn', limit: 5, secrecy_levels: 'public' }),
  timeline: () => ({ ...space, start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z', granularity: 'day' }),
  associate: (record) => ({ ...space, record_id: record, depth: 1, limit: 5 }),
  graph: (record) => ({ ...space, center_id: record, depth: 1, limit_nodes: 5, edge_types: 'semantic', include_meta: true }),
  inspect: (record) => ({ ...space, record_id: record }),
  forget: () => ({ ...space, record_ids: '01a23abb-e678-71a2-a168-bd8d785047e1', confirm: true }),
  dream_tick: () => ({ ...space, dry_run: true, max_groups: 2 }),
  consolidate: () => ({ ...space, strategy: 'incremental', dry_run: true }),
  decay_forecast: (record) => ({ ...space, record_ids: record, forecast_at: '2030-01-01T00:00:00Z' }),
  set_mode: () => ({ mode: 'human', scope: 'episodic' }),
  stats: () => ({ ...space }),
  export: () => ({ ...space, output_path: 'fuzz.cma', format: 'cma' }),
};

/** What goes over the wire: `records` as the `records_json` text the tools take. */
function asSent(args: unknown): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return { value: args };
  const { records, ...rest } = args as Record<string, unknown>;
  return records === undefined ? rest : { ...rest, records_json: JSON.stringify(records) };
}

const RAW_FAILURE = /TypeError|ReferenceError|Cannot read prop|is not a function|is not iterable|Maximum call stack|internal error/i;

let server: TestServer;
let record: string;
let client: Client;
const exportDir = tempDataDir('cerememory-fuzz-exports-');
let guardedBefore: string;
beforeAll(async () => {
  server = await startTestServer({ flags: { decay: { background_enabled: false }, dream: { background_enabled: false } } });
  await seedGuarded(server);
  guardedBefore = await guardedSnapshot(server);
  record = (await server.call('POST', '/v1/encode', { space: FUZZ_SPACE, content: { blocks: [{ modality: 'text', format: 'text/plain', data: [104] }] } })).body.record_id;
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(localEndpoint(server.runtime.operations), VERSION, { exports: { kind: 'folder', directory: exportDir } }).connect(serverSide);
  client = new Client({ name: 'fuzz', version: '1' });
  await client.connect(clientSide);
});
afterAll(async () => {
  await client.close();
  await server.close();
  removeDir(server.dataDir);
  removeDir(exportDir);
});

async function callChecked(on: Client, name: string, args: Record<string, unknown>): Promise<void> {
  const label = `${name} ${JSON.stringify(args).slice(0, 300)}`;
  let answer: { isError?: boolean; content: { text?: string }[] } | undefined;
  let thrown: unknown;
  try {
    answer = (await on.callTool({ name, arguments: args })) as typeof answer;
  } catch (error) {
    thrown = error;
  }
  if (answer === undefined) {
    expect(thrown, label).toBeInstanceOf(McpError);
    expect((thrown as Error).message, label).not.toMatch(RAW_FAILURE);
    return;
  }
  const text = answer.content.map((part) => part.text ?? '').join('\n');
  if (answer.isError) {
    expect(text, label).not.toMatch(RAW_FAILURE);
    expect(text.trim(), label).not.toBe('');
  }
}

describe('MCP fuzz', () => {
  it.each(Object.keys(SEEDS))('%s: the valid seed works', async (name) => {
    const answer = (await client.callTool({ name, arguments: asSent(SEEDS[name]!(record)) })) as { isError?: boolean; content: { text: string }[] };
    expect(answer.isError, answer.content[0]?.text).toBeFalsy();
  });

  it.each(Object.keys(SEEDS))('%s: hostile arguments (in memory)', async (name) => {
    const valid = SEEDS[name]!(record);
    await fc.assert(
      fc.asyncProperty(mutationOf(valid), async (mutation) => {
        await callChecked(client, name, asSent(applyMutation(valid, mutation)));
      }),
      { ...fuzzParameters, numRuns: Math.ceil(fuzzParameters.numRuns / 2) },
    );
  });

  it('export writes only inside its folder, whatever output_path says', () => {
    for (const file of readdirSync(exportDir)) expect(file, file).not.toMatch(/[\\/]/);
  });

  it('over Streamable HTTP on the real port too', async () => {
    const http = new Client({ name: 'fuzz-http', version: '1' });
    await http.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...Object.keys(SEEDS)).chain((name) => mutationOf(SEEDS[name]!(record)).map((mutation) => ({ name, mutation }))),
          async ({ name, mutation }) => {
            await callChecked(http, name, asSent(applyMutation(SEEDS[name]!(record), mutation)));
          },
        ),
        { ...fuzzParameters, numRuns: 40 },
      );
    } finally {
      await http.close();
    }
  });

  it('leaves the guarded spaces exactly as they were', async () => {
    expect(await guardedSnapshot(server)).toBe(guardedBefore);
  });
});
