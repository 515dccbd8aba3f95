// Record building blocks and record-level validation (reference spec §1.3, §1.5, §1.9, §3.1 step 3).
// Validation runs on encode, update and import, on the finished record, so it guards what is stored.
import { CmpError, invalidField } from './errors.js';
import { validateContent } from './content.js';
import { checkStoredMeta } from './meta.js';
import type { EncodeContext, FidelityState, JsonObject, JsonValue, MemoryRecord, RawJournalRecord } from './types.js';
import { dotted } from './zod-issues.js';

/** The fidelity of a new record: pristine, with its store's decay exponent and initial stability. */
export function defaultFidelity(nowIso: string, params: { decay_rate: number; stability: number }): FidelityState {
  return {
    score: 1,
    noise_level: 0,
    decay_rate: params.decay_rate,
    emotional_anchor: 1,
    reinforcement_count: 0,
    stability: params.stability,
    last_decay_tick: nowIso,
    anchor_score: 1,
    anchor_at: nowIso,
  };
}

function isJsonObject(value: JsonValue | null): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * §3.1 step 3: the context goes under `_context` with all four keys (nulls included); object metadata
 * keeps its keys beside it, other metadata moves under `_metadata`. Neither → `{}`.
 */
export function mergeMetadata(metadata: JsonValue | null, context: EncodeContext | null): JsonValue {
  if (context === null) return metadata ?? {};
  // Keys in sorted order, as the reference's JSON maps come back (§1.1).
  const _context: JsonObject = {
    session_id: context.session_id ?? null,
    source: context.source ?? null,
    spatial: context.spatial ?? null,
    temporal: context.temporal ?? null,
  };
  if (metadata === null) return { _context };
  if (isJsonObject(metadata)) return { ...metadata, _context };
  return { _context, _metadata: metadata };
}

function checkUnit(value: number, field: string): void {
  if (!(value >= 0 && value <= 1)) throw invalidField(field, `${value} out of range [0.0, 1.0]`);
}

/** §1.3 validation of a curated record; `field` is the record's path ('' at the top level). */
export function validateRecord(record: MemoryRecord, field: string): void {
  validateContent(record.content, dotted(field, 'content'));
  checkUnit(record.fidelity.score, dotted(field, 'fidelity', 'score'));
  checkUnit(record.fidelity.noise_level, dotted(field, 'fidelity', 'noise_level'));
  for (const [i, association] of record.associations.entries()) {
    checkUnit(association.weight, dotted(field, 'associations', i, 'weight'));
  }
  checkStoredMeta(record.meta, dotted(field, 'meta'));
}

/** §1.9 validation of a raw journal record: non-blank session, then the curated content/meta rules. */
export function validateRawRecord(record: RawJournalRecord, field: string): void {
  const sessionField = dotted(field, 'session_id');
  if (record.session_id.trim() === '') {
    throw new CmpError('VALIDATION_ERROR', 'session_id must not be empty', { field: sessionField });
  }
  validateContent(record.content, dotted(field, 'content'));
  checkStoredMeta(record.meta, dotted(field, 'meta'));
}
