// Schema building blocks of the configuration. Each range check carries the sentence the error message
// shows, so the message and the rule cannot drift apart.

import { z } from 'zod';

export function num(expected: string, ok: (n: number) => boolean) {
  return z.number({ error: `expected ${expected}` }).refine(ok, { error: `expected ${expected}` });
}
/** An integer in lo..hi (both inclusive). */
export function int(lo: number, hi = Number.POSITIVE_INFINITY) {
  const expected = hi === Number.POSITIVE_INFINITY ? `an integer >= ${lo}` : `an integer in ${lo}..${hi}`;
  return num(expected, (n) => Number.isInteger(n) && n >= lo && n <= hi);
}
/** A finite number > 0, optionally ≤ max. */
export function positive(max = Number.POSITIVE_INFINITY) {
  const expected = max === Number.POSITIVE_INFINITY ? 'a number > 0' : `a number > 0 and <= ${max}`;
  return num(expected, (n) => n > 0 && n <= max);
}
/** A fraction in 0..1 (both inclusive). */
export function fraction() {
  return num('a number in 0..1', (n) => n >= 0 && n <= 1);
}
export function bool() {
  return z.boolean({ error: 'expected true or false' });
}
export function nonBlank() {
  return z.string({ error: 'expected a non-blank string' }).refine((s) => s.trim() !== '', { error: 'expected a non-blank string' });
}
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}` });
}
export function list<T extends z.ZodType>(element: T) {
  return z.array(element, { error: 'expected a list' });
}
export function table<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, { error: 'expected a table' });
}

/** An http(s) URL, e.g. a provider's base URL. */
export function httpUrl() {
  return z.string({ error: 'expected an http(s) URL' }).refine(isHttpUrl, { error: 'expected an http(s) URL' });
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
