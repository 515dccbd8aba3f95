// The meta-memory plane (reference spec §1.8): the typed "why" every record carries. Parsing fills the
// table's defaults, the canonical constructors give the observable values of legacy/unavailable/
// inferred meta, normalisation turns caller meta into stored meta, and metaSearchText feeds the index.
import { z } from 'zod';
import { invalidField } from './errors.js';
import { CAPTURE_STATUSES, META_RELATIONS, type MetaEvidenceRef, type MetaMemory } from './types.js';
import { orDefault, orNull, timestampSchema, unitIntervalSchema, uuidSchema } from './wire-primitives.js';
import { dotted, parseWith } from './zod-issues.js';

export const LEGACY_RATIONALE = 'No structured meta-memory was captured for this legacy record.';
export const UNAVAILABLE_RATIONALE = 'No explicit meta-rationale was provided at ingest time.';

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const confidence = orNull(unitIntervalSchema);
const text = orNull(z.string());
const strings = orDefault(z.array(z.string()), []);
const ids = orDefault(z.array(uuidSchema), []);

const evidenceSchema = z.object({
  record_id: orNull(uuidSchema),
  raw_record_id: orNull(uuidSchema),
  label: text,
  excerpt: text,
  uri: text,
  confidence,
});

const alternativeSchema = z.object({
  option: orDefault(z.string(), ''),
  reason: text,
  chosen: orDefault(z.boolean(), false),
});

const edgeSchema = z.object({
  source_id: orNull(uuidSchema),
  target_id: uuidSchema.refine((id) => id !== NIL_UUID, { error: 'must not be the nil UUID' }),
  relation: orDefault(z.enum(META_RELATIONS), 'context_of'),
  rationale: text,
  evidence: orDefault(z.array(evidenceSchema), []),
  confidence,
  created_at: orNull(timestampSchema),
});

/**
 * Caller or stored meta with every default of the §1.8 table applied. `schema_version` 0 passes here
 * (normalisation lifts it to 1); a stored record must have ≥ 1 (see `checkStoredMeta`).
 */
export const metaSchema = z.object({
  schema_version: orDefault(z.number().int().min(0).max(0xffff_ffff), 1),
  capture_status: orDefault(z.enum(CAPTURE_STATUSES), 'legacy'),
  intent: text,
  rationale: text,
  trigger: text,
  goals: strings,
  evidence: orDefault(z.array(evidenceSchema), []),
  assumptions: strings,
  alternatives: orDefault(z.array(alternativeSchema), []),
  decision: text,
  confidence,
  source_record_ids: ids,
  parent_meta_ids: ids,
  context_edges: orDefault(z.array(edgeSchema), []),
  tags: strings,
  captured_at: orNull(timestampSchema),
});

/** Parses meta at field path `field`; every failure is a VALIDATION_ERROR naming the exact field. */
export function validateMeta(input: unknown, field: string): MetaMemory {
  return parseWith(metaSchema, input, field);
}

/** The invariants of meta already stored on a record: valid shape and `schema_version` ≥ 1. */
export function checkStoredMeta(meta: MetaMemory, field: string): void {
  validateMeta(meta, field);
  if (!(meta.schema_version >= 1)) throw invalidField(dotted(field, 'schema_version'), 'must be at least 1');
}

function emptyMeta(): MetaMemory {
  return {
    schema_version: 1,
    capture_status: 'legacy',
    intent: null,
    rationale: null,
    trigger: null,
    goals: [],
    evidence: [],
    assumptions: [],
    alternatives: [],
    decision: null,
    confidence: null,
    source_record_ids: [],
    parent_meta_ids: [],
    context_edges: [],
    tags: [],
    captured_at: null,
  };
}

/** Meta of a stored or imported record that has none. */
export function legacyMeta(): MetaMemory {
  return { ...emptyMeta(), capture_status: 'legacy', rationale: LEGACY_RATIONALE };
}

/** Meta written when a caller stores a record without meta ("capture state unavailable"). */
export function unavailableMeta(trigger: string, nowIso: string): MetaMemory {
  return { ...emptyMeta(), capture_status: 'unavailable', rationale: UNAVAILABLE_RATIONALE, trigger, captured_at: nowIso };
}

/** Meta of a record the engine derived from raw records (dream), one evidence entry per source. */
export function inferredMeta(trigger: string, rationale: string, sourceIds: string[], nowIso: string): MetaMemory {
  const evidence: MetaEvidenceRef[] = sourceIds.map((id) => ({
    record_id: null,
    raw_record_id: id,
    label: 'source_raw_record',
    excerpt: null,
    uri: null,
    confidence: 1,
  }));
  return {
    ...emptyMeta(),
    capture_status: 'inferred',
    rationale,
    trigger,
    confidence: 1,
    source_record_ids: [...sourceIds],
    evidence,
    captured_at: nowIso,
  };
}

/**
 * Caller meta → stored meta (§1.8 "Normalization"): version 0 → 1; omitted/legacy status becomes
 * `provided` (dropping the legacy sentence); missing trigger → the operation; missing captured_at → now.
 * Explicit `inferred`/`unavailable` are kept. No meta at all → `unavailableMeta(trigger)`.
 */
export function normaliseMeta(input: Record<string, unknown> | null, trigger: string, nowIso: string): MetaMemory {
  if (input === null) return unavailableMeta(trigger, nowIso);
  const meta = validateMeta(input, 'meta');
  if (meta.schema_version === 0) meta.schema_version = 1;
  if (meta.capture_status === 'legacy') {
    if (meta.rationale === LEGACY_RATIONALE) meta.rationale = null;
    meta.capture_status = 'provided';
  }
  meta.trigger ??= trigger;
  meta.captured_at ??= nowIso;
  return meta;
}

// In its own module, free of zod: store workers index meta text and need none of the validation.
export { metaSearchText } from './meta-text.js';
