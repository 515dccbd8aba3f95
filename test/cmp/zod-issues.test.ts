import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { dotted, parseWith, type CmpIssueParams } from '../../src/cmp/zod-issues.js';
import { cmpErrorOf } from './cmp-error.js';

describe('dotted', () => {
  it('joins segments with dots, skipping empty ones', () => {
    expect(dotted('records', 3, '', 'content')).toBe('records.3.content');
  });

  it('calls the empty path "body"', () => {
    expect(dotted('', '')).toBe('body');
  });
});

describe('parseWith', () => {
  const schema = z.object({
    name: z.string(),
    kind: z.enum(['a', 'b']),
    items: z.array(z.number()).max(2),
    count: z.number().int().min(1),
  });
  const good = { name: 'n', kind: 'a', items: [1], count: 1 };

  it('returns the parsed value', () => {
    expect(parseWith(schema, good)).toEqual(good);
  });

  it('names a missing field "is required"', () => {
    const err = cmpErrorOf(() => parseWith(schema, { ...good, name: undefined }));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.message).toBe('name: is required');
  });

  it('names the expected and received types', () => {
    expect(cmpErrorOf(() => parseWith(schema, { ...good, name: null })).message).toBe('name: expected string, received null');
    expect(cmpErrorOf(() => parseWith(schema, { ...good, name: [] })).message).toBe('name: expected string, received array');
  });

  it('lists enum options', () => {
    expect(cmpErrorOf(() => parseWith(schema, { ...good, kind: 'c' })).message).toBe('kind: expected one of a, b');
  });

  it('states bounds', () => {
    expect(cmpErrorOf(() => parseWith(schema, { ...good, items: [1, 2, 3] })).message).toBe('items: must have at most 2 items');
    expect(cmpErrorOf(() => parseWith(schema, { ...good, count: 0 })).message).toBe('count: must be >= 1');
  });

  it('reports the first issue only, with the prefix and the nested path', () => {
    const err = cmpErrorOf(() => parseWith(schema, { ...good, items: [1, 'x'], count: 0 }, 'records.2'));
    expect(err.field).toBe('records.2.items.1');
    expect(err.message).toBe('records.2.items.1: expected number, received string');
  });

  it('a non-object at the root is the field "body"', () => {
    expect(cmpErrorOf(() => parseWith(schema, 'text')).field).toBe('body');
  });

  it('honours issue params: another code, verbatim text', () => {
    const params: CmpIssueParams = { cmp_code: 'STORE_INVALID', verbatim: true };
    const custom = z.object({ s: z.string().superRefine((v, ctx) => ctx.addIssue({ code: 'custom', message: `Bad: ${v}`, params })) });
    const err = cmpErrorOf(() => parseWith(custom, { s: 'x' }));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.field).toBe('s');
    expect(err.message).toBe('Bad: x');
  });

  it('a non-validation code without verbatim still starts with the path', () => {
    const params: CmpIssueParams = { cmp_code: 'CONTENT_TOO_LARGE' };
    const custom = z.object({ s: z.string().superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message: 'too big', params })) });
    const err = cmpErrorOf(() => parseWith(custom, { s: 'x' }));
    expect(err.code).toBe('CONTENT_TOO_LARGE');
    expect(err.message).toBe('s: too big');
  });
});
