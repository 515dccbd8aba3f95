import { describe, it, expect } from 'vitest';
import { countRecord, emptyAggregates } from '../../../src/actors/store/aggregates.js';
import { textBlock } from '../../../src/cmp/content.js';
import { association, memoryRecord, rawRecord } from '../../helpers/records.js';

describe('countRecord', () => {
  it('adds a curated record to every total it moves', () => {
    const totals = emptyAggregates();
    const record = memoryRecord({
      access_count: 4,
      associations: [association('x'), association('y')],
      content: { blocks: [textBlock('a'), { ...textBlock('b'), embedding: [0.1, 0.2] }], summary: null },
      fidelity: { ...memoryRecord().fidelity, score: 0.75 },
    });

    countRecord(totals, record, 1);

    expect(totals).toEqual({
      ...emptyAggregates(),
      records: 1,
      fidelity_sum: 0.75,
      access_sum: 4,
      association_count: 2,
      embedded: 1,
    });
  });

  it('add then remove returns every total to zero', () => {
    const totals = emptyAggregates();
    const records = [
      memoryRecord({ id: 'a', access_count: 2, associations: [association('b')], metadata: { _dream: { kind: 'semantic_summary' } } }),
      memoryRecord({ id: 'b', content: { blocks: [{ ...textBlock('b'), embedding: [1] }] } }),
      rawRecord({ id: 'r' }),
    ];

    for (const record of records) countRecord(totals, record, 1);
    for (const record of records) countRecord(totals, record, -1);

    expect(totals).toEqual(emptyAggregates());
  });

  it('an empty embedding does not count as embedded', () => {
    const totals = emptyAggregates();
    countRecord(totals, memoryRecord({ content: { blocks: [{ ...textBlock('a'), embedding: [] }] } }), 1);
    expect(totals.embedded).toBe(0);
  });

  it('counts dream episodic summaries and semantic nodes by _dream.kind', () => {
    const totals = emptyAggregates();
    countRecord(totals, memoryRecord({ metadata: { _dream: { kind: 'episodic_summary' } } }), 1);
    countRecord(totals, memoryRecord({ metadata: { _dream: { kind: 'semantic_summary' } } }), 1);
    countRecord(totals, memoryRecord({ metadata: { _dream: { kind: 'semantic_summary' } } }), 1);
    countRecord(totals, memoryRecord({ metadata: { _dream: { kind: 'something_else' } } }), 1);
    countRecord(totals, memoryRecord({ metadata: { kind: 'semantic_summary' } }), 1);

    expect(totals.dream_episodic_summaries).toBe(1);
    expect(totals.dream_semantic_nodes).toBe(2);
    expect(totals.records).toBe(5);
  });

  it('counts a raw record as pending dream only without _dream.processed_at', () => {
    const totals = emptyAggregates();
    countRecord(totals, rawRecord({ id: 'plain', metadata: {} }), 1);
    countRecord(totals, rawRecord({ id: 'array', metadata: [1, 2] }), 1);
    countRecord(totals, rawRecord({ id: 'unprocessed', metadata: { _dream: { processed_at: null } } }), 1);
    countRecord(totals, rawRecord({ id: 'processed', metadata: { _dream: { processed_at: '2026-04-28T13:00:00.000Z' } } }), 1);

    expect(totals.raw_pending_dream).toBe(3);
    expect(totals.records).toBe(4);
  });

  it('leaves the curated totals alone for raw records', () => {
    const totals = emptyAggregates();
    countRecord(totals, rawRecord(), 1);
    expect(totals).toEqual({ ...emptyAggregates(), records: 1, raw_pending_dream: 1 });
  });
});
