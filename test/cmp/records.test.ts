import { describe, it, expect } from 'vitest';
import { textBlock } from '../../src/cmp/content.js';
import { neutralEmotion } from '../../src/cmp/emotion.js';
import { legacyMeta, unavailableMeta } from '../../src/cmp/meta.js';
import { defaultFidelity, mergeMetadata, validateRawRecord, validateRecord } from '../../src/cmp/records.js';
import type { MemoryRecord, RawJournalRecord } from '../../src/cmp/types.js';
import { cmpErrorOf } from './cmp-error.js';

const NOW = '2026-04-28T12:34:56.000Z';
const ID = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';

function record(overrides: Partial<MemoryRecord> = {}): MemoryRecord {
  return {
    id: ID,
    space: 'default',
    store: 'episodic',
    created_at: NOW,
    updated_at: NOW,
    last_accessed_at: NOW,
    access_count: 0,
    content: { blocks: [textBlock('hello')], summary: null },
    fidelity: defaultFidelity(NOW, { decay_rate: 0.3, stability: 86_400 }),
    emotion: neutralEmotion(),
    associations: [],
    metadata: {},
    version: 1,
    meta: unavailableMeta('encode.store', NOW),
    ...overrides,
  };
}

function rawRecord(overrides: Partial<RawJournalRecord> = {}): RawJournalRecord {
  return {
    id: ID,
    space: 'default',
    session_id: 's-1',
    turn_id: null,
    topic_id: null,
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    created_at: NOW,
    updated_at: NOW,
    content: { blocks: [textBlock('hello')], summary: null },
    metadata: {},
    derived_memory_ids: [],
    suppressed: false,
    meta: legacyMeta(),
    ...overrides,
  };
}

describe('defaultFidelity', () => {
  it('is pristine, with the given decay parameters and now as the last tick and the decay anchor', () => {
    expect(defaultFidelity(NOW, { decay_rate: 0.25, stability: 600 })).toEqual({
      score: 1,
      noise_level: 0,
      decay_rate: 0.25,
      emotional_anchor: 1,
      reinforcement_count: 0,
      stability: 600,
      last_decay_tick: NOW,
      anchor_score: 1,
      anchor_at: NOW,
    });
  });
});

describe('mergeMetadata', () => {
  const context = { source: 'chat', session_id: 's-1' };
  const fullContext = { session_id: 's-1', source: 'chat', spatial: null, temporal: null };

  it('neither → {}', () => {
    expect(mergeMetadata(null, null)).toEqual({});
  });

  it('only metadata → as given', () => {
    expect(mergeMetadata([1, 2], null)).toEqual([1, 2]);
    expect(mergeMetadata({ tag: 'demo' }, null)).toEqual({ tag: 'demo' });
  });

  it('only context → {_context} with all four keys, nulls included', () => {
    expect(mergeMetadata(null, context)).toEqual({ _context: fullContext });
    expect(Object.keys((mergeMetadata(null, {}) as { _context: object })._context)).toEqual(['session_id', 'source', 'spatial', 'temporal']);
  });

  it('object metadata + context → metadata plus _context', () => {
    expect(mergeMetadata({ tag: 'demo' }, context)).toEqual({ tag: 'demo', _context: fullContext });
  });

  it('keeps spatial and temporal JSON as given', () => {
    const merged = mergeMetadata(null, { spatial: { room: 'lab' }, temporal: [1, 2] });
    expect(merged).toEqual({ _context: { session_id: null, source: null, spatial: { room: 'lab' }, temporal: [1, 2] } });
  });

  it.each([['a string'], [42], [true], [[1, 2]]])('non-object metadata %j + context → {_metadata, _context}', (metadata) => {
    expect(mergeMetadata(metadata, context)).toEqual({ _metadata: metadata, _context: fullContext });
  });

  it("does not modify the caller's metadata object", () => {
    const metadata = { tag: 'demo' };
    mergeMetadata(metadata, context);
    expect(metadata).toEqual({ tag: 'demo' });
  });
});

describe('validateRecord', () => {
  it('accepts a well-formed record', () => {
    expect(() => validateRecord(record(), '')).not.toThrow();
  });

  it('rule: content must have a block', () => {
    const err = cmpErrorOf(() => validateRecord(record({ content: { blocks: [], summary: null } }), ''));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks');
  });

  it('rule: content size limits apply (CONTENT_TOO_LARGE)', () => {
    const big = { modality: 'text' as const, format: 'text/plain', data: Buffer.alloc(1_048_577).toString('base64') };
    const err = cmpErrorOf(() => validateRecord(record({ content: { blocks: [big] } }), 'records.4'));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.field).toBe('records.4.content.blocks.0.data');
  });

  it.each([[-0.01], [1.01], [Number.NaN]])('rule: fidelity.score must be in [0, 1] (%d)', (score) => {
    const err = cmpErrorOf(() => validateRecord(record({ fidelity: { ...record().fidelity, score } }), ''));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('fidelity.score');
  });

  it('rule: fidelity.noise_level must be in [0, 1]', () => {
    const err = cmpErrorOf(() => validateRecord(record({ fidelity: { ...record().fidelity, noise_level: 2 } }), ''));
    expect(err.field).toBe('fidelity.noise_level');
    expect(err.message).toBe('fidelity.noise_level: 2 out of range [0.0, 1.0]');
  });

  it('rule: every association weight must be in [0, 1]', () => {
    const association = { target_id: ID, association_type: 'causal' as const, weight: 0.5, created_at: NOW, last_co_activation: NOW };
    const associations = [association, { ...association, weight: 1.5 }];
    const err = cmpErrorOf(() => validateRecord(record({ associations }), ''));
    expect(err.field).toBe('associations.1.weight');
  });

  it('rule: meta is validated (confidence range)', () => {
    const err = cmpErrorOf(() => validateRecord(record({ meta: { ...legacyMeta(), confidence: 3 } }), ''));
    expect(err.field).toBe('meta.confidence');
  });

  it('rule: stored meta needs schema_version >= 1', () => {
    const err = cmpErrorOf(() => validateRecord(record({ meta: { ...legacyMeta(), schema_version: 0 } }), ''));
    expect(err.field).toBe('meta.schema_version');
  });

  it('does not validate emotion values (§1.3 rule 8)', () => {
    expect(() => validateRecord(record({ emotion: { ...neutralEmotion(), joy: 5, valence: -9 } }), '')).not.toThrow();
  });
});

describe('validateRawRecord', () => {
  it('accepts a well-formed raw record', () => {
    expect(() => validateRawRecord(rawRecord(), '')).not.toThrow();
  });

  it('rule: session_id must not be blank after trim', () => {
    const err = cmpErrorOf(() => validateRawRecord(rawRecord({ session_id: ' \t ' }), 'records.2'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('records.2.session_id');
    expect(err.message).toBe('session_id must not be empty');
  });

  it('rule: content is validated like a curated record', () => {
    const err = cmpErrorOf(() => validateRawRecord(rawRecord({ content: { blocks: [] } }), ''));
    expect(err.field).toBe('content.blocks');
  });

  it('rule: meta is validated', () => {
    const edge = { target_id: '00000000-0000-0000-0000-000000000000', relation: 'supports' as const, evidence: [] };
    const err = cmpErrorOf(() => validateRawRecord(rawRecord({ meta: { ...legacyMeta(), context_edges: [edge] } }), ''));
    expect(err.field).toBe('meta.context_edges.0.target_id');
  });
});
