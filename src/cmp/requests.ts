// One parser per CMP operation: wire JSON (already decoded from the transport) → the typed request the
// hippocampus receives (operations.ts), defaults applied, binary data as base64. Every failure is a
// CmpError naming the field: VALIDATION_ERROR, or STORE_INVALID / CONTENT_TOO_LARGE where §3.22 says so.
import { CmpError, invalidField } from './errors.js';
import type {
  EncodeBatchRawRequest,
  EncodeBatchRequest,
  EncodeStoreRawRequest,
  EncodeStoreRequest,
  EncodeUpdateRequest,
  ExportRequest,
  ForgetRequest,
  ImportRequest,
  IntrospectRecordRequest,
  RecallAssociateRequest,
  RecallGraphRequest,
  RecallQueryRequest,
  RecallRawQueryRequest,
  RecallTimelineRequest,
  RequestBase,
  StatsRequest,
} from './operations.js';
import {
  MAX_BATCH_SIZE,
  baseSchema,
  encodeBatchSchema,
  encodeItemSchema,
  encodeUpdateSchema,
  forgetSchema,
  introspectRecordSchema,
  MAX_ASSOCIATE_DEPTH,
  MAX_ASSOCIATE_LIMIT,
  rawBatchSchema,
  rawItemSchema,
  recallAssociateSchema,
  recallGraphSchema,
  recallQuerySchema,
  recallRawSchema,
  recallTimelineSchema,
  setModeSchema,
  decayTickSchema,
  decayForecastSchema,
  consolidateSchema,
  dreamTickSchema,
  exportSchema,
  importSchema,
} from './request-schemas.js';
import type { StoreType } from './types.js';
import { uuidSchema } from './wire-primitives.js';
import { parseWith } from './zod-issues.js';

/** The request body as an object; anything else (array, string, null) is refused as a whole. */
function body(input: unknown): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw invalidField('body', 'expected a JSON object');
  }
  return input as Record<string, unknown>;
}

function base(fields: Record<string, unknown>): RequestBase {
  return parseWith(baseSchema, fields);
}

/** The record id of a path parameter (which wins, §6.1) or else of the body. */
function recordId(pathRecordId: string | undefined, bodyRecordId: string | undefined): string {
  if (pathRecordId !== undefined) return parseWith(uuidSchema, pathRecordId, 'record_id');
  if (bodyRecordId === undefined) throw invalidField('record_id', 'is required');
  return bodyRecordId;
}

/** §3.1 `encode.store`. */
export function parseEncodeStore(input: unknown): EncodeStoreRequest {
  const fields = body(input);
  const request = base(fields);
  return { ...request, ...parseWith(encodeItemSchema, fields) };
}

/** §3.2 `encode.batch`: at most MAX_BATCH_SIZE records, checked before any record is parsed. */
export function parseEncodeBatch(input: unknown): EncodeBatchRequest {
  const fields = body(input);
  const request = base(fields);
  if (Array.isArray(fields.records) && fields.records.length > MAX_BATCH_SIZE) {
    throw new CmpError('VALIDATION_ERROR', `Batch size ${fields.records.length} exceeds maximum of ${MAX_BATCH_SIZE}`, { field: 'records' });
  }
  return { ...request, ...parseWith(encodeBatchSchema, fields) };
}

/**
 * §3.3 `encode.update`. The id comes from the path when given (the reference also insisted on one in
 * the body; we do not). Fields that are absent or null are left out: only given fields replace.
 */
export function parseEncodeUpdate(input: unknown, pathRecordId?: string): EncodeUpdateRequest {
  const fields = body(input);
  const request = base(fields);
  const parsed = parseWith(encodeUpdateSchema, fields);
  const update: EncodeUpdateRequest = { ...request, record_id: recordId(pathRecordId, parsed.record_id) };
  if (parsed.content != null) update.content = parsed.content;
  if (parsed.emotion != null) update.emotion = parsed.emotion;
  if (parsed.metadata != null) update.metadata = parsed.metadata;
  if (parsed.meta != null) update.meta = parsed.meta;
  return update;
}

/** §3.4 `encode.store_raw`. */
export function parseEncodeStoreRaw(input: unknown): EncodeStoreRawRequest {
  const fields = body(input);
  const request = base(fields);
  return { ...request, ...parseWith(rawItemSchema, fields) };
}

/** §3.5 `encode.batch_raw` (no size cap, as in the reference; the transport's body limit bounds it). */
export function parseEncodeBatchRaw(input: unknown): EncodeBatchRawRequest {
  const fields = body(input);
  const request = base(fields);
  return { ...request, ...parseWith(rawBatchSchema, fields) };
}

/** §3.19 `introspect.record`; flags may be booleans or "true"/"false" (query strings). */
export function parseIntrospectRecord(input: unknown, pathRecordId?: string): IntrospectRecordRequest {
  const fields = body(input ?? {});
  const request = base(fields);
  const { record_id, ...flags } = parseWith(introspectRecordSchema, fields);
  return { ...request, record_id: recordId(pathRecordId, record_id), ...flags };
}

