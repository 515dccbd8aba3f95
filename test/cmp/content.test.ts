import { describe, it, expect } from 'vitest';
import { MODALITY_SIZE_LIMITS, firstEmbedding, flattenJsonToText, searchableText, textBlock, textOf, validateContent } from '../../src/cmp/content.js';
import { legacyMeta, unavailableMeta } from '../../src/cmp/meta.js';
import type { ContentBlock, MemoryContent, MetaMemory } from '../../src/cmp/types.js';
import { cmpErrorOf } from './cmp-error.js';

const b64 = (bytes: number[] | string) => (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes)).toString('base64');
const block = (modality: ContentBlock['modality'], data: string, embedding?: number[] | null): ContentBlock => ({ modality, format: 'x', data, embedding });
const content = (...blocks: ContentBlock[]): MemoryContent => ({ blocks, summary: null });
const providedMeta = (fields: Partial<MetaMemory>): MetaMemory => ({ ...legacyMeta(), capture_status: 'provided', rationale: null, ...fields });

describe('MODALITY_SIZE_LIMITS', () => {
  it('matches §1.3 rule 5', () => {
    expect(MODALITY_SIZE_LIMITS).toEqual({
      text: 1_048_576,
      image: 10_485_760,
      audio: 52_428_800,
      video: 52_428_800,
      structured: 1_048_576,
      spatial: 1_048_576,
      temporal: 1_048_576,
      interoceptive: 1_048_576,
    });
  });
});

