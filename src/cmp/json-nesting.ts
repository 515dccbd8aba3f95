// How deep a JSON value nests, and cutting one down to a depth, without recursion: request bodies of
// thousands of levels must neither overflow the stack nor reach an encoder that cannot carry them.
// Free of zod, like meta-text.ts: store workers check structured content with it.
import type { JsonValue } from './types.js';

/**
 * Deepest nesting of any JSON-valued field (metadata, cue and context values, structured content):
 * containers around the innermost value, so `{}` is 1 level and `{"a":[1]}` 2. Ours, not the
 * reference's: google.protobuf.Value decodes at most 100 message levels and each JSON level costs two
 * (Value, then Struct or ListValue), so 32 leaves room for the response messages around a record
 * (issue 14, defects 3 and 8).
 */
export const MAX_JSON_NESTING = 32;

/**
 * How many levels `value` nests (0 for a scalar), counted without recursion so that a hostile body of
 * thousands of levels cannot overflow the stack. Stops early once it is past `limit`.
 */
export function jsonNesting(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node)) pending.push([child, level]);
  }
  return deepest;
}

/**
 * `value` with every container below level `max` replaced by its JSON text, for encoders that cannot
 * carry deeper values (google.protobuf.Value); the same object when it is shallow enough. Records
 * stored before the depth limit existed may nest deeper, and reading them must not fail (issue 14,
 * defect 3). Iterative like `jsonNesting`; the cut-off part was stored as JSON, so it stringifies.
 */
export function clampJsonNesting(value: JsonValue, max = MAX_JSON_NESTING): JsonValue {
  if (jsonNesting(value, max) <= max) return value;
  const root: Record<string, JsonValue> = {};
  const pending: [JsonValue, Record<string, JsonValue>, string, number][] = [[value, root, 'value', 0]];
  while (pending.length > 0) {
    const [node, parent, key, depth] = pending.pop()!;
    if (node === null || typeof node !== 'object') {
      parent[key] = node;
    } else if (depth === max) {
      parent[key] = jsonText(node);
    } else {
      const copy = (Array.isArray(node) ? [] : {}) as Record<string, JsonValue>;
      parent[key] = copy as JsonValue;
      // Pushed last to first so that keys are copied, and therefore ordered, as in the original.
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) pending.push([entries[i]![1], copy, entries[i]![0], depth + 1]);
    }
  }
  return root.value!;
}

function jsonText(value: JsonValue): string {
  try {
    return JSON.stringify(value);
  } catch {
    // Deeper than JSON.stringify's stack allows (thousands of levels): say so rather than fail the read.
    return `[JSON nested deeper than ${MAX_JSON_NESTING} levels]`;
  }
}
