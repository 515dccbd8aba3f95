// Zod issues → CmpError (STYLE §6.4: "zod issues → VALIDATION_ERROR naming the field"). Only the first
// issue is reported: its dotted path becomes `field` and the message starts with that path. A schema
// may raise another code, or a text the reference spec fixes word for word, through issue params.
import { z } from 'zod';
import { CmpError, invalidField, type CmpCode } from './errors.js';

/** Params a schema puts on a custom issue to control the CmpError it becomes. */
export interface CmpIssueParams {
  /** Code of the CmpError; VALIDATION_ERROR when absent. */
  cmp_code?: CmpCode;
  /** The message is the issue's text alone, without the path (texts fixed by the spec). */
  verbatim?: boolean;
}

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** Joins path segments with dots, skipping empty ones; the empty path is "body". */
export function dotted(...parts: PropertyKey[]): string {
  const path = parts
    .map(String)
    .filter((p) => p !== '')
    .join('.');
  return path === '' ? 'body' : path;
}

function received(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  // NaN, Infinity, -Infinity (JSON's 1e400 parses to Infinity): "received number" would puzzle.
  if (typeof input === 'number' && !Number.isFinite(input)) return String(input);
  return typeof input;
}

/** The problem text of a zod issue that carries no schema-given message. */
function problemOf(issue: RawIssue): string {
  const missing = issue.input === undefined;
  switch (issue.code) {
    case 'invalid_type':
      return missing ? 'is required' : `expected ${issue.expected}, received ${received(issue.input)}`;
    case 'invalid_value': {
      const expected = issue.values.length === 1 ? `expected ${String(issue.values[0])}` : `expected one of ${issue.values.join(', ')}`;
      return missing ? `is required; ${expected}` : expected;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = small ? issue.minimum : issue.maximum;
      if (issue.origin === 'array') return `must have ${small ? 'at least' : 'at most'} ${bound} items`;
      if (issue.origin === 'string') return `must be ${small ? 'at least' : 'at most'} ${bound} characters`;
      return `must be ${small ? '>' : '<'}${issue.inclusive ? '=' : ''} ${bound}`;
    }
    case 'invalid_format':
      return `must be a valid ${issue.format}`;
    case 'invalid_union':
      return 'does not match any accepted form';
    default:
      return issue.message ?? 'is invalid';
  }
}

/** Per-parse error map: schema-given messages win; every other issue gets `problemOf`. */
const errorMap = (issue: RawIssue): string => problemOf(issue);

export function issueToCmpError(issue: Issue, prefix = ''): CmpError {
  const field = dotted(prefix, ...issue.path);
  const params = (issue.code === 'custom' ? issue.params : undefined) as CmpIssueParams | undefined;
  const code = params?.cmp_code ?? 'VALIDATION_ERROR';
  if (params?.verbatim) return new CmpError(code, issue.message, { field });
  if (code === 'VALIDATION_ERROR') return invalidField(field, issue.message);
  return new CmpError(code, `${field}: ${issue.message}`, { field });
}

/** Parses `input` or throws the first issue as a CmpError whose field is prefixed with `prefix`. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(input, { error: errorMap, reportInput: true });
  if (result.success) return result.data;
  throw issueToCmpError(result.error.issues[0], prefix);
}

/**
 * Runs `schema` inside a transform and re-raises its issues on the outer context (paths stay relative),
 * so a value can be dispatched on its runtime type without a union's vague "no match" error.
 */
export function parseNested<S extends z.ZodType>(schema: S, input: unknown, ctx: z.core.$RefinementCtx): z.output<S> {
  const result = schema.safeParse(input, { error: errorMap, reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const params = issue.code === 'custom' ? issue.params : undefined;
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path, input: issue.input, params });
  }
  return z.NEVER;
}