describe('validateContent', () => {
  it('accepts valid text, structured, binary and embedded blocks', () => {
    expect(() => validateContent(content(textBlock('hello'), block('structured', b64('{"a":1}')), block('image', b64([0xff, 0xd8])), block('audio', '', [0.1, -2])), 'content')).not.toThrow();
  });

  it('rule: blocks must be non-empty', () => {
    const err = cmpErrorOf(() => validateContent(content(), 'content'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks');
    expect(err.message).toBe('content.blocks: must have at least one content block');
  });

  it('rule: block data over its modality limit is CONTENT_TOO_LARGE with "{size} bytes exceeds {limit}"', () => {
    const big = Buffer.alloc(MODALITY_SIZE_LIMITS.text + 1, 0x61).toString('base64');
    const err = cmpErrorOf(() => validateContent(content(textBlock('ok'), block('text', big)), 'records.2.content'));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.field).toBe('records.2.content.blocks.1.data');
    expect(err.message).toBe('records.2.content.blocks.1.data: 1048577 bytes exceeds 1048576');
  });

  it('rule: the limit is per modality (an image may be larger than a text block)', () => {
    const twoMiB = Buffer.alloc(2 * 1_048_576).toString('base64');
    expect(() => validateContent(content(block('image', twoMiB)), 'content')).not.toThrow();
    expect(cmpErrorOf(() => validateContent(content(block('spatial', twoMiB)), 'content')).code).toBe('CONTENT_TOO_LARGE');
  });

  it('rule: data exactly at the limit is accepted', () => {
    const exact = Buffer.alloc(MODALITY_SIZE_LIMITS.text, 0x61).toString('base64');
    expect(() => validateContent(content(block('text', exact)), 'content')).not.toThrow();
  });

  it('rule: text blocks must be valid UTF-8', () => {
    const err = cmpErrorOf(() => validateContent(content(block('text', b64([0xc3, 0x28]))), 'content'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks.0.data');
  });

  it('rule: invalid UTF-8 is fine in non-text blocks', () => {
    expect(() => validateContent(content(block('image', b64([0xc3, 0x28]))), 'content')).not.toThrow();
  });

  it('rule: structured blocks must parse as JSON', () => {
    const err = cmpErrorOf(() => validateContent(content(textBlock('a'), block('structured', b64('{nope'))), 'content'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks.1.data');
  });

  it('rule: an embedding must not be empty', () => {
    const err = cmpErrorOf(() => validateContent(content(block('text', b64('a'), [])), 'content'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks.0.embedding');
  });

  it.each([[Number.NaN], [Number.POSITIVE_INFINITY], [Number.NEGATIVE_INFINITY]])('rule: an embedding must be finite (%d)', (bad) => {
    const err = cmpErrorOf(() => validateContent(content(block('text', b64('a'), [0.5, bad])), 'content'));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content.blocks.0.embedding.1');
  });

  it('a null embedding means none', () => {
    expect(() => validateContent(content(block('text', b64('a'), null)), 'content')).not.toThrow();
  });
});

describe('textOf', () => {
  it('decodes the first text block, skipping other modalities', () => {
    expect(textOf(content(block('image', b64([1])), textBlock('héllo ✓'), textBlock('second')))).toBe('héllo ✓');
  });

  it('is null without a text block', () => {
    expect(textOf(content(block('structured', b64('{}'))))).toBeNull();
  });
});

describe('firstEmbedding', () => {
  it('is the embedding of the first block that has one, any modality', () => {
    expect(firstEmbedding(content(textBlock('a'), block('image', '', [3, 4]), block('text', '', [5])))).toEqual([3, 4]);
  });

  it('is null when no block has one', () => {
    expect(firstEmbedding(content(textBlock('a'), block('text', '', null)))).toBeNull();
  });
});

describe('textBlock', () => {
  it('is a text/plain block of base64 UTF-8', () => {
    expect(textBlock('Hi ✓')).toEqual({ modality: 'text', format: 'text/plain', data: b64('Hi ✓'), embedding: null });
  });
});

describe('flattenJsonToText', () => {
  it('gives the §5.1 example lines: sorted keys, dotted prefixes, arrays share the prefix', () => {
    expect(flattenJsonToText({ name: 'Alice', tags: ['rust', 'python'], a: { b: 1 } })).toEqual(['a.b: 1', 'name: Alice', 'tags: rust', 'tags: python']);
  });

  it('writes leaves: strings raw, numbers in JSON form, booleans, null', () => {
    expect(flattenJsonToText({ s: 'x y', n: 3.14, t: true, f: false, z: null })).toEqual(['f: false', 'n: 3.14', 's: x y', 't: true', 'z: null']);
  });

  it('writes bare values at the root', () => {
    expect(flattenJsonToText(42)).toEqual(['42']);
    expect(flattenJsonToText(['rust', 'python'])).toEqual(['rust', 'python']);
  });

  it('gives nothing for empty objects and arrays', () => {
    expect(flattenJsonToText({})).toEqual([]);
    expect(flattenJsonToText({ a: [], b: {} })).toEqual([]);
  });

  it('objects inside arrays keep the array prefix', () => {
    expect(flattenJsonToText({ items: [{ id: 1 }, { id: 2 }] })).toEqual(['items.id: 1', 'items.id: 2']);
  });

  const nested = (levels: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i += 1) value = { a: value };
    return value;
  };

  it('accepts nesting exactly at depth 10', () => {
    expect(flattenJsonToText(nested(10))).toEqual([`${Array(10).fill('a').join('.')}: 1`]);
  });

  it('rule: nesting deeper than 10 is a VALIDATION_ERROR', () => {
    const err = cmpErrorOf(() => flattenJsonToText(nested(11)));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('content');
    expect(err.message).toBe('content: JSON nesting exceeds maximum depth of 10');
  });

  it('counts arrays as nesting levels too', () => {
    let value: unknown = 1;
    for (let i = 0; i < 11; i += 1) value = [value];
    expect(cmpErrorOf(() => flattenJsonToText(value)).code).toBe('VALIDATION_ERROR');
  });
});

describe('searchableText', () => {
  it('joins trimmed text blocks and flattened structured blocks with newlines, skipping blank text', () => {
    const c = content(textBlock('  first  '), textBlock('   '), block('structured', b64('{"k":"v","a":[1,2]}')), textBlock('last'));
    expect(searchableText(c, legacyMeta())).toBe('first\na: 1\na: 2\nk: v\nlast');
  });

  it('leaves out the summary and non-text modalities', () => {
    const c: MemoryContent = { blocks: [textBlock('body'), block('image', b64('pixels'))], summary: 'the summary' };
    expect(searchableText(c, legacyMeta())).toBe('body');
  });

  it('appends meta text when capture_status is provided', () => {
    const meta = providedMeta({ intent: 'remember', goals: ['g1'], tags: ['t1'] });
    expect(searchableText(content(textBlock('body')), meta)).toBe('body\nremember\ng1\nt1');
  });

  it('never indexes legacy or unavailable meta', () => {
    expect(searchableText(content(textBlock('body')), unavailableMeta('encode.store', '2026-01-01T00:00:00.000Z'))).toBe('body');
    expect(searchableText(content(textBlock('body')), legacyMeta())).toBe('body');
  });

  it('skips a text block that is not UTF-8 and a structured block that is not JSON or too deep, keeping the rest', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 11; i += 1) deep = { a: deep };
    const c = content(block('text', b64([0xc3, 0x28])), block('structured', b64('{bad')), block('structured', b64(JSON.stringify(deep))), textBlock('kept'));
    expect(searchableText(c, legacyMeta())).toBe('kept');
  });
});
