import { afterEach, describe, expect, it } from 'vitest';
import type { StoreApi } from '../../../src/actors/store/protocol.js';
import { createWorkingStore } from '../../../src/actors/working/working-store.js';
import type { MemoryRecord } from '../../../src/cmp/types.js';
import { LocalEmbedder } from '../../../src/embedding/local.js';
import { association, envelope, memoryRecord, textContent } from '../../helpers/records.js';

// Session context (indexes.ts, config embedding.session_context): a memory linked to the one before it in
// its session is embedded as that memory's text followed by its own. Checked on the real store core and
// the real lexical embedder: the vector a store indexed for a memory is the embedder's vector of the
// expected text (cosine 1), found through the store's own vector search.

const embedder = new LocalEmbedder({ dimension: 64 });
const QUESTION = 'Do you still practise the violin every week?';
const REPLY = 'Yes, twice a week, with my daughter.';

const opened: StoreApi[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

function store(sessionContext: boolean): StoreApi {
  const working = createWorkingStore({ capacity: 100, idempotencyTtlMs: 60_000, embedder, sessionContext });
  opened.push(working);
  return working;
}

const turn = (id: string, text: string, session: string, before?: string): MemoryRecord =>
  memoryRecord({
    id,
    store: 'working',
    content: textContent(text),
    metadata: { _context: { session_id: session } },
    associations: before ? [association(before, { association_type: 'temporal', weight: 0.8 })] : [],
  });

let seq = 0;
const put = (records: MemoryRecord[]) => envelope({ type: 'records.put', records }, { seq: ++seq });

/** Cosine between the vector indexed for `id` and the embedder's vector of `text`. */
async function similarity(s: StoreApi, id: string, text: string): Promise<number | undefined> {
  const [vector] = await embedder.embed([text]);
  const { vector_hits } = await s.search('default', { text: null, vectors: [Array.from(vector!)], k: 10, minSimilarity: -1 });
  return vector_hits.find((hit) => hit.id === id)?.similarity;
}

describe('session context in a memory vector', () => {
  it('embeds a reply with the turn before it, whether that turn came in the same batch or an earlier one', async () => {
    const s = store(true);
    await s.apply(put([turn('q1', QUESTION, 's1'), turn('r1', REPLY, 's1', 'q1')]));
    await s.apply(put([turn('r2', 'Every Sunday morning.', 's1', 'r1')]));

    expect(await similarity(s, 'r1', `${QUESTION}\n${REPLY}`)).toBeCloseTo(1, 5);
    expect(await similarity(s, 'r1', REPLY)).toBeLessThan(0.99);
    expect(await similarity(s, 'r2', `${REPLY}\nEvery Sunday morning.`)).toBeCloseTo(1, 5);
    // The first turn of a session has nothing before it.
    expect(await similarity(s, 'q1', QUESTION)).toBeCloseTo(1, 5);
  });

  it('embeds a memory alone when the one it links to is of another session, absent, or the setting is off', async () => {
    const on = store(true);
    await on.apply(put([turn('q1', QUESTION, 's1'), turn('other', REPLY, 's2', 'q1'), turn('orphan', 'Every Sunday morning.', 's1', 'gone')]));
    expect(await similarity(on, 'other', REPLY)).toBeCloseTo(1, 5);
    expect(await similarity(on, 'orphan', 'Every Sunday morning.')).toBeCloseTo(1, 5);

    const off = store(false);
    await off.apply(put([turn('q1', QUESTION, 's1'), turn('r1', REPLY, 's1', 'q1')]));
    expect(await similarity(off, 'r1', REPLY)).toBeCloseTo(1, 5);
  });

  it('searches the text of the memory itself only, unless the search asks for turn context', async () => {
    const s = store(true);
    await s.apply(put([turn('q1', QUESTION, 's1'), turn('r1', REPLY, 's1', 'q1')]));
    const { text_hits } = await s.search('default', { text: 'violin', vectors: [], k: 10, minSimilarity: 0 });
    expect(text_hits.map((hit) => hit.id)).toEqual(['q1']);
    const context = { near: 0.5, far: 0.25 };
    const withContext = await s.search('default', { text: 'violin', vectors: [], k: 10, minSimilarity: 0, context });
    expect(withContext.text_hits.map((hit) => hit.id)).toEqual(['q1', 'r1']);
  });
});

describe('turn context in text search', () => {
  const context = { near: 0.5, far: 0.25 };
  const found = async (s: StoreApi, text: string) => (await s.search('default', { text, vectors: [], k: 10, minSimilarity: 0, context })).text_hits.map((hit) => hit.id);

  it('links a turn to the one before it across batches, not across sessions, and forgets with the record', async () => {
    const s = store(false);
    await s.apply(put([turn('q1', QUESTION, 's1')]));
    await s.apply(put([turn('r1', REPLY, 's1', 'q1'), turn('other', 'Sunday morning rehearsal.', 's2', 'q1')]));
    expect(await found(s, 'daughter')).toEqual(['r1', 'q1']);
    expect(await found(s, 'rehearsal')).toEqual(['other']);
    await s.apply(envelope({ type: 'records.deleted', ids: ['r1'] }, { seq: ++seq }));
    expect(await found(s, 'daughter')).toEqual([]);
    expect(await found(s, 'violin')).toEqual(['q1']);
  });
});
