// Zod schemas of the CMP request bodies (reference spec §3), wire names exactly as the reference sends
// them. Unknown fields are dropped (§1.1). requests.ts turns each into a typed request.
import { z } from 'zod';
import { findContentProblem } from './content.js';
import { completeEmotion, parseEmotionLabel } from './emotion.js';
import { isCmpError } from './errors.js';
import { metaSchema } from './meta.js';
import { CONFLICT_RESOLUTIONS, CONTEXT_FORMATS, RECALL_MODES } from './operations.js';
import { ASSOCIATION_TYPES, DEFAULT_SPACE, MODALITIES, RAW_SOURCES, RAW_SPEAKERS, RAW_VISIBILITIES, SECRECY_LEVELS, type EmotionVector, type MetaMemory } from './types.js';
import { bytesSchema, flagSchema, jsonSchema, orDefault, orNull, storeSchema, timestampSchema, unitIntervalSchema, uuidSchema } from './wire-primitives.js';
import { parseNested, type CmpIssueParams } from './zod-issues.js';

/** Largest `encode.batch` (§3.2). `encode.batch_raw` has no cap in the reference. */
export const MAX_BATCH_SIZE = 1000;

/** A memory space's name (DESIGN §2.8); keys are laid out per space, so `!` can never be part of one. */
export const spaceNameSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' });

export const spaceSchema = orDefault(spaceNameSchema, DEFAULT_SPACE);

const keySchema = z.string().min(1).max(200);

/** Fields every request may carry: the space and the idempotency key (CMP `header.request_id`). */
export const baseSchema = z
  .object({
    space: spaceSchema,
    header: z.object({ request_id: keySchema.optional() }).nullish(),
    idempotency_key: keySchema.nullish(),
  })
  .transform(({ space, header, idempotency_key }) => {
    const key = header?.request_id ?? idempotency_key ?? undefined;
    return key === undefined ? { space } : { space, idempotency_key: key };
  });

const blockSchema = z.object({
  modality: z.enum(MODALITIES),
  format: z.string(),
  data: bytesSchema,
  embedding: orNull(z.array(z.number())),
});

/** Content with the §1.3 content rules applied (size errors stay CONTENT_TOO_LARGE). */
export const contentSchema = z.object({ blocks: z.array(blockSchema), summary: orNull(z.string()) }).superRefine((content, ctx) => {
  const found = findContentProblem(content);
  if (found === null) return;
  const params: CmpIssueParams = { cmp_code: found.code };
  ctx.addIssue({ code: 'custom', message: found.problem, path: found.path, params });
});

const dimension = z.number().optional();
/** A partial emotion vector, completed with neutral values (§1.6). */
export const partialEmotionSchema = z
  .object({
    joy: dimension,
    trust: dimension,
    fear: dimension,
    surprise: dimension,
    sadness: dimension,
    disgust: dimension,
    anger: dimension,
    anticipation: dimension,
    intensity: dimension,
    valence: dimension,
  })
  .transform(completeEmotion);

/** A (partial) emotion vector, or a label such as "joy" (§1.6). */
export const emotionSchema = z.unknown().transform((value, ctx): EmotionVector => {
  if (typeof value !== 'string') return parseNested(partialEmotionSchema, value, ctx);
  try {
    return parseEmotionLabel(value);
  } catch (error) {
    if (!isCmpError(error)) throw error;
    const params: CmpIssueParams = { verbatim: true };
    ctx.addIssue({ code: 'custom', message: error.message, input: value, params });
    return z.NEVER;
  }
});

export const contextSchema = z.object({
  source: orNull(z.string()),
  session_id: orNull(z.string()),
  spatial: orDefault(jsonSchema, null),
  temporal: orDefault(jsonSchema, null),
});

export const associationSchema = z.object({
  target_id: uuidSchema,
  association_type: z.enum(ASSOCIATION_TYPES),
  weight: unitIntervalSchema,
});

/** Caller meta, validated with defaults filled; normalisation (trigger, now) happens in the engine. */
const callerMetaSchema = orNull(metaSchema).transform((meta) => meta as (MetaMemory & Record<string, unknown>) | null);

export const encodeItemSchema = z.object({
  content: contentSchema,
  store: orNull(storeSchema),
  emotion: orNull(emotionSchema),
  context: orNull(contextSchema),
  metadata: orNull(jsonSchema),
  associations: orDefault(z.array(associationSchema), []),
  meta: callerMetaSchema,
});

export const encodeBatchSchema = z.object({
  records: z.array(encodeItemSchema),
  infer_associations: orDefault(z.boolean(), false),
});

