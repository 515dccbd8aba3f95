import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXACT, encode, encodeBatch, idsOf, recall, waitFor } from '../../helpers/recall.js';
import { removeDir, startTestServer, tempDataDir, textContent, type TestServer } from '../../helpers/server.js';

// Recall across restarts and crashes (DESIGN §1, §2 item 3; spec §2.9): each store's BM25 + HNSW indexes
// are snapshotted in <data_dir>/<store>.indexes/ and loaded at start without a rebuild, caught up from
// the event log after a worker crash, and rebuilt from LevelDB when the snapshot is gone. While one
// store worker is down, recall answers from the others and names the one it skipped.
//
// The tests run in order over one data directory: start → restart → worker crash → restart without the
// episodic snapshot → another worker down.

const dataDir = tempDataDir('cerememory-recall-durability-');
// A long restart backoff keeps a killed worker down for a few seconds, long enough to recall meanwhile.
const flags = { runtime: { restart_backoff_initial_ms: 2000, restart_backoff_max_ms: 2000 } };
const space = 'durable';
let server: TestServer;

afterAll(async () => {
  await server?.close();
  removeDir(dataDir);
});

const ids: Record<string, string> = {};
let chain: string[] = [];
const queries: Record<string, Record<string, unknown>> = {
  text: { cue: { text: 'lighthouse lamp' }, ...EXACT },
  pieces: { cue: { text: 'auth' }, ...EXACT },
  caller: { cue: { embedding: [1, 0, 0, 0] }, ...EXACT },
  structured: { cue: { text: 'python' }, ...EXACT },
  recent: { cue: {}, limit: 50, ...EXACT },
};
const answers: Record<string, string[]> = {};
let vectorCount = 0;
let statsBefore: Record<string, unknown> = {};

const stats = async () => (await server.call('GET', `/v1/introspect/stats?space=${space}`)).body;
const rebuildLines = () => server.logs.filter((line) => /rebuild/i.test(line));
const waitUntilReady = () => waitFor(async () => ((await server.call('GET', '/readiness')).status === 200 ? true : undefined), 20_000, 'all store workers ready');

beforeAll(async () => {
  server = await startTestServer({ dataDir, flags });
  ids.lighthouse = await encode(server, space, textContent('The lighthouse keeper lit the lamp at dusk'), { store: 'episodic' });
  ids.fresnel = await encode(server, space, textContent('Lighthouse lamps use Fresnel lenses', 'Fresnel lighthouse lamps'), { store: 'semantic' });
  ids.auth = await encode(server, space, textContent('Authentication tokens expired'), { store: 'procedural' });
  ids.caller = await encode(
    server,
    space,
    {
      blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from('a note with its own vector')], embedding: [1, 0.2, 0, 0] }],
    },
    { store: 'episodic' },
  );
  ids.structured = await encode(
    server,
    space,
    {
      blocks: [{ modality: 'structured', format: 'application/json', data: [...Buffer.from(JSON.stringify({ name: 'Alice', tags: ['rust', 'python'] }))] }],
    },
    { store: 'episodic' },
  );
  ids.pilot = await encode(server, space, textContent('Harbour pilot schedule'), {
    store: 'episodic',
    associations: [{ target_id: ids.fresnel, association_type: 'causal', weight: 0.9 }],
  });
  chain = await encodeBatch(
    server,
    space,
    ['Alpha station', 'Bravo station', 'Charlie station'].map((text) => ({ content: textContent(text), store: 'episodic' })),
    true,
  );
  ids.updated = await encode(server, space, textContent('The walrus guarded the ice floe'), { store: 'episodic' });
  expect((await server.call('PATCH', `/v1/encode/${ids.updated}`, { space, content: textContent('The pelican dove for sardines') })).status).toBe(204);
  ids.forgotten = await encode(server, space, textContent('A lighthouse postcard to forget'), { store: 'episodic' });
  await server.call('DELETE', '/v1/lifecycle/forget', { space, record_ids: [ids.forgotten], confirm: true });

  for (const [name, query] of Object.entries(queries)) answers[name] = idsOf(await recall(server, space, query));
  vectorCount = (await stats()).vector_index_records;
  statsBefore = await stats();
  // What the answers are, so that "the same after a restart" means something.
  expect(answers.text.slice(0, 2).sort()).toEqual([ids.lighthouse, ids.fresnel].sort());
  expect(answers.text).not.toContain(ids.forgotten);
  expect(answers.pieces).toEqual([ids.auth]);
  expect(answers.caller).toEqual([ids.caller]);
  expect(answers.structured).toEqual([ids.structured]);
  expect(answers.recent).toHaveLength(10);
});

