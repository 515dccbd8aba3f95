// The CMA archive's lines (reference spec §7.1): a header, one entry per record, a footer holding the
// SHA-256 of the entry lines. Records are written in the reference's JSON shape — field order of its
// structs, binary `data` as integer arrays (§1.1) — so an archive we write imports into the reference
// and one it wrote imports here byte for byte. Our additions are optional trailing fields: `space`
// (DESIGN §2.8) and the closed-form decay anchor in `fidelity` (DESIGN §2.1); the reference ignores
// unknown fields.
import { z } from 'zod';
import { CmpError, isCmpError } from '../cmp/errors.js';
import { legacyMeta, metaSchema } from '../cmp/meta.js';
import { validateRawRecord, validateRecord } from '../cmp/records.js';
import { contentSchema, partialEmotionSchema, spaceNameSchema } from '../cmp/request-schemas.js';
import { ASSOCIATION_TYPES, RAW_SOURCES, RAW_SPEAKERS, RAW_VISIBILITIES, SECRECY_LEVELS, type ContentBlock, type MemoryRecord, type MetaMemory, type RawJournalRecord } from '../cmp/types.js';
import { jsonSchema, orDefault, orNull, storeSchema, timestampSchema, uuidSchema } from '../cmp/wire-primitives.js';
import { parseWith } from '../cmp/zod-issues.js';

/** Curated records only; each entry line is a bare MemoryRecord. */
export const ARCHIVE_VERSION = '1.0';
/** Curated and raw journal records; each entry line is `{"kind": …, "data": …}`. */
export const BUNDLE_ARCHIVE_VERSION = '2.0';
export type ArchiveVersion = typeof ARCHIVE_VERSION | typeof BUNDLE_ARCHIVE_VERSION;

/** Largest plaintext archive an import reads (§7.3), in bytes. */
export const MAX_ARCHIVE_BYTES = 512 * 1024 * 1024;

export interface ArchiveHeader {
  version: ArchiveVersion;
  timestamp: string;
  record_count: number;
  curated_record_count: number | null;
  raw_record_count: number | null;
}

/** One archive entry, decoded. `space` is absent when the archive did not say (reference archives). */
export type ArchiveEntry =
  | { kind: 'memory_record'; record: Omit<MemoryRecord, 'space'>; space: string | undefined }
  | { kind: 'raw_journal_record'; record: Omit<RawJournalRecord, 'space'>; space: string | undefined };

function importConflict(message: string, cause?: unknown): CmpError {
  return new CmpError('IMPORT_CONFLICT', message, cause === undefined ? {} : { cause });
}

// ── writing ──────────────────────────────────────────────────────────────────────────────────────

export function headerLine(header: ArchiveHeader): string {
  const { version, timestamp, record_count, curated_record_count, raw_record_count } = header;
  return JSON.stringify({ version, timestamp, record_count, curated_record_count, raw_record_count });
}

export function footerLine(checksum: string): string {
  return JSON.stringify({ checksum });
}

function blockJson(block: ContentBlock) {
  return {
    modality: block.modality,
    format: block.format,
    data: Array.from(Buffer.from(block.data, 'base64')),
    embedding: block.embedding ?? null,
  };
}

function contentJson(record: MemoryRecord | RawJournalRecord) {
  return { blocks: record.content.blocks.map(blockJson), summary: record.content.summary ?? null };
}

/** A curated record in the reference's field order, `space` last. */
export function memoryRecordJson(record: MemoryRecord) {
  const { fidelity: f, emotion: e } = record;
  return {
    id: record.id,
    store: record.store,
    created_at: record.created_at,
    updated_at: record.updated_at,
    last_accessed_at: record.last_accessed_at,
    access_count: record.access_count,
    content: contentJson(record),
    fidelity: {
      score: f.score,
      noise_level: f.noise_level,
      decay_rate: f.decay_rate,
      emotional_anchor: f.emotional_anchor,
      reinforcement_count: f.reinforcement_count,
      stability: f.stability,
      last_decay_tick: f.last_decay_tick,
      ...(f.anchor_score === undefined ? {} : { anchor_score: f.anchor_score }),
      ...(f.anchor_at === undefined ? {} : { anchor_at: f.anchor_at }),
    },
    emotion: {
      joy: e.joy,
      trust: e.trust,
      fear: e.fear,
      surprise: e.surprise,
      sadness: e.sadness,
      disgust: e.disgust,
      anger: e.anger,
      anticipation: e.anticipation,
      intensity: e.intensity,
      valence: e.valence,
    },
    associations: record.associations.map((a) => ({
      target_id: a.target_id,
      association_type: a.association_type,
      weight: a.weight,
      created_at: a.created_at,
      last_co_activation: a.last_co_activation,
    })),
    metadata: record.metadata,
    version: record.version,
    meta: record.meta,
    space: record.space,
  };
}

