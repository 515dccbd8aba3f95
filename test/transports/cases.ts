import type { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { isCmpError } from '../../src/cmp/errors.js';
import type { CerememoryClient } from '../../src/client/client.js';
import { textContent, textOfRecord, type TestResponse } from '../helpers/server.js';

// The cases every front door must pass (issue 18, move 5; the shape of Hono's
// `router/common.case.test.ts`): one `Door` per transport adapts REST, Connect and MCP to the same few
// calls, and `runTransportCases` runs the same behaviours over each, in process or on a real port.
// What a transport does that the others cannot express (Connect's binary-only empty Value, MCP's
// export folder, REST's envelope headers) stays in that transport's own tests.

/** The CMP operations the cases need, as each transport says them. Ids and texts in, plain data out. */
export interface Door {
  store(space: string, text: string, options?: { store?: string }): Promise<{ id: string; store: string }>;
  /** Recall by text (perfect rendering); the memories in rank order. */
  recall(space: string, query: string, options?: { reconsolidate?: boolean }): Promise<{ id: string; text: string }[]>;
  inspect(space: string, id: string): Promise<{ id: string; text: string; accessCount: number; version: number }>;
  update(space: string, id: string, text: string): Promise<void>;
  stats(space: string): Promise<{ totalRecords: number }>;
  forget(space: string, ids: string[], confirm: boolean): Promise<number>;
  /** The CMP code `call` failed with; fails the test when it succeeded. */
  codeOf(call: () => Promise<unknown>): Promise<string>;
}

const UNKNOWN_ID = '01900000-0000-7000-8000-000000000000';

/** Polls `probe` until it returns true; the deadline is only a safety net, never an assertion on time. */
async function eventually(probe: () => Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > giveUp) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The smallest round a real port must carry: store, recall it, and one named failure. */
export async function smokeRound(door: Door, space: string): Promise<void> {
  const stored = await door.store(space, 'The night train to Lisbon leaves at ten');
  expect((await door.recall(space, 'night train Lisbon'))[0]).toEqual({ id: stored.id, text: 'The night train to Lisbon leaves at ten' });
  expect(await door.codeOf(() => door.inspect(space, UNKNOWN_ID))).toBe('RECORD_NOT_FOUND');
}

export function runTransportCases({ name, makeDoor }: { name: string; makeDoor: () => Door | Promise<Door> }): void {
  describe(`${name}: the shared transport cases`, () => {
    let door: Door;
    const space = (what: string) => `${name.replace(/[^A-Za-z0-9]/g, '-')}-${what}`;
    beforeAll(async () => {
      door = await makeDoor();
    });

    it('stores a memory and recalls it by its words', async () => {
      const stored = await door.store(space('recall'), 'The lighthouse keeper fed the gulls', { store: 'episodic' });
      expect(stored.store).toBe('episodic');
      await door.store(space('recall'), 'Tide tables for the harbour', { store: 'semantic' });
      const memories = await door.recall(space('recall'), 'lighthouse gulls');
      expect(memories[0]).toEqual({ id: stored.id, text: 'The lighthouse keeper fed the gulls' });
      expect(await door.recall(space('elsewhere'), 'lighthouse gulls')).toEqual([]);
    });

    it('reads a record back and updates its content as a new version', async () => {
      const { id } = await door.store(space('update'), 'Bread rises faster in a warm kitchen');
      expect(await door.inspect(space('update'), id)).toMatchObject({ id, text: 'Bread rises faster in a warm kitchen', version: 1 });
      await door.update(space('update'), id, 'Bread rises faster somewhere warm');
      expect(await door.inspect(space('update'), id)).toMatchObject({ id, text: 'Bread rises faster somewhere warm', version: 2 });
    });

    it('strengthens what it recalls unless told not to (an explicit false, not the default)', async () => {
      const { id } = await door.store(space('reconsolidate'), 'Otters hold hands while they sleep');
      expect((await door.recall(space('reconsolidate'), 'otters sleep', { reconsolidate: false }))[0]?.id).toBe(id);
      expect((await door.recall(space('reconsolidate'), 'otters sleep', { reconsolidate: true }))[0]?.id).toBe(id);
      // Reconsolidation is written after the answer, in the order the recalls came: once the second
      // recall's access has landed, the first one's would have too. Exactly one means the false held.
      await eventually(async () => (await door.inspect(space('reconsolidate'), id)).accessCount >= 1, 'the access to land');
      expect((await door.inspect(space('reconsolidate'), id)).accessCount).toBe(1);
    });

    it('forgets only with consent, and counts what is left', async () => {
      const first = await door.store(space('forget'), 'Sourdough needs a starter');
      const second = await door.store(space('forget'), 'Rye bread keeps for a week');
      expect(await door.stats(space('forget'))).toEqual({ totalRecords: 2 });
      expect(await door.codeOf(() => door.forget(space('forget'), [first.id], false))).toBe('FORGET_UNCONFIRMED');
      expect(await door.stats(space('forget'))).toEqual({ totalRecords: 2 });
      expect(await door.forget(space('forget'), [first.id], true)).toBe(1);
      expect(await door.codeOf(() => door.inspect(space('forget'), first.id))).toBe('RECORD_NOT_FOUND');
      expect((await door.inspect(space('forget'), second.id)).id).toBe(second.id);
      expect(await door.stats(space('forget'))).toEqual({ totalRecords: 1 });
    });

    it('names the fault of a bad request, stores nothing, and keeps serving', async () => {
      expect(await door.codeOf(() => door.store(space('bad'), 'x', { store: 'attic' }))).toBe('STORE_INVALID');
      expect(await door.codeOf(() => door.inspect(space('bad'), UNKNOWN_ID))).toBe('RECORD_NOT_FOUND');
      expect(await door.codeOf(() => door.inspect(space('bad'), 'not-a-uuid'))).toBe('VALIDATION_ERROR');
      expect(await door.stats(space('bad'))).toEqual({ totalRecords: 0 });
      await smokeRound(door, space('after-bad'));
    });
  });
}

// ── the doors ────────────────────────────────────────────────────────────────────────────────────

/** Where a REST call goes: `TestServer.call` (real port) or `FrontDoors.call` (app.request). */
type RestCall = (method: string, path: string, body?: unknown) => Promise<TestResponse>;

class RestFailure extends Error {
  constructor(readonly response: TestResponse) {
    super(`HTTP ${response.status}: ${JSON.stringify(response.body)}`);
  }
}

export function restDoor(call: RestCall): Door {
  const ok = async (...args: Parameters<RestCall>) => {
    const response = await call(...args);
    if (response.status >= 300) throw new RestFailure(response);
    return response.body;
  };
  const query = (space: string) => `?space=${encodeURIComponent(space)}`;
  return {
    async store(space, text, options = {}) {
      const body = await ok('POST', '/v1/encode', { space, content: textContent(text), ...options });
      return { id: body.record_id, store: body.store };
    },
    async recall(space, text, options = {}) {
      const body = await ok('POST', '/v1/recall/query', { space, cue: { text }, recall_mode: 'perfect', ...options });
      return body.memories.map((memory: { record: any }) => ({ id: memory.record.id, text: textOfRecord(memory.record) }));
    },
    async inspect(space, id) {
      const record = await ok('GET', `/v1/introspect/record/${id}${query(space)}`);
      return { id: record.id, text: textOfRecord(record), accessCount: record.access_count, version: record.version };
    },
    async update(space, id, text) {
      await ok('PATCH', `/v1/encode/${id}`, { space, content: textContent(text) });
    },
    async stats(space) {
      return { totalRecords: (await ok('GET', `/v1/introspect/stats${query(space)}`)).total_records };
    },
    async forget(space, ids, confirm) {
      return (await ok('DELETE', '/v1/lifecycle/forget', { space, record_ids: ids, confirm })).records_deleted;
    },
    async codeOf(run) {
      const error = await run().then(
        () => expect.fail('expected the call to fail'),
        (reason: unknown) => reason,
      );
      expect(error, String(error)).toBeInstanceOf(RestFailure);
      const { status, body } = (error as RestFailure).response;
      expect(status).toBeGreaterThanOrEqual(400);
      return body.code;
    },
  };
}

const decoder = new TextDecoder();

/** The generated client's typed RPCs (`client.rpc`), whatever transport the client was built on. */
export function connectDoor(client: CerememoryClient): Door {
  const { rpc } = client;
  const content = (text: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: new TextEncoder().encode(text) }] });
  const textOf = (record: { content?: { blocks: { data: Uint8Array }[] } } | undefined) => decoder.decode(record?.content?.blocks[0]?.data);
  return {
    async store(space, text, options = {}) {
      const stored = await rpc.encodeStore({ space, content: content(text), ...options });
      return { id: stored.recordId, store: stored.store };
    },
    async recall(space, text, options = {}) {
      const recalled = await rpc.recallQuery({ space, cue: { text }, recallMode: 'perfect', ...options });
      return recalled.memories.map((memory) => ({ id: memory.record!.id, text: textOf(memory.record) }));
    },
    async inspect(space, id) {
      const { record } = await rpc.introspectRecord({ space, recordId: id });
      return { id: record!.id, text: textOf(record), accessCount: record!.accessCount, version: record!.version };
    },
    async update(space, id, text) {
      await rpc.encodeUpdate({ space, recordId: id, content: content(text) });
    },
    async stats(space) {
      return { totalRecords: (await rpc.stats({ space })).totalRecords };
    },
    async forget(space, ids, confirm) {
      return (await rpc.forget({ space, recordIds: ids, confirm })).recordsDeleted;
    },
    async codeOf(run) {
      const error = await run().then(
        () => expect.fail('expected the call to fail'),
        (reason: unknown) => reason,
      );
      expect(isCmpError(error), String(error)).toBe(true);
      return (error as { code: string }).code;
    },
  };
}

