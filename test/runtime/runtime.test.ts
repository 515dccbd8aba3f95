import { afterEach, describe, expect, it } from 'vitest';
import type { CrashPoint } from '../../src/actors/store/protocol.js';
import { eventually } from '../helpers/eventually.js';
import { removeDir, startTestServer, tempDataDir, textContent, textOfRecord, type TestServer } from '../helpers/server.js';

// The whole runtime on a real data directory: persistence across restarts, a store worker crashed in
// the middle of work (at a named step, by the worker's fault hook), and the promise that no
// acknowledged write is lost.

const servers: TestServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function serve(dataDir?: string): Promise<TestServer> {
  const server = await startTestServer({ dataDir });
  servers.push(server);
  if (!dirs.includes(server.dataDir)) dirs.push(server.dataDir);
  return server;
}

async function stop(server: TestServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
}

describe('persistence', () => {
  it('keeps every persistent store, the raw journal and associations across a restart of the whole server', async () => {
    const first = await serve();
    const stored: Record<string, string> = {};
    for (const store of ['episodic', 'semantic', 'procedural', 'emotional'] as const) {
      const response = await first.call('POST', '/v1/encode', {
        content: textContent(`a ${store} memory`),
        store,
        emotion: store === 'emotional' ? { fear: 0.9, intensity: 0.9, valence: -0.8 } : undefined,
      });
      stored[store] = response.body.record_id;
    }
    await first.call('POST', '/v1/encode', {
      content: textContent('linked'),
      associations: [{ target_id: stored.semantic, association_type: 'semantic', weight: 0.8 }],
    });
    await first.call('POST', '/v1/encode', { content: textContent('scratch'), store: 'working' });
    await first.call('POST', '/v1/encode/raw', {
      session_id: 's',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      content: textContent('raw words'),
    });
    await stop(first);

    const second = await serve(first.dataDir);
    for (const [store, id] of Object.entries(stored)) {
      const { status, body } = await second.call('GET', `/v1/introspect/record/${id}`);
      expect(status).toBe(200);
      expect(body.store).toBe(store);
      expect(textOfRecord(body)).toBe(`a ${store} memory`);
    }
    const emotional = await second.call('GET', `/v1/introspect/record/${stored.emotional}`);
    expect(emotional.body.emotion).toMatchObject({ fear: 0.9, intensity: 0.9, valence: -0.8 });
    const stats = (await second.call('GET', '/v1/introspect/stats')).body;
    // Working memory is never persisted (spec §2.6); everything else is back, graph included.
    expect(stats.records_by_store).toEqual({ episodic: 2, semantic: 1, procedural: 1, emotional: 1, working: 0 });
    expect(stats.total_associations).toBe(1);
    expect(stats.raw_journal_records).toBe(1);
  });

  it('continues per-space sequences after a restart instead of starting again', async () => {
    const first = await serve();
    await first.call('POST', '/v1/encode', { content: textContent('one') });
    await stop(first);
    const second = await serve(first.dataDir);
    await second.call('POST', '/v1/encode', { content: textContent('two') });
    // The sequence lives in the partition: a reused number would overwrite the first event.
    expect((await second.call('GET', '/v1/introspect/stats')).body.total_records).toBe(2);
  });
});

