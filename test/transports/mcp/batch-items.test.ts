import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { describe, expect, it } from 'vitest';
import type { CmpEndpoint, CmpObject } from '../../../src/transports/endpoint.js';
import { createMcpServer } from '../../../src/transports/mcp/tools.js';

// Issue 14, defect 10: a batch item is held to the same schema as the single tool's arguments, so
// `null` or a number where a string belongs is a validation error naming the item's field, not a raw
// TypeError ("Cannot read properties of null"), and nothing reaches the engine.

/** An endpoint that records the CMP calls it gets and answers each with an empty result list. */
function recordingEndpoint(calls: string[]): CmpEndpoint {
  return {
    kind: 'local',
    call: async (name) => {
      calls.push(name);
      return { results: [] };
    },
    exportArchive: async () => ({}),
    importArchive: async () => ({}),
    close: async () => {},
  };
}

async function connected(calls: string[]): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(recordingEndpoint(calls), 'test').connect(serverSide);
  const client = new Client({ name: 'cerememory-test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

async function toolError(client: Client, name: string, records: CmpObject[]): Promise<string> {
  const answer = (await client.callTool({ name, arguments: { records_json: JSON.stringify(records) } })) as {
    isError?: boolean;
    content: { text: string }[];
  };
  expect(answer.isError, answer.content[0]?.text).toBe(true);
  return answer.content[0]!.text;
}

const raw = { content: 'the loaf collapsed', session_id: 'kitchen' };

type BadField = [field: string, value: null | number];

describe.each<[string, CmpObject, BadField[]]>([
  [
    'batch_store',
    { content: 'Bread rises faster in a warm kitchen' },
    [
      ['meta_json', null],
      ['emotion', null],
      ['emotion', 7],
      ['store', null],
      ['content', null],
    ],
  ],
  [
    'batch_store_raw',
    raw,
    [
      ['meta_json', null],
      ['source', null],
      ['speaker', 3],
      ['turn_id', null],
      ['session_id', null],
    ],
  ],
])('%s', (name, good, badFields) => {
  it.each(badFields)('refuses an item whose %s is %j with a VALIDATION_ERROR naming it', async (field, value) => {
    const calls: string[] = [];
    const client = await connected(calls);
    try {
      const message = await toolError(client, name, [good, { ...good, [field]: value }]);
      expect(message).toMatch(new RegExp(`VALIDATION_ERROR: records\\.1\\.${field}: expected string, received ${value === null ? 'null' : 'number'}`));
      expect(message).not.toMatch(/Cannot read properties/);
      expect(calls).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('still stores good items', async () => {
    const calls: string[] = [];
    const client = await connected(calls);
    try {
      const answer = await client.callTool({ name, arguments: { records_json: JSON.stringify([good]) } });
      expect(answer.isError).toBeFalsy();
      expect(calls).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});
