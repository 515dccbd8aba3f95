// Memory content: validation (reference spec §1.3 rules 1 and 5–7), the text and embedding a record is
// known by (§1.3 helper, §1.4), and the searchable document body of the full-text index (§5.1).
// Block data is base64 here; sizes are of the decoded bytes.
import { CmpError, invalidField, type CmpCode } from './errors.js';
import { jsonNesting, MAX_JSON_NESTING } from './json-nesting.js';
import { metaSearchText } from './meta-text.js';
import type { ContentBlock, MemoryContent, MetaMemory, Modality } from './types.js';

const MIB = 1_048_576;

/** Largest decoded `data` per block, in bytes (§1.3 rule 5). */
export const MODALITY_SIZE_LIMITS: Readonly<Record<Modality, number>> = {
  text: MIB,
  image: 10 * MIB,
  audio: 50 * MIB,
  video: 50 * MIB,
  structured: MIB,
  spatial: MIB,
  temporal: MIB,
  interoceptive: MIB,
};

/** Deepest nesting the structured flattener follows (§5.1); the root value is depth 0. */
export const MAX_JSON_DEPTH = 10;

/** One content defect, located relative to the content object, so callers can prefix any path. */
export interface ContentProblem {
  path: (string | number)[];
  code: CmpCode;
  problem: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeUtf8(data: string): string | null {
  try {
    return strictUtf8.decode(Buffer.from(data, 'base64'));
  } catch {
    return null;
  }
}

/** The first defect of `content`, or null; checks run in the order of §1.3. */
export function findContentProblem(content: MemoryContent): ContentProblem | null {
  if (content.blocks.length === 0) {
    return { path: ['blocks'], code: 'VALIDATION_ERROR', problem: 'must have at least one content block' };
  }
  for (const [i, block] of content.blocks.entries()) {
    const size = Buffer.byteLength(block.data, 'base64');
    const limit = MODALITY_SIZE_LIMITS[block.modality];
    if (size > limit) {
      return { path: ['blocks', i, 'data'], code: 'CONTENT_TOO_LARGE', problem: `${size} bytes exceeds ${limit}` };
    }
    if (block.modality === 'text' && decodeUtf8(block.data) === null) {
      return { path: ['blocks', i, 'data'], code: 'VALIDATION_ERROR', problem: 'text content must be valid UTF-8' };
    }
    if (block.modality === 'structured') {
      const problem = structuredProblem(block.data);
      if (problem !== null) return { path: ['blocks', i, 'data'], code: 'VALIDATION_ERROR', problem };
    }
    const embedding = block.embedding;
    if (embedding !== undefined && embedding !== null) {
      if (embedding.length === 0) {
        return { path: ['blocks', i, 'embedding'], code: 'VALIDATION_ERROR', problem: 'embedding must not be empty' };
      }
      const bad = embedding.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
      if (bad >= 0) {
        return {
          path: ['blocks', i, 'embedding', bad],
          code: 'VALIDATION_ERROR',
          problem: 'embedding contains NaN or Inf',
        };
      }
    }
  }
  return null;
}

/** Why a structured block's data is refused: not JSON, or deeper than every JSON-valued field may be. */
function structuredProblem(data: string): string | null {
  const text = decodeUtf8(data);
  let value: unknown;
  try {
    if (text === null) throw new Error('not UTF-8');
    value = JSON.parse(text);
  } catch {
    return 'structured content must be valid JSON';
  }
  if (jsonNesting(value, MAX_JSON_NESTING) > MAX_JSON_NESTING) return `structured content must nest at most ${MAX_JSON_NESTING} levels`;
  return null;
}

/** Throws the first defect of `content` (at field path `field`) as a CmpError naming the exact field. */
export function validateContent(content: MemoryContent, field: string): void {
  const found = findContentProblem(content);
  if (found === null) return;
  const path = [field, ...found.path].filter((p) => p !== '').join('.');
  if (found.code === 'VALIDATION_ERROR') throw invalidField(path, found.problem);
  throw new CmpError(found.code, `${path}: ${found.problem}`, { field: path });
}

/** The record's text: its first text block as UTF-8; null without one (or if it is not UTF-8). */
export function textOf(content: MemoryContent): string | null {
  const block = content.blocks.find((b) => b.modality === 'text');
  return block === undefined ? null : decodeUtf8(block.data);
}

/** The record's single vector (§1.4): the first block, of any modality, that carries an embedding. */
export function firstEmbedding(content: MemoryContent): number[] | null {
  for (const block of content.blocks) {
    if (block.embedding && block.embedding.length > 0) return block.embedding;
  }
  return null;
}

/** A `text/plain` block holding `text` as UTF-8. */
export function textBlock(text: string): ContentBlock {
  return { modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64'), embedding: null };
}

/**
 * §5.1 structured flattening: `prefix: value` lines, object keys sorted and joined with `.`, array
 * elements under their parent's prefix, bare values at the root. Deeper than MAX_JSON_DEPTH throws.
 */
export function flattenJsonToText(value: unknown): string[] {
  const lines: string[] = [];
  flattenInto(value, '', 0, lines);
  return lines;
}

function flattenInto(value: unknown, prefix: string, depth: number, lines: string[]): void {
  if (depth > MAX_JSON_DEPTH) {
    throw invalidField('content', `JSON nesting exceeds maximum depth of ${MAX_JSON_DEPTH}`);
  }
  if (Array.isArray(value)) {
    for (const item of value) flattenInto(item, prefix, depth + 1, lines);
    return;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, child] of entries) flattenInto(child, prefix === '' ? key : `${prefix}.${key}`, depth + 1, lines);
    return;
  }
  const leaf = typeof value === 'string' ? value : value === undefined ? 'null' : JSON.stringify(value);
  lines.push(prefix === '' ? leaf : `${prefix}: ${leaf}`);
}

/**
 * The full-text document body (§5.1): trimmed non-empty text blocks, flattened structured blocks, then
 * meta text (only for provided/inferred meta), joined with "\n". The summary is indexed separately.
 *
 * Differs from the reference on purpose: a text block that is not UTF-8, or a structured block that is
 * not JSON or nests too deep, is skipped alone, where the reference dropped the whole record from the
 * index. The record stays findable by the rest of its text.
 */
export function searchableText(content: MemoryContent, meta: MetaMemory): string {
  const chunks: string[] = [];
  for (const block of content.blocks) {
    if (block.modality === 'text') {
      const text = decodeUtf8(block.data)?.trim();
      if (text) chunks.push(text);
    } else if (block.modality === 'structured') {
      const lines = structuredLines(block.data);
      if (lines.length > 0) chunks.push(lines.join('\n'));
    }
  }
  chunks.push(...metaSearchText(meta));
  return chunks.join('\n');
}

function structuredLines(data: string): string[] {
  const text = decodeUtf8(data);
  if (text === null) return [];
  try {
    return flattenJsonToText(JSON.parse(text));
  } catch {
    return [];
  }
}

/**
 * `text` cut to at most `maxBytes` UTF-8 bytes at a character boundary, plus "..." when anything was
 * cut (the "..." is not counted in `maxBytes`, as in the reference).
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  // 0b10xxxxxx bytes continue a character; a boundary is a byte that does not.
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return `${bytes.subarray(0, end).toString('utf8')}...`;
}
