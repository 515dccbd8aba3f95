import { z } from 'zod';
import { parseEmotionLabel } from '../../cmp/emotion.js';
import { RAW_SOURCES, RAW_SPEAKERS, RAW_VISIBILITIES, SECRECY_LEVELS, type EmotionVector } from '../../cmp/types.js';
import { parseWith } from '../../cmp/zod-issues.js';
import type { CmpObject } from '../endpoint.js';
import { invalid, toMcpError } from './errors.js';

// The tools' flat, string-friendly parameters turned into CMP request fields: comma lists, enum names in
// any case, emotion labels, JSON strings, clamped numbers, and the items of the batch tools. The enums
// are CMP's own (cmp/types.ts); the CMP request schemas validate everything again behind the call.

export const textBlock = (text: string) => ({ modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64') });

export function nonBlank(value: string, name: string): string {
  if (value.trim() === '') throw invalid(`${name} must not be empty`);
  return value;
}

/** "a, b ,c" → ["a","b","c"], lowercased where the values are enum names. */
export function list(value: string | undefined, lowercase = true): string[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((item) => (lowercase ? item.trim().toLowerCase() : item.trim()))
    .filter((item) => item !== '');
}

export function enumValue<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  const normalised = value.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(normalised)) throw invalid(`Invalid ${name} '${value}'. Valid options: ${allowed.join(', ')}`);
  return normalised as T;
}

export function emotion(label: string | undefined): EmotionVector | undefined {
  if (label === undefined || label.trim() === '') return undefined;
  try {
    return parseEmotionLabel(label);
  } catch (error) {
    throw toMcpError(error);
  }
}

/** `meta_json` is a JSON string holding a MetaMemory; blank means none. The server validates the shape. */
export function meta(metaJson: string | undefined): CmpObject | undefined {
  if (metaJson === undefined || metaJson.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(metaJson);
  } catch (error) {
    throw invalid(`Invalid MetaMemory JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('Invalid MetaMemory payload: expected a JSON object');
  return parsed as CmpObject;
}

export function clamp(value: number | undefined, fallback: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.trunc(value ?? fallback)));
}

export function recordsJson(value: string): CmpObject[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw invalid(`records_json: invalid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed) || parsed.some((item) => item === null || typeof item !== 'object' || Array.isArray(item))) {
    throw invalid('records_json: expected a JSON array of objects');
  }
  return parsed as CmpObject[];
}

export function timestamp(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) throw invalid(`${name}: expected an RFC 3339 timestamp`);
  return new Date(value).toISOString();
}

export const space = z.string().optional().describe('Memory space (tenant); default "default".');

// The fields of one memory, shared by the single tools' input schemas and the items of their batch
// variants: the SDK validates a tool's arguments, but a batch item arrives inside `records_json` and
// must be held to the same schema, or `null` and numbers reach the helpers below (issue 14, defect 10).
export const curatedFields = {
  content: z.string().describe('The memory text.'),
  store: z.string().optional().describe('episodic | semantic | procedural | emotional | working'),
  emotion: z.string().optional().describe('An emotion label such as joy, fear, trust.'),
  meta_json: z.string().optional().describe('MetaMemory as a JSON string: intent, rationale, confidence, tags, …'),
};

export const rawFields = {
  content: z.string(),
  session_id: z.string(),
  turn_id: z.string().optional(),
  topic_id: z.string().optional(),
  source: z.string().optional().describe('conversation (default) | tool_io | scratchpad | summary | imported'),
  speaker: z.string().optional().describe('user (default) | assistant | system | tool'),
  visibility: z.string().optional().describe('normal (default) | private_scratch | sealed'),
  secrecy_level: z.string().optional().describe('public (default) | sensitive | secret'),
  meta_json: z.string().optional(),
};

type CuratedItem = z.infer<z.ZodObject<typeof curatedFields>>;
type RawItem = z.infer<z.ZodObject<typeof rawFields>>;

/** The items of `records_json`, each held to `fields`; the first bad one is named (`records.2.emotion`). */
export function batchItems<Shape extends z.ZodRawShape>(recordsJsonText: string, fields: Shape): z.infer<z.ZodObject<Shape>>[] {
  const schema = z.object(fields);
  try {
    return recordsJson(recordsJsonText).map((item, index) => parseWith(schema, item, `records.${index}`));
  } catch (error) {
    throw toMcpError(error);
  }
}

export function rawItem(item: RawItem, where: string): CmpObject {
  return {
    session_id: nonBlank(item.session_id, `${where}session_id`),
    turn_id: item.turn_id ?? null,
    topic_id: item.topic_id ?? null,
    source: enumValue(item.source, RAW_SOURCES, `${where}source`) ?? 'conversation',
    speaker: enumValue(item.speaker, RAW_SPEAKERS, `${where}speaker`) ?? 'user',
    visibility: enumValue(item.visibility, RAW_VISIBILITIES, `${where}visibility`) ?? 'normal',
    secrecy_level: enumValue(item.secrecy_level, SECRECY_LEVELS, `${where}secrecy_level`) ?? 'public',
    content: { blocks: [textBlock(nonBlank(item.content, `${where}content`))] },
    ...(meta(item.meta_json) ? { meta: meta(item.meta_json) } : {}),
  };
}

export function curatedItem(item: CuratedItem, where: string): CmpObject {
  return {
    content: { blocks: [textBlock(nonBlank(item.content, `${where}content`))] },
    ...(item.store === undefined ? {} : { store: item.store.trim().toLowerCase() }),
    ...(emotion(item.emotion) ? { emotion: emotion(item.emotion) } : {}),
    ...(meta(item.meta_json) ? { meta: meta(item.meta_json) } : {}),
  };
}