interface ToolAnswer {
  isError?: boolean;
  content: { type: string; text: string }[];
}

class ToolFailure extends Error {}

/** The MCP tools as an agent calls them; a failed tool's text is `MCP error <json-rpc code>: <CMP code>: …`. */
export function mcpDoor(client: McpClient): Door {
  const tool = async (name: string, args: Record<string, unknown>): Promise<any> => {
    const answer = (await client.callTool({ name, arguments: args })) as ToolAnswer;
    const text = answer.content[0]?.text ?? '';
    if (answer.isError) throw new ToolFailure(text);
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  return {
    async store(space, text, options = {}) {
      const stored = await tool('store', { space, content: text, ...options });
      return { id: stored.record_id, store: stored.store };
    },
    async recall(space, query, options = {}) {
      const recalled = await tool('recall', { space, query, ...options });
      return recalled.memories.map((memory: { record_id: string; text: string }) => ({ id: memory.record_id, text: memory.text }));
    },
    async inspect(space, id) {
      const record = await tool('inspect', { space, record_id: id });
      return { id: record.id, text: textOfRecord(record), accessCount: record.access_count, version: record.version };
    },
    async update(space, id, text) {
      expect(await tool('update', { space, record_id: id, content: text })).toBe(`Updated record ${id}`);
    },
    async stats(space) {
      return { totalRecords: (await tool('stats', { space })).total_records };
    },
    async forget(space, ids, confirm) {
      return (await tool('forget', { space, record_ids: ids.join(','), confirm })).records_deleted;
    },
    async codeOf(run) {
      const error = await run().then(
        () => expect.fail('expected the tool to fail'),
        (reason: unknown) => reason,
      );
      expect(error, String(error)).toBeInstanceOf(ToolFailure);
      const code = /^MCP error -?\d+: ([A-Z_]+):/.exec((error as ToolFailure).message)?.[1];
      expect(code, (error as ToolFailure).message).toBeDefined();
      return code!;
    },
  };
}