/** §3.18 `introspect.stats`: a GET without a body is fine. */
export function parseStats(input: unknown): StatsRequest {
  return base(body(input ?? {}));
}

/** §3.15 `lifecycle.forget`; a missing or false `confirm` parses (the engine refuses it). */
export function parseForget(input: unknown): ForgetRequest {
  const fields = body(input);
  const request = base(fields);
  return { ...request, ...parseWith(forgetSchema, fields) };
}

/** §3.6 `recall.query`; an absent cue is an empty cue (a recency listing). */
export function parseRecallQuery(input: unknown): RecallQueryRequest {
  const fields = body(input);
  const request = base(fields);
  const parsed = parseWith(recallQuerySchema, fields);
  if (parsed.budget_tokens !== null && parsed.format === null) {
    throw invalidField('budget_tokens', 'is only allowed together with format ("claude", "gpt" or "gemini")');
  }
  return { ...request, ...parsed } as RecallQueryRequest;
}

/** §3.8 `recall.associate`: depth ≤ 8 and limit ≤ 256, refused (not clamped) beyond; depth 0 → 2. */
export function parseRecallAssociate(input: unknown, pathRecordId?: string): RecallAssociateRequest {
  const fields = body(input);
  const request = base(fields);
  const { record_id, ...parsed } = parseWith(recallAssociateSchema, fields);
  if (parsed.depth > MAX_ASSOCIATE_DEPTH) {
    throw new CmpError('VALIDATION_ERROR', `recall.associate depth ${parsed.depth} exceeds maximum of ${MAX_ASSOCIATE_DEPTH}`, { field: 'depth' });
  }
  if (parsed.limit > MAX_ASSOCIATE_LIMIT) {
    throw new CmpError('VALIDATION_ERROR', `recall.associate limit ${parsed.limit} exceeds maximum of ${MAX_ASSOCIATE_LIMIT}`, { field: 'limit' });
  }
  return { ...request, record_id: recordId(pathRecordId, record_id), ...parsed, depth: parsed.depth === 0 ? 2 : parsed.depth };
}

/** §3.9 `recall.timeline`. */
export function parseRecallTimeline(input: unknown): RecallTimelineRequest {
  const fields = body(input);
  return { ...base(fields), ...parseWith(recallTimelineSchema, fields) };
}

/** §3.10 `recall.graph`. */
export function parseRecallGraph(input: unknown): RecallGraphRequest {
  const fields = body(input);
  return { ...base(fields), ...parseWith(recallGraphSchema, fields) };
}

/** §3.7 `recall.raw_query`. */
export function parseRecallRaw(input: unknown): RecallRawQueryRequest {
  const fields = body(input);
  return { ...base(fields), ...parseWith(recallRawSchema, fields) };
}

/** §3.14 `lifecycle.set_mode`. */
export function parseSetMode(input: unknown): RequestBase & { mode: 'human' | 'perfect'; scope: StoreType[] | null } {
  const fields = body(input);
  return { ...base(fields), ...parseWith(setModeSchema, fields) };
}

/** §3.13 `lifecycle.decay_tick`: `tick_duration_seconds` absent or null → 3600. */
export function parseDecayTick(input: unknown): RequestBase & { tick_duration_seconds: number } {
  const fields = body(input ?? {});
  return { ...base(fields), ...parseWith(decayTickSchema, fields) };
}

/** §3.20 `introspect.decay_forecast`. */
export function parseDecayForecast(input: unknown): RequestBase & { record_ids: string[]; forecast_at: string } {
  const fields = body(input);
  return { ...base(fields), ...parseWith(decayForecastSchema, fields) };
}

/** §3.11 `lifecycle.consolidate`. */
export function parseConsolidate(input: unknown) {
  const fields = body(input ?? {});
  return { ...base(fields), ...parseWith(consolidateSchema, fields) };
}

/** §3.12 `lifecycle.dream_tick`. */
export function parseDreamTick(input: unknown) {
  const fields = body(input ?? {});
  return { ...base(fields), ...parseWith(dreamTickSchema, fields) };
}

/** §3.16 `lifecycle.export`. */
export function parseExport(input: unknown): ExportRequest {
  const fields = body(input ?? {});
  return { ...base(fields), ...parseWith(exportSchema, fields) };
}

/**
 * §3.17 `lifecycle.import`: the request, and the archive when the body carries it inline
 * (`archive_data`, integer array or base64). Streaming transports send the archive apart and leave it null.
 */
export function parseImport(input: unknown): { request: ImportRequest; archive_data: Buffer | null } {
  const fields = body(input);
  const { archive_data, ...parsed } = parseWith(importSchema, fields);
  return {
    request: { ...base(fields), ...parsed },
    archive_data: archive_data === null ? null : Buffer.from(archive_data, 'base64'),
  };
}
