import { describe, expect, it } from 'vitest';
import { AssociationGraph } from '../../../src/actors/hippocampus/association-graph.js';
import type { Ledger } from '../../../src/actors/hippocampus/ledger.js';
import type { EventEnvelope } from '../../../src/actors/store/events.js';
import type { ApplyReply, DecayJob, RegistryEntry, Stores } from '../../../src/actors/store/protocol.js';
import type { PartitionName } from '../../../src/cmp/types.js';

// What every Ledger must do (issue 18, move 1: the seam cluster mode replaces), run against each
// implementation in the Hono `router/common.case.test.ts` shape: `runLedgerCases({ newLedger })`.
// The stores are fakes that record the envelopes they are sent and answer scripted replies (exported for
// the cluster tests, whose ledgers share a log).

export interface LedgerFixture {
  stores: Stores;
  graph: AssociationGraph;
  now: () => number;
}

const PARTITIONS: PartitionName[] = ['working', 'episodic', 'semantic', 'procedural', 'emotional', 'raw_journal'];
const S = 'default';
const NOW = Date.parse('2026-06-01T12:00:00.000Z');

const entry = (id: string, ...targets: string[]): RegistryEntry => ({
  id,
  created_at: '2026-01-01T00:00:00.000Z',
  associations: targets.map((target_id) => ({ target_id, association_type: 'semantic', weight: 0.5 })),
});

export interface FakeStores {
  stores: Stores;
  /** Every envelope applied, in arrival order, with the partition it went to. */
  applied: { partition: PartitionName; envelope: EventEnvelope; vectors?: Record<string, number[]> }[];
  decayed: { partition: PartitionName; space: string; job: DecayJob }[];
  asked: PartitionName[];
  /** The next reply of a partition's apply (default: nothing written). */
  replies: Partial<Record<PartitionName, ApplyReply[]>>;
}

export function fakeStores(sequences: Partial<Record<PartitionName, Record<string, number>>> = {}): FakeStores {
  const fake: FakeStores = { stores: {} as Stores, applied: [], decayed: [], asked: [], replies: {} };
  for (const partition of PARTITIONS) {
    (fake.stores as unknown as Record<string, unknown>)[partition] = {
      whenReady: async () => ({ name: partition, sequences: sequences[partition] ?? {} }),
      registry: async () => ({}),
      apply: async (envelope: EventEnvelope, vectors?: Record<string, number[]>) => {
        fake.applied.push({ partition, envelope, ...(vectors ? { vectors } : {}) });
        return fake.replies[partition]?.shift() ?? { written: [], removed: [], missing: [] };
      },
      findIdempotent: async (_space: string, key: string) => {
        fake.asked.push(partition);
        return key === 'seen' && partition === 'episodic' ? { seq: 3, at: '2026-05-01T00:00:00.000Z', written: ['a'], removed: [], missing: [] } : undefined;
      },
      decay: async (space: string, job: DecayJob) => {
        fake.decayed.push({ partition, space, job });
        return { updated: 2, below_threshold: 1, pruned: partition === 'episodic' ? ['old'] : [], fidelity_histogram: [] };
      },
    };
  }
  return fake;
}

