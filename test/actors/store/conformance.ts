import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventEnvelope, MutationEvent } from '../../../src/actors/store/events.js';
import type { StoreApi } from '../../../src/actors/store/protocol.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import type { MemoryRecord } from '../../../src/cmp/types.js';
import { association, at, envelope, memoryRecord, rawRecord, T0_MS, textContent } from '../../helpers/records.js';

// The store conformance suite (issue 18, move 2): the behaviours every store backend must give the
// store core (store-core.ts), run once per backend, like abstract-level's test/index.js and Hono's
// router/common.case.test.ts. A backend's test file is a few lines: `runStoreConformance({ ... })`.
// What differs between backends is declared (`persistent`), and the cases follow it.

export interface StoreUnderTest {
  /** The backend's name, for the describe block. */
  name: string;
  /** Whether what a store holds survives closing it and opening it again on the same `place`. */
  persistent: boolean;
  /**
   * Opens a store over `place` (a fresh temporary directory per test; a memory backend ignores it),
   * whose compaction drops idempotency entries older than a minute.
   */
  open(place: string): Promise<StoreApi>;
}

export function runStoreConformance(backend: StoreUnderTest): void {
  describe(`store conformance: ${backend.name}`, () => {
    let place: string;
    let open: StoreApi[];
    let seq: number;

    beforeEach(async () => {
      place = await mkdtemp(join(tmpdir(), 'cerememory-conformance-'));
      open = [];
      seq = 0;
    });

    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
      await rm(place, { recursive: true, force: true });
    });

    async function store(): Promise<StoreApi> {
      const opened = await backend.open(place);
      open.push(opened);
      return opened;
    }

    async function reopen(previous: StoreApi): Promise<StoreApi> {
      await previous.close();
      open.splice(open.indexOf(previous), 1);
      return store();
    }

    const event = (mutation: MutationEvent, extra: Partial<EventEnvelope> = {}) => envelope(mutation, { seq: ++seq, ...extra });
    const put = (records: MemoryRecord[], extra: Partial<EventEnvelope> = {}) => event({ type: 'records.put', records }, extra);
    const record = (id: string, overrides: Partial<MemoryRecord> = {}) => memoryRecord({ id, store: 'working', ...overrides });
    const ids = (records: { id: string }[]) => records.map((found) => found.id);

    describe('put and get', () => {
      it('a put record reads back whole; getMany answers in the order asked, undefined where absent', async () => {
        const s = await store();
        const a = record('a', { content: textContent('the lighthouse keeper') });
        const reply = await s.apply(put([a, record('b')]));

        expect(ids(reply.written)).toEqual(['a', 'b']);
        expect(reply.removed).toEqual([]);
        expect(await s.get('default', 'a')).toEqual(a);
        expect(ids((await s.getMany('default', ['b', 'nope', 'a'])).map((found) => found ?? { id: '-' }))).toEqual(['b', '-', 'a']);
        expect(await s.get('default', 'nope')).toBeUndefined();
      });

      it('spaces are apart: a record of one space is not found in another', async () => {
        const s = await store();
        await s.apply(put([record('a')], { space: 'left' }));
        await s.apply(put([record('b')], { space: 'right' }));

        expect(await s.get('right', 'a')).toBeUndefined();
        expect(ids(await s.page('left', null, 10))).toEqual(['a']);
        expect((await s.spaces()).sort()).toEqual(['left', 'right']);
        expect((await s.whenReady()).sequences).toEqual({ left: 1, right: 2 });
      });
    });

    describe('update and delete', () => {
      it('record.updated writes a new version and leaves the count as it was', async () => {
        const s = await store();
        await s.apply(put([record('a')]));

        const reply = await s.apply(event({ type: 'record.updated', id: 'a', fields: { metadata: { topic: 'sea' } } }));

        expect(ids(reply.written)).toEqual(['a']);
        expect(await s.get('default', 'a')).toMatchObject({ version: 2, metadata: { topic: 'sea' } });
        expect((await s.stats('default')).records).toBe(1);
      });

      it('an update of an unknown id writes nothing and names it missing', async () => {
        const s = await store();
        const reply = await s.apply(event({ type: 'record.updated', id: 'ghost', fields: { metadata: {} } }));
        expect(reply).toMatchObject({ written: [], removed: [], missing: ['ghost'] });
      });

      it('records.deleted removes what exists, names what did not, and takes it out of stats, registry and search', async () => {
        const s = await store();
        await s.apply(put([record('a', { content: textContent('harbour lights') }), record('b')]));

        const reply = await s.apply(event({ type: 'records.deleted', ids: ['a', 'gone'] }));

        expect(reply).toMatchObject({ removed: ['a'], missing: ['gone'] });
        expect(await s.get('default', 'a')).toBeUndefined();
        expect((await s.stats('default')).records).toBe(1);
        expect(ids((await s.registry()).default)).toEqual(['b']);
        expect((await s.search('default', { text: 'harbour', vectors: [], k: 5, minSimilarity: 0 })).text_hits).toEqual([]);
      });
    });

    describe('atomicity and bad input', () => {
      it('the records of one put are written together', async () => {
        const s = await store();
        await s.apply(put([record('a'), record('b'), record('c')]));
        expect((await s.getMany('default', ['a', 'b', 'c'])).every((found) => found !== undefined)).toBe(true);
        expect((await s.stats('default')).records).toBe(3);
      });

      it('an event that cannot apply fails naming the field, and leaves records and sequence as they were', async () => {
        const s = await store();
        const raw = rawRecord({ id: 'raw-1' });
        await s.apply(event({ type: 'records.put', records: [raw] }));

        const error = await s.apply(event({ type: 'record.updated', id: 'raw-1', fields: { metadata: { x: 1 } } })).then(
          () => undefined,
          (reason: unknown) => reason,
        );

        expect(isCmpError(error) && error.code).toBe('VALIDATION_ERROR');
        expect(isCmpError(error) && error.field).toBe('record_id');
        expect(await s.get('default', 'raw-1')).toEqual(raw);
        expect((await s.whenReady()).sequences).toEqual({ default: 1 });
        // The store goes on: the next event applies.
        expect(ids((await s.apply(put([record('after')]))).written)).toEqual(['after']);
      });
    });

    describe('idempotency', () => {
      it('an envelope whose key was applied writes nothing and returns the first entry', async () => {
        const s = await store();
        await s.apply(put([record('a', { content: textContent('first') })], { idempotency_key: 'k' }));

        const reply = await s.apply(put([record('a', { content: textContent('second') }), record('b')], { idempotency_key: 'k' }));

        expect(reply.replayed).toMatchObject({ seq: 1, written: ['a'] });
        expect(reply.written).toEqual([]);
        expect((await s.get('default', 'a'))?.content).toEqual(textContent('first'));
        expect(await s.get('default', 'b')).toBeUndefined();
        expect(await s.findIdempotent('default', 'k')).toMatchObject({ seq: 1, written: ['a'], removed: [], missing: [] });
        expect(await s.findIdempotent('default', 'other')).toBeUndefined();
      });
    });

    describe('iteration order', () => {
      const three = () => [record('c', { created_at: at(2000) }), record('a', { created_at: at(0) }), record('b', { created_at: at(1000) })];

      it('page walks a space in id order from a cursor', async () => {
        const s = await store();
        await s.apply(put(three()));
        expect(ids(await s.page('default', null, 2))).toEqual(['a', 'b']);
        expect(ids(await s.page('default', 'b', 2))).toEqual(['c']);
        expect(await s.page('default', 'c', 2)).toEqual([]);
      });

      it('recent is newest first; createdBetween and idsCreatedBetween are oldest first with inclusive bounds', async () => {
        const s = await store();
        await s.apply(put(three()));
        expect(ids(await s.recent('default', 2))).toEqual(['c', 'b']);
        expect(ids(await s.createdBetween('default', T0_MS, T0_MS + 2000, 2))).toEqual(['a', 'b']);
        expect(await s.idsCreatedBetween('default', T0_MS + 1000, T0_MS + 2000)).toEqual(['b', 'c']);
      });

      it('inSession gives the records of one raw-journal session, oldest first', async () => {
        const s = await store();
        const raw = (id: string, session_id: string, offsetMs: number) => rawRecord({ id, session_id, created_at: at(offsetMs) });
        await s.apply(event({ type: 'records.put', records: [raw('late', 's1', 2000), raw('other', 's2', 0), raw('early', 's1', 1000)] }));
        expect(ids(await s.inSession('default', 's1'))).toEqual(['early', 'late']);
        expect(await s.inSession('default', 'none')).toEqual([]);
      });

      it('byIntensity finds records in the range, inclusive, up to the limit', async () => {
        const s = await store();
        const feeling = (intensity: number) => ({ emotion: { ...memoryRecord().emotion, joy: 1, intensity } });
        await s.apply(put([record('vivid', feeling(0.95)), record('middling', feeling(0.5)), record('faint', feeling(0.1))]));
        expect(ids(await s.byIntensity('default', 0.5, 1, 10))).toEqual(['middling', 'vivid']);
        expect(await s.byIntensity('default', 0, 1, 0)).toEqual([]);
      });
    });

    describe('derived state', () => {
      it('stats and registry follow writes, replacements and removals', async () => {
        const s = await store();
        await s.apply(
          put([
            record('a', { created_at: at(2000), access_count: 3, associations: [association('b')] }),
            record('b', { created_at: at(1000), access_count: 1 }),
            record('c', { created_at: at(3000) }),
          ]),
        );
        await s.apply(put([record('a', { created_at: at(2000), access_count: 10 })]));
        await s.apply(event({ type: 'records.deleted', ids: ['c'] }));

        expect(await s.stats('default')).toMatchObject({
          records: 2,
          access_sum: 11,
          association_count: 0,
          oldest_created_at: at(1000),
          newest_created_at: at(2000),
        });
        expect((await s.registry()).default.map((entry) => entry.id).sort()).toEqual(['a', 'b']);
      });

      it('search finds a record by its text, with or without the records', async () => {
        const s = await store();
        await s.apply(put([record('a', { content: textContent('the lighthouse keeper') }), record('b')]));
        const query = { text: 'lighthouse', vectors: [], k: 5, minSimilarity: 0 };
        const found = await s.search('default', query);
        expect(found.text_hits.map((hit) => hit.id)).toEqual(['a']);
        expect(ids(found.records)).toEqual(['a']);
        expect((await s.search('default', { ...query, withRecords: false })).records).toEqual([]);
      });

      it('an unknown space has empty stats', async () => {
        const s = await store();
        expect(await s.stats('nowhere')).toMatchObject({ records: 0, oldest_created_at: null, newest_created_at: null });
      });
    });

    describe('compact', () => {
      it('drops idempotency entries past their time (one minute here) and keeps the records and recent entries', async () => {
        const s = await store();
        await s.apply(put([record('a')], { idempotency_key: 'old', at: '2000-01-01T00:00:00.000Z' }));
        await s.apply(put([record('b')], { idempotency_key: 'recent', at: new Date().toISOString() }));

        await s.compact();

        expect(await s.findIdempotent('default', 'old')).toBeUndefined();
        expect(await s.findIdempotent('default', 'recent')).toBeDefined();
        expect((await s.getMany('default', ['a', 'b'])).every((found) => found !== undefined)).toBe(true);
      });
    });

    describe('restart', () => {
      it(backend.persistent ? 'records, sequences, registry, stats and search survive closing and opening again' : 'opening again starts empty', async () => {
        const first = await store();
        await first.apply(put([record('a', { content: textContent('the lighthouse keeper'), associations: [association('b')] }), record('b')]));
        await first.apply(event({ type: 'record.updated', id: 'b', fields: { metadata: { n: 1 } } }));
        const before = { a: await first.get('default', 'a'), registry: await first.registry(), stats: await first.stats('default') };

        const second = await reopen(first);

        if (!backend.persistent) {
          expect(await second.get('default', 'a')).toBeUndefined();
          expect((await second.whenReady()).sequences).toEqual({});
          return;
        }
        expect(await second.get('default', 'a')).toEqual(before.a);
        expect(await second.get('default', 'b')).toMatchObject({ version: 2 });
        expect((await second.whenReady()).sequences).toEqual({ default: 2 });
        expect(await second.registry()).toEqual(before.registry);
        expect(await second.stats('default')).toEqual(before.stats);
        expect((await second.search('default', { text: 'lighthouse', vectors: [], k: 5, minSimilarity: 0 })).text_hits.map((hit) => hit.id)).toEqual(['a']);
      });
    });

    describe('after close', () => {
      it('calls fail with STORE_UNAVAILABLE, retryable', async () => {
        const s = await store();
        await s.close();
        open.splice(open.indexOf(s), 1);
        for (const call of [() => s.get('default', 'a'), () => s.apply(put([record('a')])), () => s.stats('default')]) {
          const error = await call().then(
            () => undefined,
            (reason: unknown) => reason,
          );
          expect(isCmpError(error) && error.code).toBe('STORE_UNAVAILABLE');
          expect(isCmpError(error) && error.retryAfter).toBeGreaterThan(0);
        }
      });
    });
  });
}
