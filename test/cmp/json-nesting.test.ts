import { describe, expect, it } from 'vitest';
import { clampJsonNesting, jsonNesting, MAX_JSON_NESTING } from '../../src/cmp/json-nesting.js';
import { parseEncodeBatchRaw, parseEncodeStore, parseEncodeStoreRaw, parseEncodeUpdate, parseRecallQuery } from '../../src/cmp/requests.js';
import { nested, nestedText } from '../helpers/deep-json.js';
import { cmpErrorOf } from './cmp-error.js';

// Issue 14, defects 3 and 8: one depth limit for every JSON-valued field, counted without recursion,
// so ~3,000 levels is a VALIDATION_ERROR naming the field (it was a stack overflow, a 500).

const ID = '0190f0e0-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const text = { blocks: [{ modality: 'text', format: 'text/plain', data: 'SGk=' }] };
const structured = (levels: number) => ({
  blocks: [{ modality: 'structured', format: 'application/json', data: Buffer.from(nestedText(levels)).toString('base64') }],
});
const raw = { session_id: 's', source: 'conversation', speaker: 'user', visibility: 'normal', secrecy_level: 'public', content: text };

describe('jsonNesting', () => {
  it.each([
    [1, 0],
    [{}, 1],
    [[], 1],
    [{ a: [1] }, 2],
    [{ a: 1, b: { c: { d: null } } }, 3],
  ])('%j nests %i levels', (value, levels) => {
    expect(jsonNesting(value)).toBe(levels);
  });

  it('counts 100,000 levels without overflowing the stack', () => {
    expect(jsonNesting(nested(100_000))).toBe(100_000);
  });
});

describe('clampJsonNesting', () => {
  it('returns a shallow enough value itself', () => {
    const value = nested(MAX_JSON_NESTING) as never;
    expect(clampJsonNesting(value)).toBe(value);
  });

  it('replaces what lies below the limit with its JSON text, keeping key order', () => {
    const value = { z: 1, a: { b: { c: [1, 2] } }, m: 'x' };
    const clamped = clampJsonNesting(value, 2);
    expect(clamped).toEqual({ z: 1, a: { b: '{"c":[1,2]}' }, m: 'x' });
    expect(Object.keys(clamped as object)).toEqual(['z', 'a', 'm']);
    expect(jsonNesting(clampJsonNesting(nested(3000) as never))).toBe(MAX_JSON_NESTING);
  });
});

describe.each([
  ['metadata', () => (levels: number) => parseEncodeStore({ content: text, metadata: nested(levels) }), 'metadata'],
  ['context.spatial', () => (levels: number) => parseEncodeStore({ content: text, context: { spatial: nested(levels) } }), 'context.spatial'],
  ['structured content', () => (levels: number) => parseEncodeStore({ content: structured(levels) }), 'content.blocks.0.data'],
  ['update metadata', () => (levels: number) => parseEncodeUpdate({ record_id: ID, metadata: nested(levels) }), 'metadata'],
  ['raw metadata', () => (levels: number) => parseEncodeStoreRaw({ ...raw, metadata: nested(levels) }), 'metadata'],
  ['raw batch metadata', () => (levels: number) => parseEncodeBatchRaw({ records: [raw, { ...raw, metadata: nested(levels) }] }), 'records.1.metadata'],
  ['cue.semantic', () => (levels: number) => parseRecallQuery({ cue: { semantic: nested(levels) } }), 'cue.semantic'],
  ['cue.spatial', () => (levels: number) => parseRecallQuery({ cue: { spatial: nested(levels) } }), 'cue.spatial'],
] as const)('%s', (_label, parserOf, field) => {
  const parse = parserOf();

  it(`accepts ${MAX_JSON_NESTING} levels`, () => {
    expect(() => parse(MAX_JSON_NESTING)).not.toThrow();
  });

  it.each([MAX_JSON_NESTING + 1, 3000, 100_000])('refuses %i levels with a VALIDATION_ERROR naming the field', (levels) => {
    const err = cmpErrorOf(() => parse(levels));
    expect(err).toMatchObject({ code: 'VALIDATION_ERROR', field });
    expect(err.message).toBe(`${field}: ${field.startsWith('content') ? 'structured content must' : 'must'} nest at most ${MAX_JSON_NESTING} levels`);
  });
});

it('refuses deep meta by its field too (meta has a fixed shape)', () => {
  const err = cmpErrorOf(() => parseEncodeStore({ content: text, meta: { intent: nested(3000) } }));
  expect(err).toMatchObject({ code: 'VALIDATION_ERROR', field: 'meta.intent' });
});
