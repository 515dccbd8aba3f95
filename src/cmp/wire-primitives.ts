// Zod schemas for the scalar wire types shared by the meta-memory and request parsers (reference spec
// §1.1): ids, RFC 3339 timestamps, binary payloads, free-form JSON, stores. Outputs are normalised:
// ids lowercase, timestamps in `toISOString()` form, binary data as canonical base64.
import { z } from 'zod';
import { isUuid } from './ids.js';
import { jsonNesting, MAX_JSON_NESTING } from './json-nesting.js';
import { STORE_TYPES, type JsonValue, type StoreType } from './types.js';
import { parseNested, type CmpIssueParams } from './zod-issues.js';

/**
 * `schema`, with null or absent standing for `fallback` (the reference's serde defaults). The fallback
 * is cloned per parse so no two requests share a mutable default.
 */
export function orDefault<S extends z.ZodType>(schema: S, fallback: z.input<S>) {
  return z.preprocess((value) => value ?? structuredClone(fallback), schema);
}

/** `schema`, or null when null or absent. */
export function orNull<S extends z.ZodType>(schema: S) {
  return schema.nullish().transform((value): z.output<S> | null => value ?? null);
}

export const uuidSchema = z
  .string()
  .refine(isUuid, { error: 'must be a UUID' })
  .transform((id) => id.toLowerCase());

const RFC_3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Milliseconds of an RFC 3339 date-time (seconds and offset required), or null if it is not one. */
export function parseRfc3339(value: string): number | null {
  const m = RFC_3339.exec(value);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const offsetOk = m[8] === undefined || (Number(m[8]) < 24 && Number(m[9]) < 60);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || !offsetOk) {
    return null;
  }
  const ms = Date.parse(value.replace(/[t ]/, 'T').replace(/z$/, 'Z'));
  return Number.isNaN(ms) ? null : ms;
}

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const timestampSchema = z.string().transform((value, ctx) => {
  // Fast path for the form we write ourselves (archives carry ~9 per record): a string that
  // `toISOString()` reproduces exactly is a valid RFC 3339 timestamp already in normal form.
  if (CANONICAL.test(value)) {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed) && new Date(parsed).toISOString() === value) return value;
  }
  const ms = parseRfc3339(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be an RFC 3339 timestamp', input: value });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Binary payload: an array of integers 0–255 (the reference's wire form, §1.1) or a base64 string;
 * always base64 out.
 */
export const bytesSchema = z.unknown().transform((value, ctx): string => {
  if (typeof value === 'string') {
    const body = value.replace(/=+$/, '');
    if (!BASE64.test(value) || body.length % 4 === 1 || value.length - body.length > 2) {
      ctx.addIssue({ code: 'custom', message: 'must be base64 or an array of integers 0-255', input: value });
      return z.NEVER;
    }
    return Buffer.from(value, 'base64').toString('base64');
  }
  if (Array.isArray(value)) {
    const bad = value.findIndex((b) => !Number.isInteger(b) || b < 0 || b > 255);
    if (bad >= 0) {
      ctx.addIssue({ code: 'custom', message: 'must be an integer 0-255', path: [bad], input: value[bad] });
      return z.NEVER;
    }
    return Buffer.from(value as number[]).toString('base64');
  }
  ctx.addIssue({
    code: 'custom',
    message: value === undefined ? 'is required' : 'must be base64 or an array of integers 0-255',
    input: value,
  });
  return z.NEVER;
});

const jsonValueSchema = z.json() as z.ZodType<JsonValue>;

/**
 * Free-form JSON at most MAX_JSON_NESTING levels deep. The depth is checked before zod's own JSON
 * check, which recurses and overflowed the stack on ~3,000 levels (a 500 instead of a named field).
 */
export const jsonSchema: z.ZodType<JsonValue> = z.unknown().transform((value, ctx): JsonValue => {
  if (jsonNesting(value, MAX_JSON_NESTING) > MAX_JSON_NESTING) {
    ctx.addIssue({ code: 'custom', message: `must nest at most ${MAX_JSON_NESTING} levels`, input: value });
    return z.NEVER;
  }
  return parseNested(jsonValueSchema, value, ctx);
}) as z.ZodType<JsonValue>;

/** Exact lowercase store name; anything else is STORE_INVALID with the reference's text (§1.2). */
export const storeSchema = z.string().transform((value, ctx): StoreType => {
  if ((STORE_TYPES as readonly string[]).includes(value)) return value as StoreType;
  const params: CmpIssueParams = { cmp_code: 'STORE_INVALID', verbatim: true };
  ctx.addIssue({ code: 'custom', message: `Invalid store: ${value}`, input: value, params });
  return z.NEVER;
});

/** A number in [0, 1]; NaN and non-numbers fail with the reference's wording (§1.8). */
export const unitIntervalSchema = z.custom<number>((value) => typeof value === 'number' && value >= 0 && value <= 1, {
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be in [0.0, 1.0]'),
});

/** A boolean; query strings may carry it as "true"/"false". */
export const flagSchema = z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());