export const encodeUpdateSchema = z.object({
  record_id: uuidSchema.optional(),
  content: contentSchema.nullish(),
  emotion: emotionSchema.nullish(),
  metadata: jsonSchema.nullish(),
  meta: callerMetaSchema,
});

export const rawItemSchema = z.object({
  session_id: z.string().superRefine((id, ctx) => {
    if (id.trim() !== '') return;
    const params: CmpIssueParams = { verbatim: true };
    ctx.addIssue({ code: 'custom', message: 'session_id must not be empty', input: id, params });
  }),
  turn_id: orNull(z.string()),
  topic_id: orNull(z.string()),
  source: z.enum(RAW_SOURCES),
  speaker: z.enum(RAW_SPEAKERS),
  visibility: z.enum(RAW_VISIBILITIES),
  secrecy_level: z.enum(SECRECY_LEVELS),
  content: contentSchema,
  metadata: orDefault(jsonSchema, {}),
  meta: callerMetaSchema,
});

export const rawBatchSchema = z.object({ records: z.array(rawItemSchema) });

export const introspectRecordSchema = z.object({
  record_id: uuidSchema.optional(),
  include_history: orDefault(flagSchema, false),
  include_associations: orDefault(flagSchema, false),
  include_versions: orDefault(flagSchema, false),
});

export const temporalRangeSchema = z.object({ start: timestampSchema, end: timestampSchema });

export const forgetSchema = z.object({
  record_ids: orDefault(z.array(uuidSchema), []),
  store: orNull(storeSchema),
  temporal_range: orNull(temporalRangeSchema),
  cascade: orDefault(z.boolean(), false),
  // Absent or false is not a parse error: the engine answers FORGET_UNCONFIRMED (§3.15).
  confirm: orDefault(z.boolean(), false),
});

// ── recall (§3.6–§3.10) ──────────────────────────────────────────────────────────────────────────

/** Largest `recall.associate` depth and limit (§3.8); larger is a VALIDATION_ERROR, not a clamp. */
export const MAX_ASSOCIATE_DEPTH = 8;
export const MAX_ASSOCIATE_LIMIT = 256;
/** Upper bound of `budget_tokens` on recall.query: Gemini's 1M-token context window, the largest we format for. */
export const MAX_CONTEXT_BUDGET_TOKENS = 1_000_000;
/** Upper bound of `limit` on recall.query (ours: keeps one request from asking for the whole store). */
export const MAX_RECALL_LIMIT = 1000;

const embeddingSchema = z.array(z.number().refine(Number.isFinite, { error: 'must be a finite number' })).min(1, { error: 'must not be empty' });

export const cueSchema = z.object({
  text: orNull(z.string()).transform((text) => (text === null || text.trim() === '' ? null : text.trim())),
  embedding: orNull(embeddingSchema),
  emotion: orNull(emotionSchema),
  temporal: orNull(temporalRangeSchema),
  image: orNull(bytesSchema),
  audio: orNull(bytesSchema),
  spatial: orDefault(jsonSchema, null),
  semantic: orDefault(jsonSchema, null),
});

const limitSchema = (max: number, fallback: number) =>
  orDefault(
    z
      .number()
      .int({ error: 'must be a whole number' })
      .min(0)
      .max(max, { error: `must be at most ${max}` }),
    fallback,
  );

export const recallQuerySchema = z.object({
  cue: orDefault(cueSchema, {} as z.input<typeof cueSchema>),
  stores: orNull(z.array(storeSchema).min(1, { error: 'must name at least one store' })),
  limit: limitSchema(MAX_RECALL_LIMIT, 10),
  min_fidelity: orNull(unitIntervalSchema),
  include_decayed: orDefault(z.boolean(), false),
  reconsolidate: orDefault(z.boolean(), true),
  activation_depth: orDefault(z.number().int().min(0).max(MAX_ASSOCIATE_DEPTH), 2),
  recall_mode: orDefault(z.enum(RECALL_MODES), 'human'),
  format: orNull(z.enum(CONTEXT_FORMATS)),
  budget_tokens: orNull(
    z
      .number()
      .int({ error: 'must be a whole number' })
      .min(0)
      .max(MAX_CONTEXT_BUDGET_TOKENS, { error: `must be at most ${MAX_CONTEXT_BUDGET_TOKENS}` }),
  ),
});

export const recallAssociateSchema = z.object({
  record_id: uuidSchema.optional(),
  association_types: orNull(z.array(z.enum(ASSOCIATION_TYPES))),
  // depth and limit bounds are checked by the parser with the reference's messages.
  depth: orDefault(z.number().int().min(0), 2),
  min_weight: orDefault(unitIntervalSchema, 0.1),
  limit: orDefault(z.number().int().min(0), 10),
});

