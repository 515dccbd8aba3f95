import { describe, it, expect } from 'vitest';
import { LEGACY_RATIONALE, UNAVAILABLE_RATIONALE, checkStoredMeta, inferredMeta, legacyMeta, metaSearchText, normaliseMeta, unavailableMeta, validateMeta } from '../../src/cmp/meta.js';
import type { MetaMemory } from '../../src/cmp/types.js';
import { cmpErrorOf } from './cmp-error.js';

const NOW = '2026-04-28T12:34:56.000Z';
const ID = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const NIL = '00000000-0000-0000-0000-000000000000';

const EMPTY: MetaMemory = {
  schema_version: 1,
  capture_status: 'legacy',
  intent: null,
  rationale: null,
  trigger: null,
  goals: [],
  evidence: [],
  assumptions: [],
  alternatives: [],
  decision: null,
  confidence: null,
  source_record_ids: [],
  parent_meta_ids: [],
  context_edges: [],
  tags: [],
  captured_at: null,
};

describe('canonical constructors', () => {
  it('legacyMeta: legacy status and the legacy sentence, everything else empty', () => {
    expect(legacyMeta()).toEqual({ ...EMPTY, rationale: 'No structured meta-memory was captured for this legacy record.' });
  });

  it('unavailableMeta: unavailable status, the ingest sentence, the trigger and now', () => {
    expect(unavailableMeta('encode.store', NOW)).toEqual({
      ...EMPTY,
      capture_status: 'unavailable',
      rationale: 'No explicit meta-rationale was provided at ingest time.',
      trigger: 'encode.store',
      captured_at: NOW,
    });
  });

  it('inferredMeta: confidence 1, sources, one evidence entry per source', () => {
    const other = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0c';
    expect(inferredMeta('dream_tick', 'summarised', [ID, other], NOW)).toEqual({
      ...EMPTY,
      capture_status: 'inferred',
      rationale: 'summarised',
      trigger: 'dream_tick',
      confidence: 1,
      source_record_ids: [ID, other],
      captured_at: NOW,
      evidence: [ID, other].map((id) => ({
        record_id: null,
        raw_record_id: id,
        label: 'source_raw_record',
        excerpt: null,
        uri: null,
        confidence: 1,
      })),
    });
  });
});