export function runLedgerCases(name: string, newLedger: (fixture: LedgerFixture) => Ledger): void {
  async function setUp(sequences?: Partial<Record<PartitionName, Record<string, number>>>) {
    const fake = fakeStores(sequences);
    const graph = new AssociationGraph();
    const ledger = newLedger({ stores: fake.stores, graph, now: () => NOW });
    for (const partition of PARTITIONS) await ledger.resync(partition);
    return { fake, graph, ledger };
  }

  describe(`${name}: sequences`, () => {
    // Per space: the order between spaces is not promised (a replicated log appends spaces in parallel).
    it('numbers the events of a space in call order, after the highest number any store holds', async () => {
      const { fake, ledger } = await setUp({ episodic: { [S]: 7 }, semantic: { [S]: 9, other: 2 } });
      await Promise.all([
        ledger.apply(S, 'episodic', { type: 'records.deleted', ids: ['a'] }),
        ledger.apply(S, 'semantic', { type: 'records.deleted', ids: ['b'] }),
        ledger.apply('other', 'working', { type: 'records.deleted', ids: ['c'] }),
      ]);
      const numbers = (space: string) => fake.applied.filter(({ envelope }) => envelope.space === space).map(({ envelope }) => envelope.seq);
      expect([numbers(S), numbers('other')]).toEqual([[10, 11], [3]]);
      expect(ledger.spaces().sort()).toEqual(['default', 'other']);
    });

    it('a decay tick takes a number of the same sequence', async () => {
      const { fake, ledger } = await setUp({ episodic: { [S]: 4 } });
      await ledger.apply(S, 'episodic', { type: 'records.deleted', ids: ['a'] });
      await ledger.decay(S, 'semantic', { at: '2026-06-01T12:00:00.000Z', tick_duration_secs: 0, prune_threshold: 0.1 });
      expect(fake.decayed.map(({ job }) => job.seq)).toEqual([6]);
    });

    it('resync never moves a sequence backwards', async () => {
      const { fake, ledger } = await setUp({ episodic: { [S]: 5 } });
      await ledger.resync('semantic');
      await ledger.apply(S, 'semantic', { type: 'records.deleted', ids: ['a'] });
      expect(fake.applied[0].envelope.seq).toBe(6);
    });
  });

  describe(`${name}: envelopes`, () => {
    it('carries the given time, idempotency key and vectors; defaults to now and no key', async () => {
      const { fake, ledger } = await setUp();
      await ledger.apply(S, 'episodic', { type: 'records.deleted', ids: ['a'] }, { at: '2026-05-01T00:00:00.000Z', idempotencyKey: 'k', vectors: { a: [1, 0] } });
      await ledger.apply(S, 'episodic', { type: 'records.deleted', ids: ['b'] });
      expect(fake.applied[0]).toMatchObject({ envelope: { at: '2026-05-01T00:00:00.000Z', idempotency_key: 'k' }, vectors: { a: [1, 0] } });
      expect(fake.applied[1].envelope.at).toBe('2026-06-01T12:00:00.000Z');
      expect('idempotency_key' in fake.applied[1].envelope).toBe(false);
    });
  });

  describe(`${name}: first attempts`, () => {
    it('asks each named partition once for the key, and nobody without a key', async () => {
      const { fake, ledger } = await setUp();
      expect((await ledger.firstAttempt(S, undefined, ['episodic'])).size).toBe(0);
      expect(fake.asked).toEqual([]);
      const found = await ledger.firstAttempt(S, 'seen', ['episodic', 'semantic', 'episodic']);
      expect(fake.asked.sort()).toEqual(['episodic', 'semantic']);
      expect([...found.keys()]).toEqual(['episodic']);
      expect(found.get('episodic')?.at).toBe('2026-05-01T00:00:00.000Z');
    });
  });

  describe(`${name}: the graph follows what the stores acknowledged`, () => {
    it('maps written records to their store and unmaps removed ones only from the store they left', async () => {
      const { fake, graph, ledger } = await setUp();
      fake.replies.episodic = [{ written: [entry('a', 'b')], removed: [], missing: [] }];
      await ledger.apply(S, 'episodic', { type: 'records.put', records: [] });
      expect(graph.storeOf(S, 'a')).toBe('episodic');
      // `a` moved to semantic (an import with keep_imported); episodic then reports it removed.
      fake.replies.semantic = [{ written: [entry('a')], removed: [], missing: [] }];
      await ledger.apply(S, 'semantic', { type: 'records.put', records: [] });
      fake.replies.episodic = [{ written: [], removed: ['a'], missing: [] }];
      await ledger.apply(S, 'episodic', { type: 'records.deleted', ids: ['a'] });
      expect(graph.storeOf(S, 'a')).toBe('semantic');
    });

    it('the raw journal is not in the graph', async () => {
      const { fake, graph, ledger } = await setUp();
      fake.replies.raw_journal = [{ written: [entry('r')], removed: [], missing: [] }];
      await ledger.apply(S, 'raw_journal', { type: 'records.put', records: [] });
      expect(graph.storeOf(S, 'r')).toBeUndefined();
    });

    it('records working memory evicted lose the links pointing at them, stripped at the same time', async () => {
      const { fake, graph, ledger } = await setUp();
      graph.upsert(S, 'semantic', entry('s', 'w1'));
      fake.replies.working = [{ written: [entry('w2')], removed: [], missing: [], evicted: ['w1'] }];
      await ledger.apply(S, 'working', { type: 'records.put', records: [] }, { at: '2026-05-01T00:00:00.000Z' });
      const strip = fake.applied.find(({ envelope }) => envelope.event.type === 'associations.stripped');
      expect(strip).toMatchObject({
        partition: 'semantic',
        envelope: { at: '2026-05-01T00:00:00.000Z', event: { type: 'associations.stripped', source_ids: ['s'], target_ids: ['w1'] } },
      });
    });

    it('a decay tick unmaps the records it pruned', async () => {
      const { graph, ledger } = await setUp();
      graph.upsert(S, 'episodic', entry('old'));
      const outcome = await ledger.decay(S, 'episodic', { at: '2026-06-01T12:00:00.000Z', tick_duration_secs: 0, prune_threshold: 0.1 });
      expect(outcome.pruned).toEqual(['old']);
      expect(graph.storeOf(S, 'old')).toBeUndefined();
    });

    it('cleanUpAfterRemoval strips, in each owner store, the links to the removed records', async () => {
      const { fake, graph, ledger } = await setUp();
      graph.upsert(S, 'episodic', entry('e', 'x'));
      graph.upsert(S, 'procedural', entry('p', 'x', 'y'));
      await ledger.cleanUpAfterRemoval(S, ['x', 'y'], '2026-05-01T00:00:00.000Z');
      const strips = fake.applied.map(({ partition, envelope }) => [partition, envelope.event]).sort();
      expect(strips).toEqual([
        ['episodic', { type: 'associations.stripped', source_ids: ['e'], target_ids: ['x', 'y'] }],
        ['procedural', { type: 'associations.stripped', source_ids: ['p'], target_ids: ['x', 'y'] }],
      ]);
    });
  });
}
