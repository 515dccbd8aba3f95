import { fromJson, type DescField, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { clampJsonNesting } from '../../cmp/json-nesting.js';
import type { JsonValue as CmpJsonValue } from '../../cmp/types.js';

// CMP JSON → protobuf messages for the Connect binding, with what protobuf-es's own
// `fromJson` cannot be trusted with: JSON values deeper than google.protobuf.Value decodes.

const JSON_READ = { ignoreUnknownFields: true } as const;

/** The well-known types that carry free-form JSON: each JSON level costs them two message levels. */
const JSON_VALUE_TYPES: ReadonlySet<string> = new Set(['google.protobuf.Value', 'google.protobuf.Struct', 'google.protobuf.ListValue']);

/** The `desc` message of a CMP answer (CMP JSON, proto field names). */
export function responseMessage<Desc extends DescMessage>(desc: Desc, json: unknown): MessageShape<Desc> {
  return fromJson(desc, fitForProtobuf(desc, json) as JsonValue, JSON_READ);
}

/**
 * `json` with every free-form JSON field clamped to what google.protobuf.Value decodes: a record
 * stored before the depth limit (issue 14, defect 3) would otherwise fail every read that returns it,
 * on the server's `fromJson` or on the client's decoder. Copies only what it changes; the rest is
 * shared with the hippocampus's answer, which may be cached (idempotent replays).
 */
function fitForProtobuf(desc: DescMessage, json: unknown): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  let copy: Record<string, unknown> | undefined;
  for (const field of desc.fields) {
    const key = Object.hasOwn(json, field.name) ? field.name : field.jsonName;
    const value = (json as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    const fitted = fitField(field, value);
    if (fitted !== value) (copy ??= { ...json })[key] = fitted;
  }
  return copy ?? json;
}

function fitField(field: DescField, value: unknown): unknown {
  switch (field.fieldKind) {
    case 'message':
      return fitMessage(field.message, value);
    case 'list':
      return field.listKind === 'message' && Array.isArray(value) ? changedOnly(value, value.map((item) => fitMessage(field.message, item))) : value;
    case 'map': {
      if (field.mapKind !== 'message' || typeof value !== 'object') return value;
      const entries = Object.entries(value as Record<string, unknown>);
      const fitted = entries.map(([k, v]) => [k, fitMessage(field.message, v)] as const);
      return fitted.some(([, v], i) => v !== entries[i]![1]) ? Object.fromEntries(fitted) : value;
    }
    default:
      return value;
  }
}

function fitMessage(desc: DescMessage, value: unknown): unknown {
  return JSON_VALUE_TYPES.has(desc.typeName) ? clampJsonNesting(value as CmpJsonValue) : fitForProtobuf(desc, value);
}

function changedOnly<T>(original: T[], fitted: T[]): T[] {
  return fitted.some((item, i) => item !== original[i]) ? fitted : original;
}
