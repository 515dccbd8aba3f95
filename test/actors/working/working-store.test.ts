import { afterEach, describe, it, expect } from 'vitest';
import type { EventEnvelope, MutationEvent } from '../../../src/actors/store/events.js';
import type { StoreApi } from '../../../src/actors/store/protocol.js';
import { createWorkingStore } from '../../../src/actors/working/working-store.js';
import { LocalEmbedder } from '../../../src/embedding/local.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import type { MemoryRecord } from '../../../src/cmp/types.js';
import { association, at, envelope, memoryRecord, T0_MS, textContent } from '../../helpers/records.js';

let stores: StoreApi<MemoryRecord>[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function workingStore(capacity = 7): StoreApi<MemoryRecord> {
  const store = createWorkingStore({ capacity, idempotencyTtlMs: 60_000, embedder: new LocalEmbedder({ dimension: 64 }) });
  stores.push(store);
  return store;
}

/** A working-memory record last accessed `accessedMs` after T0. */
const record = (id: string, accessedMs = 0, overrides: Partial<MemoryRecord> = {}) => memoryRecord({ id, store: 'working', last_accessed_at: at(accessedMs), ...overrides });

let seq = 0;
const put = (records: MemoryRecord[], extra: Partial<EventEnvelope> = {}) => envelope({ type: 'records.put', records }, { seq: ++seq, ...extra });
const event = (mutation: MutationEvent, extra: Partial<EventEnvelope> = {}) => envelope(mutation, { seq: ++seq, ...extra });

/** Seven records r0..r6; r3 was accessed longest ago, though it was neither first nor last stored. */
const seven = () => [0, 1, 2, 3, 4, 5, 6].map((n) => record(`r${n}`, n === 3 ? -10_000 : n * 1000));

describe('capacity', () => {
  it('storing an 8th new record evicts the least recently accessed and reports it', async () => {
    const store = workingStore(7);
    await store.apply(put(seven()));

    const reply = await store.apply(put([record('new', 9000)]));

    expect(reply.evicted).toEqual(['r3']);
    expect(reply.removed).toEqual(['r3']);
    expect(reply.written.map((entry) => entry.id)).toEqual(['new']);
    expect(await store.get('default', 'r3')).toBeUndefined();
    expect(await store.get('default', 'new')).toBeDefined();
    expect((await store.stats('default')).records).toBe(7);
  });

  it('on equal last access, the earliest stored record leaves', async () => {
    const store = workingStore(2);
    await store.apply(put([record('first', 0)]));
    await store.apply(put([record('second', 0)]));

    const reply = await store.apply(put([record('third', 0)]));
    expect(reply.evicted).toEqual(['first']);
  });

  it('re-storing an existing id at capacity never evicts', async () => {
    const store = workingStore(7);
    await store.apply(put(seven()));

    const reply = await store.apply(put([record('r3', -10_000, { content: textContent('changed') })]));

    expect(reply.evicted).toEqual([]);
    expect(reply.removed).toEqual([]);
    expect((await store.stats('default')).records).toBe(7);
    expect((await store.get('default', 'r3'))?.content).toEqual(textContent('changed'));
  });

  it('updating a record at capacity never evicts', async () => {
    const store = workingStore(7);
    await store.apply(put(seven()));

    const reply = await store.apply(event({ type: 'record.updated', id: 'r0', fields: { metadata: { n: 1 } } }));

    expect(reply.evicted).toEqual([]);
    expect((await store.stats('default')).records).toBe(7);
  });

  it('each space has its own capacity', async () => {
    const store = workingStore(7);
    await store.apply(put(seven(), { space: 'a' }));

    const reply = await store.apply(put([record('b0')], { space: 'b' }));

    expect(reply.evicted).toEqual([]);
    expect((await store.stats('a')).records).toBe(7);
    expect((await store.stats('b')).records).toBe(1);
  });
});

describe('apply', () => {
  it('a replayed idempotency key writes nothing and returns the first entry', async () => {
    const store = workingStore();
    await store.apply(put([record('a', 0, { content: textContent('first') })], { idempotency_key: 'k', seq: 100 }));

    const reply = await store.apply(put([record('a', 0, { content: textContent('second') }), record('b')], { idempotency_key: 'k' }));

    expect(reply.replayed).toMatchObject({ seq: 100, written: ['a'] });
    expect(reply.written).toEqual([]);
    expect((await store.get('default', 'a'))?.content).toEqual(textContent('first'));
    expect(await store.get('default', 'b')).toBeUndefined();
    expect(await store.findIdempotent('default', 'k')).toMatchObject({ seq: 100 });
  });

  it('delete removes and reports unknown ids as missing', async () => {
    const store = workingStore();
    await store.apply(put([record('a')]));

    const reply = await store.apply(event({ type: 'records.deleted', ids: ['a', 'gone'] }));

    expect(reply).toMatchObject({ removed: ['a'], missing: ['gone'], evicted: [] });
    expect(await store.get('default', 'a')).toBeUndefined();
  });

  it('whenReady reports the highest sequence applied per space', async () => {
    const store = workingStore();
    await store.apply(put([record('a')], { space: 'a', seq: 5 }));
    await store.apply(put([record('b')], { space: 'b', seq: 9 }));

    expect(await store.whenReady()).toEqual({ name: 'working', sequences: { a: 5, b: 9 } });
  });
});

describe('stats', () => {
  it('totals follow writes, replacements and removals', async () => {
    const store = workingStore();
    await store.apply(
      put([
        record('a', 0, { created_at: at(2000), access_count: 3, associations: [association('b')] }),
        record('b', 0, { created_at: at(1000), access_count: 1 }),
        record('c', 0, { created_at: at(3000), fidelity: { ...memoryRecord().fidelity, score: 0.5 } }),
      ]),
    );
    await store.apply(put([record('a', 0, { created_at: at(2000), access_count: 10 })]));
    await store.apply(event({ type: 'records.deleted', ids: ['c'] }));

    expect(await store.stats('default')).toMatchObject({
      records: 2,
      fidelity_sum: 2,
      access_sum: 11,
      association_count: 0,
      oldest_created_at: at(1000),
      newest_created_at: at(2000),
    });
  });

  it('an unknown space has empty stats', async () => {
    const store = workingStore();
    expect(await store.stats('nowhere')).toMatchObject({ records: 0, oldest_created_at: null, newest_created_at: null });
  });
});

describe('indexes', () => {
  it('idsCreatedBetween is inclusive and oldest first; recent is newest first', async () => {
    const store = workingStore();
    await store.apply(put([record('c', 0, { created_at: at(2000) }), record('a', 0, { created_at: at(0) }), record('b', 0, { created_at: at(1000) })]));

    expect(await store.idsCreatedBetween('default', T0_MS, T0_MS + 1000)).toEqual(['a', 'b']);
    expect((await store.recent('default', 2)).map((stored) => stored.id)).toEqual(['c', 'b']);
  });
});

describe('compact', () => {
  it('drops idempotency entries older than the TTL and keeps recent ones', async () => {
    const store = workingStore();
    await store.apply(put([record('a')], { idempotency_key: 'old', at: '2000-01-01T00:00:00.000Z' }));
    await store.apply(put([record('b')], { idempotency_key: 'recent', at: new Date().toISOString() }));

    await store.compact();

    expect(await store.findIdempotent('default', 'old')).toBeUndefined();
    expect(await store.findIdempotent('default', 'recent')).toBeDefined();
    expect(await store.get('default', 'a')).toBeDefined();
  });
});

describe('after close', () => {
  const calls: [string, (store: StoreApi) => Promise<unknown>][] = [
    ['whenReady', (store) => store.whenReady()],
    ['apply', (store) => store.apply(put([record('a')]))],
    ['get', (store) => store.get('default', 'a')],
    ['getMany', (store) => store.getMany('default', ['a'])],
    ['findIdempotent', (store) => store.findIdempotent('default', 'k')],
    ['idsCreatedBetween', (store) => store.idsCreatedBetween('default', 0, Number.MAX_SAFE_INTEGER)],
    ['recent', (store) => store.recent('default', 10)],
    ['inSession', (store) => store.inSession('default', 's')],
    ['search', (store) => store.search('default', { text: 'x', vectors: [], k: 5, minSimilarity: 0 })],
    ['registry', (store) => store.registry()],
    ['stats', (store) => store.stats('default')],
    ['compact', (store) => store.compact()],
  ];

  it.each(calls)('%s fails with STORE_UNAVAILABLE, retryable', async (_, call) => {
    const store = workingStore();
    await store.apply(put([record('a')], { idempotency_key: 'k' }));
    await store.close();

    const error = await call(store).then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(isCmpError(error) && error.code).toBe('STORE_UNAVAILABLE');
    expect(isCmpError(error) && error.retryAfter).toBeGreaterThan(0);
  });

  it('close twice resolves', async () => {
    const store = workingStore();
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });
});

describe('byIntensity', () => {
  it('finds records whose emotion intensity lies in the range, inclusive, up to the limit', async () => {
    const store = workingStore(7);
    const feeling = (intensity: number) => ({ emotion: { ...memoryRecord().emotion, joy: 1, intensity } });
    await store.apply(put([record('vivid', 0, feeling(0.95)), record('middling', 0, feeling(0.5)), record('faint', 0, feeling(0.1))]));
    const ids = async (min: number, max: number, limit = 10) => (await store.byIntensity('default', min, max, limit)).map((found) => found.id).sort();
    expect(await ids(0.8, 1)).toEqual(['vivid']);
    expect(await ids(0.5, 0.5)).toEqual(['middling']);
    expect(await ids(0, 1)).toEqual(['faint', 'middling', 'vivid']);
    expect(await ids(0, 1, 0)).toEqual([]);
    expect(await ids(0, 1, 2)).toHaveLength(2);
  });
});
