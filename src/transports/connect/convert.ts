import { fromJson, ScalarType, toJson, type DescField, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { MODALITY_SIZE_LIMITS } from '../../cmp/content.js';
import { CmpError } from '../../cmp/errors.js';
import { clampJsonNesting } from '../../cmp/json-nesting.js';
import type { JsonValue as CmpJsonValue, Modality } from '../../cmp/types.js';

// Protobuf messages ↔ CMP JSON for the Connect binding. protobuf-es's own toJson/fromJson would do,
// but for two things: they base64 bytes in JavaScript (a 50 MB EncodeStore held the event loop 26 s,
// issue 14 defect 6), so bytes go through Buffer; and google.protobuf.Value cannot carry deep JSON.

const JSON_WRITE = { useProtoFieldName: true } as const;

/** A bytes field taken out of a message for the conversion, with where it goes back. */
interface LiftedBytes {
  /** The field's path, in the names of the side it is put back on. */
  path: (string | number)[];
  bytes: Uint8Array;
}

/**
 * The request's CMP JSON form (proto field names, bytes as base64). Content blocks over their
 * modality's size limit are refused first, naming the field, so an oversized body costs no
 * conversion; the other bytes are converted by Buffer, not by protobuf-es.
 */
export function requestJson(desc: DescMessage, message: unknown): Record<string, unknown> {
  const lifted: LiftedBytes[] = [];
  liftBytes(desc, message as Record<string, unknown>, [], lifted);
  const restore = lifted.map(({ path }) => setAt(message, localPath(desc, path), EMPTY));
  let json: Record<string, unknown>;
  try {
    json = toJson(desc, message as never, JSON_WRITE) as Record<string, unknown>;
  } catch (error) {
    throw new CmpError('VALIDATION_ERROR', `request: ${(error as Error).message}`, { cause: error });
  } finally {
    restore.forEach((undo) => undo());
  }
  for (const { path, bytes } of lifted) {
    setAt(json, path, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'), true);
  }
  return json;
}

const EMPTY = new Uint8Array(0);
const CONTENT_BLOCK = 'cerememory.v1.ContentBlock';

/** Collects the non-empty bytes fields of `message` (paths in proto names), checking block sizes on the way. */
function liftBytes(desc: DescMessage, message: Record<string, unknown>, path: (string | number)[], lifted: LiftedBytes[]): void {
  if (desc.typeName === CONTENT_BLOCK) checkBlockSize(message, path);
  for (const field of desc.fields) {
    const value = message[field.localName];
    if (value === undefined || value === null) continue;
    if (field.fieldKind === 'scalar' && field.scalar === ScalarType.BYTES) {
      if ((value as Uint8Array).byteLength > 0) lifted.push({ path: [...path, field.name], bytes: value as Uint8Array });
    } else if (field.fieldKind === 'message' && !JSON_VALUE_TYPES.has(field.message.typeName)) {
      liftBytes(field.message, value as Record<string, unknown>, [...path, field.name], lifted);
    } else if (field.fieldKind === 'list' && field.listKind === 'message') {
      (value as Record<string, unknown>[]).forEach((item, i) => liftBytes(field.message, item, [...path, field.name, i], lifted));
    }
  }
}

/** The §1.3 size rule, on the raw bytes: the same error the CMP parser gives, before any copy is made. */
function checkBlockSize(block: Record<string, unknown>, path: (string | number)[]): void {
  const limit = MODALITY_SIZE_LIMITS[block.modality as Modality] as number | undefined;
  const size = (block.data as Uint8Array).byteLength;
  if (limit === undefined || size <= limit) return;
  const field = [...path, 'data'].join('.');
  throw new CmpError('CONTENT_TOO_LARGE', `${field}: ${size} bytes exceeds ${limit}`, { field });
}

/** `path` (proto names) in the message's own property names. */
function localPath(desc: DescMessage, path: (string | number)[]): (string | number)[] {
  const out: (string | number)[] = [];
  let current: DescMessage | undefined = desc;
  for (const step of path) {
    if (typeof step === 'number' || current === undefined) {
      out.push(step);
      continue;
    }
    const field: DescField | undefined = current.fields.find((f) => f.name === step);
    out.push(field?.localName ?? step);
    current = field !== undefined && (field.fieldKind === 'message' || field.fieldKind === 'list') ? (field.message ?? undefined) : undefined;
  }
  return out;
}

/** Sets `value` at `path` in `root` (creating objects when `create`); answers how to undo it. */
function setAt(root: unknown, path: (string | number)[], value: unknown, create = false): () => void {
  let node = root as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) {
    if (create && (node[step] === undefined || node[step] === null)) node[step] = {};
    node = node[step] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  const previous = node[last];
  node[last] = value;
  return () => {
    node[last] = previous;
  };
}

const JSON_READ = { ignoreUnknownFields: true } as const;

/** The well-known types that carry free-form JSON: each JSON level costs them two message levels. */
const JSON_VALUE_TYPES: ReadonlySet<string> = new Set(['google.protobuf.Value', 'google.protobuf.Struct', 'google.protobuf.ListValue']);

/** The `desc` message of a CMP answer (CMP JSON, proto field names). */
export function responseMessage<Desc extends DescMessage>(desc: Desc, json: unknown): MessageShape<Desc> {
  const lifted: LiftedBytes[] = [];
  const message = fromJson(desc, fitForProtobuf(desc, json, [], lifted) as JsonValue, JSON_READ);
  for (const { path, bytes } of lifted) setAt(message, path, bytes);
  return message;
}

/**
 * `json` made fit for fromJson: every free-form JSON field clamped to what google.protobuf.Value
 * decodes (a record stored before the depth limit, issue 14 defect 3, would otherwise fail every read
 * that returns it, on the server's fromJson or on the client's decoder), and base64 bytes taken out
 * into `lifted` (message property names) for Buffer to decode. Copies only what it changes; the rest
 * is shared with the hippocampus's answer, which may be cached (idempotent replays).
 */
function fitForProtobuf(desc: DescMessage, json: unknown, path: (string | number)[], lifted: LiftedBytes[]): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  let copy: Record<string, unknown> | undefined;
  for (const field of desc.fields) {
    const key = Object.hasOwn(json, field.name) ? field.name : field.jsonName;
    const value = (json as Record<string, unknown>)[key];
    if (value === undefined || value === null) continue;
    const fitted = fitField(field, value, [...path, field.localName], lifted);
    if (fitted === value) continue;
    copy ??= { ...json };
    if (fitted === undefined) delete copy[key];
    else copy[key] = fitted;
  }
  return copy ?? json;
}

function fitField(field: DescField, value: unknown, path: (string | number)[], lifted: LiftedBytes[]): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      if (field.scalar !== ScalarType.BYTES || typeof value !== 'string') return value;
      lifted.push({ path, bytes: Buffer.from(value, 'base64') });
      return undefined;
    case 'message':
      return fitMessage(field.message, value, path, lifted);
    case 'list':
      if (field.listKind !== 'message' || !Array.isArray(value)) return value;
      return changedOnly(
        value,
        value.map((item, i) => fitMessage(field.message, item, [...path, i], lifted)),
      );
    case 'map': {
      if (field.mapKind !== 'message' || typeof value !== 'object') return value;
      const entries = Object.entries(value as Record<string, unknown>);
      const fitted = entries.map(([k, v]) => [k, fitMessage(field.message, v, [...path, k], lifted)] as const);
      return fitted.some(([, v], i) => v !== entries[i]![1]) ? Object.fromEntries(fitted) : value;
    }
    default:
      return value;
  }
}

function fitMessage(desc: DescMessage, value: unknown, path: (string | number)[], lifted: LiftedBytes[]): unknown {
  return JSON_VALUE_TYPES.has(desc.typeName) ? clampJsonNesting(value as CmpJsonValue) : fitForProtobuf(desc, value, path, lifted);
}

function changedOnly<T>(original: T[], fitted: T[]): T[] {
  return fitted.some((item, i) => item !== original[i]) ? fitted : original;
}