/** A raw journal record in the reference's field order, `space` last. */
export function rawRecordJson(record: RawJournalRecord) {
  return {
    id: record.id,
    session_id: record.session_id,
    turn_id: record.turn_id,
    topic_id: record.topic_id,
    source: record.source,
    speaker: record.speaker,
    visibility: record.visibility,
    secrecy_level: record.secrecy_level,
    created_at: record.created_at,
    updated_at: record.updated_at,
    content: contentJson(record),
    metadata: record.metadata,
    derived_memory_ids: record.derived_memory_ids,
    suppressed: record.suppressed,
    meta: record.meta,
    space: record.space,
  };
}

/** The entry line of a record (without its `\n`). */
export function entryLine(version: ArchiveVersion, record: MemoryRecord | RawJournalRecord): string {
  const curated = 'store' in record;
  if (version === ARCHIVE_VERSION) {
    if (!curated) throw new CmpError('EXPORT_FAILED', 'a version 1.0 archive holds curated records only');
    return JSON.stringify(memoryRecordJson(record));
  }
  return curated ? JSON.stringify({ kind: 'memory_record', data: memoryRecordJson(record) }) : JSON.stringify({ kind: 'raw_journal_record', data: rawRecordJson(record) });
}

// ── reading ──────────────────────────────────────────────────────────────────────────────────────

const headerSchema = z.object({
  version: z.string(),
  timestamp: timestampSchema,
  record_count: z.number().int().min(0).max(0xffff_ffff),
  curated_record_count: orNull(z.number().int().min(0).max(0xffff_ffff)),
  raw_record_count: orNull(z.number().int().min(0).max(0xffff_ffff)),
});

const footerSchema = z.object({ checksum: z.string() });

function parseJsonLine(line: string): unknown {
  return JSON.parse(line) as unknown;
}

/** The header line; the reference's texts for every failure (§7.3). */
export function parseHeader(line: string): ArchiveHeader {
  let header: z.output<typeof headerSchema>;
  try {
    header = parseWith(headerSchema, parseJsonLine(line));
  } catch (error) {
    throw importConflict(`Invalid header: ${(error as Error).message}`, error);
  }
  if (header.version !== ARCHIVE_VERSION && header.version !== BUNDLE_ARCHIVE_VERSION) {
    throw importConflict(`Unsupported archive version: ${header.version} (expected ${ARCHIVE_VERSION} or ${BUNDLE_ARCHIVE_VERSION})`);
  }
  return header as ArchiveHeader;
}

export function parseFooter(line: string): { checksum: string } {
  try {
    return parseWith(footerSchema, parseJsonLine(line));
  } catch (error) {
    throw importConflict(`Invalid footer: ${(error as Error).message}`, error);
  }
}

// Defaults are the reference's serde defaults (§1.3, §1.9): a timestamp absent means "now" (the time of
// the import), a fidelity or emotion field absent takes the reference's default value.
const fidelitySchema = (nowIso: string) =>
  z.object({
    score: orDefault(z.number(), 1),
    noise_level: orDefault(z.number(), 0),
    decay_rate: orDefault(z.number(), 0.3),
    emotional_anchor: orDefault(z.number(), 1),
    reinforcement_count: orDefault(z.number().int().min(0), 0),
    stability: orDefault(z.number(), 1),
    last_decay_tick: orDefault(timestampSchema, nowIso),
    anchor_score: z.number().optional(),
    anchor_at: timestampSchema.optional(),
  });

