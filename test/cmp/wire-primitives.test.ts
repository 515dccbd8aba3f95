import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { bytesSchema, flagSchema, orDefault, orNull, parseRfc3339, storeSchema, timestampSchema, unitIntervalSchema, uuidSchema } from '../../src/cmp/wire-primitives.js';
import { parseWith } from '../../src/cmp/zod-issues.js';
import { cmpErrorOf } from './cmp-error.js';

describe('parseRfc3339', () => {
  it.each([
    ['2026-04-28T12:34:56Z', Date.UTC(2026, 3, 28, 12, 34, 56)],
    ['2026-04-28T12:34:56.123456789Z', Date.UTC(2026, 3, 28, 12, 34, 56, 123)],
    ['2026-04-28t12:34:56z', Date.UTC(2026, 3, 28, 12, 34, 56)],
    ['2026-04-28 12:34:56+02:00', Date.UTC(2026, 3, 28, 10, 34, 56)],
    ['2024-02-29T00:00:00-00:30', Date.UTC(2024, 1, 29, 0, 30)],
  ])('reads %s', (text, ms) => {
    expect(parseRfc3339(text)).toBe(ms);
  });

  it.each([
    ['2026-04-28'],
    ['2026-04-28T12:34Z'],
    ['2026-04-28T12:34:56'],
    ['2025-02-29T00:00:00Z'],
    ['2026-13-01T00:00:00Z'],
    ['2026-04-31T00:00:00Z'],
    ['2026-04-28T24:00:00Z'],
    ['2026-04-28T12:60:00Z'],
    ['2026-04-28T12:00:00+25:00'],
    [''],
  ])('refuses %j', (text) => {
    expect(parseRfc3339(text)).toBeNull();
  });
});

describe('timestampSchema', () => {
  it('normalises to toISOString form in UTC', () => {
    expect(parseWith(timestampSchema, '2026-01-01T09:00:00+09:00')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('keeps a timestamp already in that form, and still refuses an impossible one of the same shape', () => {
    expect(parseWith(timestampSchema, '2024-02-29T23:59:59.999Z')).toBe('2024-02-29T23:59:59.999Z');
    for (const impossible of ['2025-02-29T00:00:00.000Z', '2026-04-31T00:00:00.000Z', '2026-01-01T24:00:00.000Z']) {
      expect(() => parseWith(timestampSchema, impossible)).toThrow(/RFC 3339/);
    }
  });
});

describe('uuidSchema', () => {
  it('lowercases ids', () => {
    expect(parseWith(uuidSchema, 'ABCDEF00-1C2D-7E3F-8A4B-5C6D7E8F9A0B')).toBe('abcdef00-1c2d-7e3f-8a4b-5c6d7e8f9a0b');
  });

  it('rule: refuses non-UUIDs', () => {
    const err = cmpErrorOf(() => parseWith(uuidSchema, 'abc', 'id'));
    expect(err.field).toBe('id');
    expect(err.message).toBe('id: must be a UUID');
  });
});

describe('bytesSchema', () => {
  it('turns an integer array into base64', () => {
    expect(parseWith(bytesSchema, [72, 101, 108, 108, 111])).toBe('SGVsbG8=');
  });

  it('keeps base64 canonical, including the empty payload', () => {
    expect(parseWith(bytesSchema, 'SGVsbG8')).toBe('SGVsbG8=');
    expect(parseWith(bytesSchema, '')).toBe('');
    expect(parseWith(bytesSchema, [])).toBe('');
  });

  it('rule: names the first bad byte', () => {
    expect(cmpErrorOf(() => parseWith(bytesSchema, [1, 2, 999, -1], 'data')).field).toBe('data.2');
  });
});

describe('storeSchema', () => {
  it('rule: unknown stores are STORE_INVALID with the reference text', () => {
    const err = cmpErrorOf(() => parseWith(storeSchema, 'Semantic', 'store'));
    expect(err.code).toBe('STORE_INVALID');
    expect(err.field).toBe('store');
    expect(err.message).toBe('Invalid store: Semantic');
  });
});

describe('unitIntervalSchema', () => {
  it.each([[0], [0.5], [1]])('accepts %d', (value) => {
    expect(parseWith(unitIntervalSchema, value)).toBe(value);
  });

  it.each([[-0.001], [1.001], [Number.NaN], ['0.5']])('rule: refuses %j', (value) => {
    expect(cmpErrorOf(() => parseWith(unitIntervalSchema, value, 'w')).message).toBe('w: must be in [0.0, 1.0]');
  });
});

describe('flagSchema', () => {
  it('reads booleans and "true"/"false"', () => {
    expect([true, false, 'true', 'false'].map((v) => parseWith(flagSchema, v))).toEqual([true, false, true, false]);
  });
});

describe('orDefault / orNull', () => {
  it('orDefault uses the fallback for null and absent, and a fresh copy each time', () => {
    const schema = z.object({ list: orDefault(z.array(z.string()), []) });
    const first = parseWith(schema, { list: null });
    first.list.push('mutated');
    expect(parseWith(schema, {})).toEqual({ list: [] });
  });

  it('orNull gives null for null and absent', () => {
    const schema = z.object({ name: orNull(z.string()) });
    expect(parseWith(schema, {})).toEqual({ name: null });
    expect(parseWith(schema, { name: 'n' })).toEqual({ name: 'n' });
  });
});
