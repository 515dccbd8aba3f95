import { afterEach, describe, expect, it } from 'vitest';
import type { StoreApi } from '../../../src/actors/store/protocol.js';
import { createWorkingStore } from '../../../src/actors/working/working-store.js';
import { LocalEmbedder } from '../../../src/embedding/local.js';
import { envelope, memoryRecord, textContent } from '../../helpers/records.js';

// The text hits a store returns for a recall (indexes.ts): the best by BM25, then the memories holding
// every word of the cue that BM25 ranked below the cut. Checked on the real store core.

const opened: StoreApi[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
});

async function storeOf(texts: Record<string, string>): Promise<StoreApi> {
  const store = createWorkingStore({ capacity: 100, idempotencyTtlMs: 60_000, embedder: new LocalEmbedder({ dimension: 16 }) });
  opened.push(store);
  const records = Object.entries(texts).map(([id, text]) => memoryRecord({ id, store: 'working', content: textContent(text) }));
  await store.apply(envelope({ type: 'records.put', records }, { seq: 1 }));
  return store;
}

const hitIds = async (store: StoreApi, text: string, k: number) => (await store.search('default', { text, vectors: [], k, minSimilarity: 0 })).text_hits.map((hit) => hit.id);

describe('text hits of a recall', () => {
  // Short memories with two of the cue's words, often, rank above the long one that holds all three.
  const TEXTS = {
    a: 'orbit lantern orbit lantern',
    b: 'orbit lantern lantern',
    c: 'lantern orbit orbit',
    d: 'brass brass',
    e: 'brass bell brass',
    target: 'the old keeper carried a brass lantern around the harbour while the ship kept its slow orbit of the bay and the gulls',
    other: 'nothing in common here',
  };

  it('adds the memories holding every word of the cue that BM25 ranked below the cut', async () => {
    const store = await storeOf(TEXTS);
    const found = await hitIds(store, 'brass lantern orbit', 2);
    expect(found.slice(0, 2)).not.toContain('target');
    expect(found).toContain('target');
    expect(found).not.toContain('other');
  });

  it('leaves a cue with its own query syntax as it is', async () => {
    const store = await storeOf(TEXTS);
    expect(await hitIds(store, 'lantern orbit -brass', 2)).not.toContain('target');
  });
});

describe('phrase hits of a recall', () => {
  // Every memory holds the three cue words; one holds them in the cue's order, and BM25 ranks it last
  // (the longest). Twelve short ones rank above it: a cut at k = 2 leaves it out of the text hits.
  const TEXTS: Record<string, string> = {
    ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`short-${i}`, 'kettle copper whistle copper kettle'])),
    target: 'every morning the copper kettle whistle woke the whole house before the sun came over the ridge',
    scattered: 'whistle once at the copper mine and then fetch the kettle from the long shed by the river bank',
  };
  const search = (store: StoreApi, text: string, phraseCandidates?: number) => store.search('default', { text, vectors: [], k: 2, minSimilarity: 0, phraseCandidates });

  it('reports the memories holding the cue word for word among those holding every word, and keeps them in the text hits', async () => {
    const store = await storeOf(TEXTS);
    const result = await search(store, 'copper kettle whistle', 20);
    expect(result.phrase_hits).toEqual([{ id: 'target', match: 1 }]);
    expect(result.text_hits.map((hit) => hit.id)).toContain('target');
    expect(result.text_hits.map((hit) => hit.id)).not.toContain('scattered');
  });

  it('reads only phraseCandidates of them, best by BM25 first, and none without the option', async () => {
    const store = await storeOf(TEXTS);
    expect((await search(store, 'copper kettle whistle', 5)).phrase_hits).toEqual([]);
    const without = await search(store, 'copper kettle whistle');
    expect(without.phrase_hits).toBeUndefined();
    expect(without.text_hits.map((hit) => hit.id)).not.toContain('target');
  });

  it('reads nothing for a one-word cue or a cue with its own query syntax', async () => {
    const store = await storeOf(TEXTS);
    expect((await search(store, 'kettle', 20)).phrase_hits).toBeUndefined();
    expect((await search(store, '"copper kettle" whistle', 20)).phrase_hits).toEqual([]);
  });
});