const emotionSchema = partialEmotionSchema;

const storedMetaSchema = orNull(metaSchema).transform((meta): MetaMemory => meta ?? legacyMeta());

/** An archived record's `space`: absent → undefined (the importer decides), otherwise a valid name. */
const archivedSpaceSchema = spaceNameSchema.optional();

const memoryRecordSchema = (nowIso: string) =>
  z.object({
    id: uuidSchema,
    store: storeSchema,
    created_at: orDefault(timestampSchema, nowIso),
    updated_at: orDefault(timestampSchema, nowIso),
    last_accessed_at: orDefault(timestampSchema, nowIso),
    access_count: orDefault(z.number().int().min(0).max(0xffff_ffff), 0),
    content: contentSchema,
    fidelity: orDefault(fidelitySchema(nowIso), {} as z.input<ReturnType<typeof fidelitySchema>>),
    emotion: orDefault(emotionSchema, {}),
    associations: orDefault(
      z.array(
        z.object({
          target_id: uuidSchema,
          association_type: z.enum(ASSOCIATION_TYPES),
          weight: z.number(),
          created_at: timestampSchema,
          last_co_activation: timestampSchema,
        }),
      ),
      [],
    ),
    metadata: orDefault(jsonSchema, {}),
    version: orDefault(z.number().int().min(0).max(0xffff_ffff), 1),
    meta: storedMetaSchema,
    space: archivedSpaceSchema,
  });

const rawRecordSchema = (nowIso: string) =>
  z.object({
    id: uuidSchema,
    session_id: z.string(),
    turn_id: orNull(z.string()),
    topic_id: orNull(z.string()),
    source: z.enum(RAW_SOURCES),
    speaker: z.enum(RAW_SPEAKERS),
    visibility: z.enum(RAW_VISIBILITIES),
    secrecy_level: z.enum(SECRECY_LEVELS),
    created_at: orDefault(timestampSchema, nowIso),
    updated_at: orDefault(timestampSchema, nowIso),
    content: contentSchema,
    metadata: orDefault(jsonSchema, {}),
    derived_memory_ids: orDefault(z.array(uuidSchema), []),
    suppressed: orDefault(z.boolean(), false),
    meta: storedMetaSchema,
    space: archivedSpaceSchema,
  });

/** Builds the entry parser of one import; `nowIso` fills absent timestamps. */
export function entryParser(version: ArchiveVersion, nowIso: string): (line: string, lineNumber: number) => ArchiveEntry {
  const curated = memoryRecordSchema(nowIso);
  const raw = rawRecordSchema(nowIso);
  const envelope = z.object({ kind: z.enum(['memory_record', 'raw_journal_record']), data: z.unknown() });
  const invalid = version === ARCHIVE_VERSION ? 'Invalid record' : 'Invalid entry';

  return function parseEntry(line, lineNumber) {
    let entry: ArchiveEntry;
    try {
      const json = parseJsonLine(line);
      if (version === ARCHIVE_VERSION) {
        const { space, ...record } = parseWith(curated, json);
        entry = { kind: 'memory_record', record, space };
      } else {
        const { kind, data } = parseWith(envelope, json);
        if (kind === 'memory_record') {
          const { space, ...record } = parseWith(curated, data, 'data');
          entry = { kind, record, space };
        } else {
          const { space, ...record } = parseWith(raw, data, 'data');
          entry = { kind, record, space };
        }
      }
    } catch (error) {
      throw importConflict(`${invalid} at line ${lineNumber}: ${(error as Error).message}`, error);
    }
    try {
      // `space` is checked above; the record rules do not look at it.
      if (entry.kind === 'memory_record') validateRecord({ ...entry.record, space: '' }, '');
      else validateRawRecord({ ...entry.record, space: '' }, '');
    } catch (error) {
      if (!isCmpError(error)) throw error;
      const what = entry.kind === 'memory_record' ? 'Record validation failed' : 'Raw record validation failed';
      throw importConflict(`${what} at line ${lineNumber}: ${error.message}`, error);
    }
    return entry;
  };
}