describe('a store worker crashed mid-batch', () => {
  const batch = (index: number) => ({
    records: Array.from({ length: 100 }, (_, item) => ({ content: textContent(`batch ${index} item ${item}`), store: 'episodic' })),
  });
  const idsOf = (response: { body: { results: { record_id: string }[] } }) => response.body.results.map((result) => result.record_id);

  /** Three acknowledged batches, then a fourth whose episodic apply crashes the worker at `point`. */
  async function crashDuringFourthBatch(point: CrashPoint) {
    const server = await serve();
    const episodic = server.runtime.workers.get('episodic')!;
    const acknowledged: string[] = [];
    for (let index = 0; index < 3; index++) {
      const response = await server.call('POST', '/v1/encode/batch', batch(index), { 'idempotency-key': `batch-${index}` });
      expect(response.status).toBe(200);
      acknowledged.push(...idsOf(response));
    }
    // The fault hook, not a race: the worker ends at `point` of the next apply, whatever the timing. The
    // batches' similar-memory links are written in the background: armed before they are, the crash would
    // land in one of those applies instead of the fourth batch's.
    await eventually(async () => (await server.runtime.embedding()).links_pending === 0 && (await server.runtime.embedding()).vector_backlog === 0);
    await episodic.crashAt(point);
    const failed = await server.call('POST', '/v1/encode/batch', batch(3), { 'idempotency-key': 'batch-3' });
    return { server, episodic, acknowledged, failed };
  }

  async function expectRetryableCrash(failed: Awaited<ReturnType<typeof crashDuringFourthBatch>>['failed']) {
    expect(failed.status).toBe(503);
    expect(failed.body).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    // The crash guard answered it (the worker's exit), not the per-call deadline running out.
    expect(failed.body.message).toMatch(/restarted while handling this call/);
    expect(failed.body.retry_after).toBeGreaterThanOrEqual(1);
    expect(failed.headers.get('retry-after')).toBeTruthy();
  }

  async function expectAllStored(server: TestServer, ids: string[]) {
    const stats = (await server.call('GET', '/v1/introspect/stats')).body;
    expect(stats.records_by_store.episodic).toBe(400);
    for (const id of ids) expect((await server.call('GET', `/v1/introspect/record/${id}`)).status).toBe(200);
  }

  it('before the write: rejects the call in flight with a retryable STORE_UNAVAILABLE, restarts, and the retry stores the batch', async () => {
    const { server, episodic, acknowledged, failed } = await crashDuringFourthBatch('apply:before-write');
    await expectRetryableCrash(failed);

    // The other stores keep serving while episodic restarts.
    const semantic = await server.call('POST', '/v1/encode', { content: textContent('unaffected'), store: 'semantic' });
    expect(semantic.status).toBe(200);

    await eventually(() => episodic.health().state === 'ready' && episodic.health().restarts === 1);
    const retried = await server.call('POST', '/v1/encode/batch', batch(3), { 'idempotency-key': 'batch-3' });
    expect(retried.status).toBe(200);
    expect(new Set(idsOf(retried)).size).toBe(100);
    await expectAllStored(server, [...acknowledged, ...idsOf(retried)]);
  });

  it('after the write, before the answer: the retry with the same key finds the batch stored once and loses no acknowledged record', async () => {
    const { server, episodic, acknowledged, failed } = await crashDuringFourthBatch('apply:after-write');
    await expectRetryableCrash(failed);
    await eventually(() => episodic.health().state === 'ready' && episodic.health().restarts === 1);
    const retried = await server.call('POST', '/v1/encode/batch', batch(3), { 'idempotency-key': 'batch-3' });
    expect(retried.status).toBe(200);
    expect(new Set(idsOf(retried)).size).toBe(100);
    // 400, not 500: the write that landed before the crash is the one the retry answers with.
    await expectAllStored(server, [...acknowledged, ...idsOf(retried)]);
    expect((await server.call('POST', '/v1/encode/batch', batch(3), { 'idempotency-key': 'batch-3' })).body.results).toEqual(retried.body.results);
  });

  it('answers calls made while the store restarts with a retryable error, not a hang', async () => {
    const server = await serve();
    const episodic = server.runtime.workers.get('episodic')!;
    await episodic.kill();
    const during = await server.call('POST', '/v1/encode', { content: textContent('during restart'), store: 'episodic' });
    expect(during.status).toBe(503);
    expect(during.body.code).toBe('STORE_UNAVAILABLE');
    await eventually(() => episodic.health().state === 'ready');
    expect((await server.call('POST', '/v1/encode', { content: textContent('after restart'), store: 'episodic' })).status).toBe(200);
  });
});

describe('the data directory', () => {
  it('belongs to one server at a time', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    await serve(dataDir);
    await expect(startTestServer({ dataDir })).rejects.toMatchObject({
      name: 'DataDirLockedError',
      holderPid: process.pid,
      message: expect.stringContaining(`in use by process ${process.pid}`),
    });
  });
});