describe('validateMeta', () => {
  it('fills every default of the §1.8 table from an empty object', () => {
    expect(validateMeta({}, 'meta')).toEqual(EMPTY);
  });

  it('treats null fields as absent', () => {
    expect(validateMeta({ goals: null, capture_status: null, schema_version: null }, 'meta')).toEqual(EMPTY);
  });

  it('fills nested defaults: alternative option/chosen, edge relation/evidence, evidence fields', () => {
    const meta = validateMeta(
      {
        alternatives: [{}],
        context_edges: [{ target_id: ID, evidence: [{ label: 'l' }] }],
      },
      'meta',
    );
    expect(meta.alternatives).toEqual([{ option: '', reason: null, chosen: false }]);
    expect(meta.context_edges).toEqual([
      {
        source_id: null,
        target_id: ID,
        relation: 'context_of',
        rationale: null,
        confidence: null,
        created_at: null,
        evidence: [{ record_id: null, raw_record_id: null, label: 'l', excerpt: null, uri: null, confidence: null }],
      },
    ]);
  });

  it('ignores unknown fields', () => {
    expect(validateMeta({ surprise: 1, intent: 'i' }, 'meta')).toEqual({ ...EMPTY, intent: 'i' });
  });

  it('accepts schema_version 0 (normalisation lifts it)', () => {
    expect(validateMeta({ schema_version: 0 }, 'meta').schema_version).toBe(0);
  });

  it('rule: schema_version must be a non-negative integer', () => {
    const err = cmpErrorOf(() => validateMeta({ schema_version: -1 }, 'meta'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('meta.schema_version');
  });

  it.each([
    [{ confidence: 1.5 }, 'meta.confidence'],
    [{ confidence: -0.1 }, 'meta.confidence'],
    [{ evidence: [{}, { confidence: 2 }] }, 'meta.evidence.1.confidence'],
    [{ context_edges: [{ target_id: ID, confidence: 7 }] }, 'meta.context_edges.0.confidence'],
    [{ context_edges: [{ target_id: ID, evidence: [{}, { confidence: -3 }] }] }, 'meta.context_edges.0.evidence.1.confidence'],
  ])('rule: every confidence is in [0, 1] (%j)', (input, field) => {
    const err = cmpErrorOf(() => validateMeta(input, 'meta'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe(field);
    expect(err.message).toBe(`${field}: must be in [0.0, 1.0]`);
  });

  it('rule: a NaN confidence is rejected', () => {
    const err = cmpErrorOf(() => validateMeta({ confidence: Number.NaN }, 'meta'));
    expect(err.field).toBe('meta.confidence');
    expect(err.message).toBe('meta.confidence: must be in [0.0, 1.0]');
  });

  it('accepts the bounds 0 and 1', () => {
    expect(validateMeta({ confidence: 0, evidence: [{ confidence: 1 }] }, 'meta').confidence).toBe(0);
  });

  it('rule: an edge target_id is required', () => {
    const err = cmpErrorOf(() => validateMeta({ context_edges: [{}] }, 'meta'));
    expect(err.field).toBe('meta.context_edges.0.target_id');
    expect(err.message).toBe('meta.context_edges.0.target_id: is required');
  });

  it('rule: an edge target_id must be a UUID', () => {
    const err = cmpErrorOf(() => validateMeta({ context_edges: [{ target_id: 'nope' }] }, 'meta'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('meta.context_edges.0.target_id');
  });

  it('rule: an edge target_id must not be the nil UUID', () => {
    const err = cmpErrorOf(() => validateMeta({ context_edges: [{ target_id: NIL }] }, 'meta'));
    expect(err.field).toBe('meta.context_edges.0.target_id');
    expect(err.message).toBe('meta.context_edges.0.target_id: must not be the nil UUID');
  });

  it('rule: source ids must be UUIDs', () => {
    expect(cmpErrorOf(() => validateMeta({ source_record_ids: [ID, 'x'] }, 'meta')).field).toBe('meta.source_record_ids.1');
  });

  it('rule: capture_status and relation are closed enums', () => {
    expect(cmpErrorOf(() => validateMeta({ capture_status: 'guessed' }, 'meta')).field).toBe('meta.capture_status');
    const err = cmpErrorOf(() => validateMeta({ context_edges: [{ target_id: ID, relation: 'likes' }] }, 'meta'));
    expect(err.field).toBe('meta.context_edges.0.relation');
  });

  it('rule: captured_at must be RFC 3339', () => {
    expect(cmpErrorOf(() => validateMeta({ captured_at: 'yesterday' }, 'meta')).field).toBe('meta.captured_at');
  });

  it('rule: meta itself must be an object', () => {
    const err = cmpErrorOf(() => validateMeta('intent', 'records.1.meta'));
    expect(err.field).toBe('records.1.meta');
  });
});

describe('checkStoredMeta', () => {
  it('rule: stored meta needs schema_version >= 1', () => {
    const err = cmpErrorOf(() => checkStoredMeta({ ...EMPTY, schema_version: 0 }, 'meta'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('meta.schema_version');
  });

  it('accepts the canonical constructors', () => {
    expect(() => checkStoredMeta(inferredMeta('t', 'r', [ID], NOW), 'meta')).not.toThrow();
  });
});

describe('normaliseMeta', () => {
  it('no meta → unavailable(trigger)', () => {
    expect(normaliseMeta(null, 'encode.store_raw', NOW)).toEqual(unavailableMeta('encode.store_raw', NOW));
  });

  it('omitted status becomes provided; trigger and captured_at are filled', () => {
    expect(normaliseMeta({ intent: 'why' }, 'encode.store', NOW)).toEqual({
      ...EMPTY,
      capture_status: 'provided',
      intent: 'why',
      trigger: 'encode.store',
      captured_at: NOW,
    });
  });

  it('schema_version 0 becomes 1', () => {
    expect(normaliseMeta({ schema_version: 0 }, 'encode.update', NOW).schema_version).toBe(1);
  });

  it('explicit legacy with the legacy sentence: sentence cleared, status provided', () => {
    const meta = normaliseMeta({ capture_status: 'legacy', rationale: LEGACY_RATIONALE }, 'encode.store', NOW);
    expect(meta.capture_status).toBe('provided');
    expect(meta.rationale).toBeNull();
  });

  it('a legacy status keeps any other rationale', () => {
    expect(normaliseMeta({ rationale: 'because' }, 'encode.store', NOW).rationale).toBe('because');
  });

  it('keeps explicit inferred and unavailable status, and a given trigger and captured_at', () => {
    const given = { capture_status: 'inferred', trigger: 'import', captured_at: '2025-01-01T00:00:00Z' };
    expect(normaliseMeta(given, 'encode.store', NOW)).toMatchObject({
      capture_status: 'inferred',
      trigger: 'import',
      captured_at: '2025-01-01T00:00:00.000Z',
    });
    expect(normaliseMeta({ capture_status: 'unavailable', rationale: UNAVAILABLE_RATIONALE }, 'x', NOW).capture_status).toBe('unavailable');
  });

  it('is idempotent', () => {
    const once = normaliseMeta({ goals: ['g'] }, 'encode.store', NOW);
    expect(normaliseMeta({ ...once }, 'encode.update', '2030-01-01T00:00:00.000Z')).toEqual(once);
  });

  it('validates what it normalises', () => {
    expect(cmpErrorOf(() => normaliseMeta({ confidence: 9 }, 'encode.store', NOW)).field).toBe('meta.confidence');
  });
});

describe('metaSearchText', () => {
  const full: MetaMemory = {
    ...EMPTY,
    capture_status: 'provided',
    intent: 'intent',
    rationale: 'rationale',
    trigger: 'trigger',
    decision: 'decision',
    goals: ['goal'],
    assumptions: ['assumption'],
    tags: ['tag'],
    evidence: [{ label: 'ev-label', excerpt: 'ev-excerpt', uri: 'ev-uri', confidence: 0.5 }],
    alternatives: [{ option: 'option', reason: 'reason', chosen: false }],
    context_edges: [
      {
        target_id: ID,
        relation: 'supports',
        rationale: 'edge-rationale',
        evidence: [{ label: 'edge-label', excerpt: 'edge-excerpt', uri: 'edge-uri' }],
      },
    ],
  };

  it('lists every indexed field of provided meta, in order', () => {
    expect(metaSearchText(full)).toEqual([
      'intent',
      'rationale',
      'trigger',
      'decision',
      'goal',
      'assumption',
      'tag',
      'ev-label',
      'ev-excerpt',
      'ev-uri',
      'option',
      'reason',
      'edge-rationale',
      'edge-label',
      'edge-excerpt',
      'edge-uri',
    ]);
  });

  it('indexes inferred meta too', () => {
    expect(metaSearchText({ ...full, capture_status: 'inferred' })).toHaveLength(16);
  });

  it('indexes nothing of legacy or unavailable meta', () => {
    expect(metaSearchText({ ...full, capture_status: 'legacy' })).toEqual([]);
    expect(metaSearchText({ ...full, capture_status: 'unavailable' })).toEqual([]);
  });

  it('leaves out blank strings', () => {
    expect(metaSearchText({ ...EMPTY, capture_status: 'provided', intent: '  ', tags: ['', 'x'] })).toEqual(['x']);
  });
});