export const TIME_GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;

export const recallTimelineSchema = z.object({
  range: temporalRangeSchema,
  granularity: orDefault(z.enum(TIME_GRANULARITIES), 'hour'),
  min_fidelity: orNull(unitIntervalSchema),
  emotion_filter: orNull(emotionSchema),
});

export const recallGraphSchema = z.object({
  center_id: orNull(uuidSchema),
  depth: orDefault(z.number().int().min(0).max(MAX_ASSOCIATE_DEPTH), 2),
  edge_types: orNull(z.array(z.string())),
  limit_nodes: limitSchema(MAX_ASSOCIATE_LIMIT * 4, 10),
  include_meta: orDefault(z.boolean(), false),
});

export const recallRawSchema = z.object({
  session_id: orNull(z.string()).transform((id) => (id === null || id.trim() === '' ? null : id.trim())),
  query: orNull(z.string()).transform((query) => (query === null || query.trim() === '' ? null : query.trim())),
  temporal: orNull(temporalRangeSchema),
  limit: limitSchema(MAX_RECALL_LIMIT, 10),
  include_private_scratch: orDefault(z.boolean(), false),
  include_sealed: orDefault(z.boolean(), false),
  secrecy_levels: orNull(z.array(z.enum(SECRECY_LEVELS))),
});

export const setModeSchema = z.object({
  mode: z.enum(RECALL_MODES),
  scope: orNull(z.array(storeSchema)),
});

// ── lifecycle.decay_tick (§3.13), introspect.decay_forecast (§3.20) ─────────────────────────────────

export const decayTickSchema = z.object({
  tick_duration_seconds: orDefault(
    z
      .number()
      .int({ error: 'must be a whole number of seconds' })
      .min(0)
      .max(10 * 365 * 86_400),
    3600,
  ),
});

export const decayForecastSchema = z.object({
  record_ids: z.array(uuidSchema).min(1, { error: 'must name at least one record' }).max(10_000),
  forecast_at: timestampSchema,
});

// ── lifecycle.consolidate (§3.11), lifecycle.dream_tick (§3.12) ────────────────────────────────────

export const consolidateSchema = z.object({
  strategy: orDefault(z.enum(['full', 'incremental', 'selective']), 'incremental'),
  min_age_hours: orDefault(z.number().min(0), 0),
  min_access_count: orDefault(z.number().int().min(0), 0),
  dry_run: orDefault(z.boolean(), false),
});

export const dreamTickSchema = z.object({
  session_id: orNull(z.string()).transform((id) => (id === null || id.trim() === '' ? null : id.trim())),
  dry_run: orDefault(z.boolean(), false),
  max_groups: orDefault(z.number().int().min(0).max(10_000), 10),
  include_private_scratch: orDefault(z.boolean(), false),
  include_sealed: orDefault(z.boolean(), false),
  promote_semantic: orDefault(z.boolean(), true),
  secrecy_levels: orNull(z.array(z.enum(SECRECY_LEVELS))),
});

// ── lifecycle.export (§3.16), lifecycle.import (§3.17) ─────────────────────────────────────────────

/** `cma`, or its alias `jsonl`, trimmed and in any case; anything else with the reference's text. */
const exportFormatSchema = z.string().transform((value, ctx): 'cma' => {
  const format = value.trim().toLowerCase();
  if (format === 'cma' || format === 'jsonl') return 'cma';
  const params: CmpIssueParams = { verbatim: true };
  ctx.addIssue({ code: 'custom', message: `Unsupported export format '${value}'. Valid options: cma, jsonl`, input: value, params });
  return z.NEVER;
});

export const exportSchema = z.object({
  format: orDefault(exportFormatSchema, 'cma'),
  stores: orNull(z.array(storeSchema)).transform((stores) => (stores === null ? null : [...new Set(stores)])),
  include_raw_journal: orDefault(z.boolean(), false),
  encrypt: orDefault(z.boolean(), false),
  encryption_key: orNull(z.string()),
  all_spaces: orDefault(z.boolean(), false),
});

export const importSchema = z.object({
  archive_id: z.string(),
  strategy: orDefault(z.enum(['merge', 'replace']), 'merge'),
  conflict_resolution: orDefault(z.enum(CONFLICT_RESOLUTIONS), 'keep_newer'),
  decryption_key: orNull(z.string()),
  archive_data: orNull(bytesSchema),
  all_spaces: orDefault(z.boolean(), false),
});