describe('index snapshots', () => {
  it('survive a restart: the same recall answers the same ids, and nothing is rebuilt', async () => {
    await server.close();
    server = await startTestServer({ dataDir, flags });
    for (const [name, query] of Object.entries(queries)) {
      expect(idsOf(await recall(server, space, query)), name).toEqual(answers[name]);
    }
    expect(rebuildLines()).toEqual([]);
    expect((await stats()).vector_index_records).toBe(vectorCount);
  });

  it('carry the aggregates and the association registry: stats after a restart are those before', async () => {
    // The snapshot holds them (derived-state.ts), so the restart above counted no record; what it read
    // back must be what the records say. (The recalls in between moved only the evolution engine.)
    const { evolution_metrics: _after, ...after } = await stats();
    const { evolution_metrics: _before, ...before } = statsBefore;
    expect(after).toEqual(before);
  });

  it('keep forgotten and updated records as they were left', async () => {
    expect(idsOf(await recall(server, space, { cue: { text: 'postcard' }, ...EXACT }))).toEqual([]);
    expect(idsOf(await recall(server, space, { cue: { text: 'walrus' }, ...EXACT }))).toEqual([]);
    expect(idsOf(await recall(server, space, { cue: { text: 'pelican sardines' }, ...EXACT }))).toEqual([ids.updated]);
  });

  it('keep the batch associations (spreading activation after the restart)', async () => {
    const [a, b, c] = chain;
    const associated = await server.call('POST', `/v1/recall/associate/${a}`, { space });
    expect(idsOf(associated.body)).toEqual([b, c]);
    const activated = await recall(server, space, { cue: { text: 'Alpha' }, ...EXACT, activation_depth: 2 });
    expect(activated.memories.find((memory: { record: { id: string } }) => memory.record.id === c)?.activation_path).toEqual([a, b, c]);
  });

  it('are caught up from the event log when a crashed worker restarts', async () => {
    const nebula = await encode(server, space, textContent('Nebula observation log'), { store: 'episodic' });
    await server.runtime.workers.get('episodic')!.kill();
    await waitUntilReady();
    expect(idsOf(await recall(server, space, { cue: { text: 'nebula' }, ...EXACT }))).toEqual([nebula]);
    expect(idsOf(await recall(server, space, queries.text))).toEqual(answers.text);
    expect(rebuildLines()).toEqual([]);
    answers.recent = [nebula, ...answers.recent];
  });

  it('are rebuilt when their files are gone, and recall answers as before', async () => {
    await server.close();
    rmSync(join(dataDir, 'episodic.indexes'), { recursive: true, force: true });
    server = await startTestServer({ dataDir, flags });
    expect(rebuildLines().some((line) => line.startsWith('episodic: rebuilding indexes'))).toBe(true);
    expect(rebuildLines().filter((line) => !line.startsWith('episodic:'))).toEqual([]);
    for (const [name, query] of Object.entries(queries)) {
      expect(idsOf(await recall(server, space, query)), name).toEqual(answers[name]);
    }
  });
});

describe('a store worker down', () => {
  it('recall answers from the other stores and names the one it skipped', async () => {
    await waitUntilReady();
    await server.runtime.workers.get('semantic')!.kill();

    const byText = await recall(server, space, queries.text);
    expect(idsOf(byText)).toContain(ids.lighthouse);
    expect(idsOf(byText)).not.toContain(ids.fresnel);
    expect(byText.query_metadata.stores_unavailable).toEqual(['semantic']);
    expect(byText.query_metadata.stores_searched).not.toContain('semantic');

    // The recency listing degrades the same way.
    const listing = await recall(server, space, queries.recent);
    expect(listing.query_metadata.stores_unavailable).toEqual(['semantic']);
    expect(idsOf(listing)).toEqual(answers.recent.filter((id) => id !== ids.fresnel));

    // Activation towards a record of the stopped store skips it instead of failing the recall.
    const activated = await recall(server, space, { cue: { text: 'harbour pilot' }, ...EXACT, activation_depth: 2 });
    expect(idsOf(activated)).toEqual([ids.pilot]);
    expect(activated.query_metadata.stores_unavailable).toEqual(['semantic']);

    // With no store left to ask, the answer is a retryable STORE_UNAVAILABLE.
    const none = await server.call('POST', '/v1/recall/query', { space, stores: ['semantic'], ...queries.text });
    expect(none.status).toBe(503);
    expect(none.body.code).toBe('STORE_UNAVAILABLE');
    expect(Number(none.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('once the worker is back, recall sees every store again', async () => {
    await waitUntilReady();
    const byText = await recall(server, space, queries.text);
    expect(idsOf(byText)).toEqual(answers.text);
    expect(byText.query_metadata.stores_unavailable).toBeUndefined();
    expect(idsOf(await recall(server, space, { cue: { text: 'harbour pilot' }, ...EXACT, activation_depth: 2 }))).toEqual([ids.pilot, ids.fresnel]);
  });
});

describe('changing the embedder', () => {
  it('re-embeds every record at the next start, with progress lines, and recall keeps working', async () => {
    const first = await startTestServer({ flags: { embedding: { dimension: 256 } } });
    const id = (await first.call('POST', '/v1/encode', { content: textContent('the invoice export runs every night'), store: 'episodic' })).body.record_id;
    await first.close();
    const second = await startTestServer({ dataDir: first.dataDir, flags: { embedding: { dimension: 128 } } });
    try {
      const lines = second.logs.filter((line) => line.startsWith('episodic:'));
      expect(lines.some((line) => /rebuilding indexes: .*local-hash-v1\/256.*local-hash-v1\/128.*re-embedding/.test(line))).toBe(true);
      expect(lines.some((line) => /indexes rebuilt \(1 records\)/.test(line))).toBe(true);
      expect((await second.call('GET', '/v1/introspect/stats')).body.embedder).toBe('local-hash-v1/128');
      const recalled = await second.call('POST', '/v1/recall/query', { cue: { text: 'nightly invoices export' }, reconsolidate: false });
      expect(recalled.body.memories[0].record.id).toBe(id);
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });
});
