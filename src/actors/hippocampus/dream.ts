import { textBlock, textOf, truncateUtf8 } from '../../cmp/content.js';
import { neutralEmotion } from '../../cmp/emotion.js';
import { inferredMeta } from '../../cmp/meta.js';
import { defaultFidelity } from '../../cmp/records.js';
import type { Association, JsonObject, JsonValue, MemoryRecord, MetaEdge, MetaMemory, RawJournalRecord, SecrecyLevel } from '../../cmp/types.js';
import { defaultDecayParams } from '../store/decay.js';
import { compareBytes, defaultDreamOptions, inferDreamGroups, type DreamGroup, type DreamOptions } from './dream-grouping.js';

// `lifecycle.dream_tick` planning (reference spec §3.12, §4.10, §4.11): raw journal → curated memory.
// Pure, like xstate's `resolve` (STYLE §6.2): `planDream` returns the records to write and the response,
// and writes nothing; digester.ts applies the plan (writes summaries and semantic nodes, then the
// raw updates, restoring the originals if a raw update fails, spec §4.10).
//
// Idempotent by construction: every raw record of every processed group comes back in `rawUpdates`
// with `metadata._dream.processed_at`, and such records are never candidates again — so planning over
// the journal after the plan was applied yields no group.
//
// Summaries are deterministic (the standard no-LLM mode of §4.10): no provider is consulted here.
// Byte limits are of UTF-8 bytes and never split a character.
//
// Where this departs from the letter of §4.10 (both deliberate):
// - Every inferred segment that has no topic token gets the fallback hint `auto-YYYYMMDD-{n}` (n = the
//   0-based segment index within its (date, session)); the reference gave it only to the last segment of
//   a (date, session), so a token-less middle segment had no hint and could never be promoted.
// - The space is part of the group key: one group never mixes memory spaces (DESIGN §2.8).
// Grouping (which records are dreamt about together) is dream-grouping.ts; its names are re-exported.

export {
  defaultDreamOptions,
  inferDreamGroups,
  jaccard,
  tokenizeForTopics,
  type DreamGroup,
  type DreamOptions,
} from './dream-grouping.js';

/** `lifecycle.dream_tick` request with every default applied (spec §3.12). */
export interface DreamPlanRequest {
  /** Only this session's raw records; null = every session. */
  session_id: string | null;
  /** Count what would happen; plan no write. */
  dry_run: boolean;
  /** Most groups processed by one tick (the earliest ones). Groups, default 10, range ≥ 0. */
  max_groups: number;
  include_private_scratch: boolean;
  include_sealed: boolean;
  /** Promote topic-coherent groups (≥ 2 normal records) into a semantic node as well. */
  promote_semantic: boolean;
  /** Secrecy levels that may be dreamt about; null = public and sensitive (spec §1.9). */
  secrecy_levels: SecrecyLevel[] | null;
}

export const defaultDreamRequest: Readonly<DreamPlanRequest> = Object.freeze({
  session_id: null,
  dry_run: false,
  max_groups: 10,
  include_private_scratch: false,
  include_sealed: false,
  promote_semantic: true,
  secrecy_levels: null,
});

export interface DreamTickResponse {
  groups_processed: number;
  raw_records_processed: number;
  episodic_summaries_created: number;
  semantic_nodes_created: number;
}

/** The fidelity parameters a new record of a store starts with (DESIGN §2.1). */
export interface RecordParams {
  /** Power-law exponent d. */
  decay_rate: number;
  /** Initial stability S0, seconds. */
  stability: number;
}

export interface CuratedRecordParams {
  episodic: RecordParams;
  semantic: RecordParams;
}

/** DESIGN §2.1 defaults; the coordinator passes its configured per-store values instead. */
export const defaultCuratedRecordParams: Readonly<CuratedRecordParams> = Object.freeze({
  episodic: { decay_rate: defaultDecayParams.episodic.decay_exponent, stability: defaultDecayParams.episodic.initial_stability_secs },
  semantic: { decay_rate: defaultDecayParams.semantic.decay_exponent, stability: defaultDecayParams.semantic.initial_stability_secs },
});

export interface DreamSummaryStats {
  normal_records: number;
  private_scratch_redacted: number;
  sealed_redacted: number;
  secret_redacted: number;
  redacted_total: number;
}

export interface DreamPlan {
  response: DreamTickResponse;
  /** New episodic summaries, one per group (none on a dry run). */
  summaries: MemoryRecord[];
  /** New semantic nodes of promoted groups (none on a dry run). */
  semantic: MemoryRecord[];
  /** Every raw record of every group, marked processed and linked to what was derived from it. */
  rawUpdates: RawJournalRecord[];
}

// ---------------------------------------------------------------------------------------------------
// Candidates

/** Spec §4.10 "Candidate selection": visible to this request, not suppressed, not processed yet. */
export function isDreamCandidate(record: RawJournalRecord, request: DreamPlanRequest): boolean {
  if (record.suppressed || isDreamProcessed(record)) return false;
  if (record.visibility === 'private_scratch' && !request.include_private_scratch) return false;
  if (record.visibility === 'sealed' && !request.include_sealed) return false;
  if (!(request.secrecy_levels ?? ['public', 'sensitive']).includes(record.secrecy_level)) return false;
  return request.session_id === null || record.session_id === request.session_id;
}

/** A raw record is processed once `metadata._dream.processed_at` is a string. */
export function isDreamProcessed(record: RawJournalRecord): boolean {
  const dream = objectOrNull(objectOrNull(record.metadata)?._dream);
  return typeof dream?.processed_at === 'string';
}

export function selectDreamCandidates(records: RawJournalRecord[], request: DreamPlanRequest): RawJournalRecord[] {
  return records.filter((record) => isDreamCandidate(record, request));
}

// ---------------------------------------------------------------------------------------------------
// Summaries

/**
 * Spec §4.10 redaction accounting and the deterministic (no-LLM) summary text of one group. A record is
 * counted once, by its strongest restriction: secret, then sealed, then private scratch; only normal
 * records are quoted (trimmed; blank texts are not quoted).
 */
export function summarizeDreamGroup(group: DreamGroup, options: Partial<DreamOptions> = {}): { text: string; stats: DreamSummaryStats } {
  const o = { ...defaultDreamOptions, ...options };
  const { texts, stats } = quotableTexts(group);
  const session = group.session_id;
  if (texts.length === 0) {
    const n = group.records.length;
    return {
      text: `Dream summary for session ${session}: ${n} raw record(s) preserved. ${stats.redacted_total} redacted from summary.`,
      stats,
    };
  }
  const heading = group.topic_hint ? `Dream summary for session ${session} / topic ${group.topic_hint}:` : `Dream summary for session ${session}:`;
  const snippets = texts
    .slice(0, o.maxSnippets)
    .map((text) => truncateUtf8(text, o.snippetBytes))
    .join(' | ');
  const redacted = stats.redacted_total > 0 ? ` [Redacted raw records: ${stats.redacted_total}]` : '';
  return { text: truncateUtf8(`${heading} ${snippets}${redacted}`, o.summaryBytes), stats };
}

/** The texts of a group that may be quoted (normal records, trimmed, non-blank) and its redaction counts. */
function quotableTexts(group: DreamGroup): { texts: string[]; stats: DreamSummaryStats } {
  const stats: DreamSummaryStats = {
    normal_records: 0,
    private_scratch_redacted: 0,
    sealed_redacted: 0,
    secret_redacted: 0,
    redacted_total: 0,
  };
  const texts: string[] = [];
  for (const record of group.records) {
    if (record.secrecy_level === 'secret') stats.secret_redacted++;
    else if (record.visibility === 'sealed') stats.sealed_redacted++;
    else if (record.visibility === 'private_scratch') stats.private_scratch_redacted++;
    else {
      stats.normal_records++;
      const text = textOf(record.content)?.trim();
      if (text) texts.push(text);
    }
  }
  stats.redacted_total = stats.private_scratch_redacted + stats.sealed_redacted + stats.secret_redacted;
  return { texts, stats };
}

/** Identifies a group within one plan: its first raw record (groups never share records). */
export function dreamGroupKey(group: DreamGroup): string {
  return group.records[0].id;
}

/** One group's texts for an LLM summary (spec §4.10 "provider configured"): only what may be quoted. */
export interface DreamSummaryRequest {
  key: string;
  texts: string[];
}

/** A summary an LLM gave for a group, and who gave it (kept in `metadata._dream.summarized_by`). */
export interface ProvidedSummary {
  text: string;
  by: string;
}

/**
 * What `planDream` with the same arguments would summarise, for an LLM to do first (the plan stays pure:
 * fetch these, then pass the answers as `providerSummaries`). Groups without quotable text are left out:
 * their summary says only how many records were redacted, with or without an LLM. Nothing on a dry run.
 */
export function dreamSummaryRequests(records: RawJournalRecord[], request: DreamPlanRequest, options: Partial<DreamOptions> = {}): DreamSummaryRequest[] {
  if (request.dry_run) return [];
  const o = { ...defaultDreamOptions, ...options };
  const groups = inferDreamGroups(selectDreamCandidates(records, request), { ...o, max_groups: request.max_groups });
  return groups.flatMap((group) => {
    const { texts } = quotableTexts(group);
    return texts.length === 0 ? [] : [{ key: dreamGroupKey(group), texts }];
  });
}

// ---------------------------------------------------------------------------------------------------
// The plan

const EPISODIC_RATIONALE = 'Raw journal records were grouped and summarized into curated episodic memory.';
const EPISODIC_INTENT = 'Preserve the meaning of raw session material as an episodic memory while retaining backlinks to the verbatim journal.';
const SEMANTIC_RATIONALE = 'The dream summary had enough topic signal to be promoted into semantic memory.';
const SEMANTIC_INTENT = 'Distill repeated or topic-coherent raw material into longer-lived semantic knowledge.';
const SEMANTIC_DECISION = 'Promoted the dream group into semantic memory.';
export const DREAM_TRIGGER = 'lifecycle.dream_tick';

export interface DreamPlanOptions extends Partial<DreamOptions> {
  /** Fidelity parameters of the created records; default `defaultCuratedRecordParams`. */
  recordParams?: CuratedRecordParams;
  /**
   * LLM summaries by `dreamGroupKey` (see `dreamSummaryRequests`); a group without one, or with a blank
   * one, gets the built-in summary (spec §4.11).
   */
  providerSummaries?: ReadonlyMap<string, ProvidedSummary>;
}

/**
 * Plans one dream tick at `now` (RFC 3339) over `records` — the raw journal of one space, or any
 * superset of the candidates: candidate selection runs here, so already processed, suppressed and
 * invisible records are ignored. `newId` is called once per summary, then once per semantic node, in
 * group order, and never on a dry run.
 */
export function planDream(records: RawJournalRecord[], request: DreamPlanRequest, now: string, newId: () => string, options: DreamPlanOptions = {}): DreamPlan {
  const { recordParams = defaultCuratedRecordParams, providerSummaries, ...dreamOptions } = options;
  const o = { ...defaultDreamOptions, ...dreamOptions };
  const groups = inferDreamGroups(selectDreamCandidates(records, request), { ...o, max_groups: request.max_groups });
  const plan: DreamPlan = {
    response: { groups_processed: 0, raw_records_processed: 0, episodic_summaries_created: 0, semantic_nodes_created: 0 },
    summaries: [],
    semantic: [],
    rawUpdates: [],
  };
  for (const group of groups) {
    plan.response.groups_processed++;
    plan.response.raw_records_processed += group.records.length;
    if (request.dry_run) {
      plan.response.episodic_summaries_created++;
      continue;
    }
    const builtin = summarizeDreamGroup(group, o);
    const { stats } = builtin;
    const provided = stats.normal_records > 0 ? providerSummaries?.get(dreamGroupKey(group)) : undefined;
    const useProvided = provided !== undefined && provided.text.trim() !== '';
    // Spec §4.10: the LLM's text, plus a note of what it was not shown.
    const text = useProvided ? provided.text.trim() + (stats.redacted_total > 0 ? `\n\n[${stats.redacted_total} raw record(s) redacted from summary]` : '') : builtin.text;
    const rawIds = group.records.map((record) => record.id);
    const summaryId = newId();
    const promote = request.promote_semantic && stats.normal_records >= o.minNormalForPromotion && ((group.raw_topic_id ?? '') !== '' || group.topic_hint !== '');
    const semanticId = promote ? newId() : null;
    const content = { blocks: [textBlock(text)], summary: truncateUtf8(text, o.contentSummaryBytes) };
    const origin: JsonObject = {
      dream_tick_at: now,
      raw_record_count: rawIds.length,
      raw_record_ids: rawIds,
      raw_session_id: group.session_id,
      raw_topic_hint: group.topic_hint,
      raw_topic_id: group.raw_topic_id,
      raw_topic_inferred: group.inferred_topic,
    };

    const summary = curatedRecord(
      summaryId,
      group.space,
      'episodic',
      now,
      content,
      recordParams.episodic,
      {
        _dream: {
          kind: 'episodic_summary',
          source: 'raw_journal',
          summary_stats: { ...stats },
          ...(useProvided ? { summarized_by: provided.by } : {}),
        },
        _origin: sortedKeys({
          ...origin,
          range_end: group.records[group.records.length - 1].created_at,
          range_start: group.records[0].created_at,
        }),
      },
      episodicMeta(summaryId, rawIds, now),
    );
    plan.summaries.push(summary);
    plan.response.episodic_summaries_created++;

    if (semanticId !== null) {
      const semantic = curatedRecord(
        semanticId,
        group.space,
        'semantic',
        now,
        content,
        recordParams.semantic,
        {
          _dream: { kind: 'semantic_summary', source: 'raw_journal' },
          _origin: sortedKeys({ ...origin, raw_summary_record_id: summaryId }),
        },
        semanticMeta(semanticId, summaryId, rawIds, now),
      );
      summary.associations.push(semanticLink(semanticId, now));
      semantic.associations.push(semanticLink(summaryId, now));
      summary.metadata = { _derived: { semantic_ids: [semanticId] }, ...(summary.metadata as JsonObject) };
      plan.semantic.push(semantic);
      plan.response.semantic_nodes_created++;
    }

    for (const record of group.records) plan.rawUpdates.push(markProcessed(record, now, summaryId, semanticId));
  }
  return plan;
}

function curatedRecord(
  id: string,
  space: string,
  store: 'episodic' | 'semantic',
  now: string,
  content: { blocks: MemoryRecord['content']['blocks']; summary: string },
  params: RecordParams,
  metadata: JsonObject,
  meta: MetaMemory,
): MemoryRecord {
  return {
    id,
    space,
    store,
    created_at: now,
    updated_at: now,
    last_accessed_at: now,
    access_count: 0,
    content: { blocks: content.blocks.map((block) => ({ ...block })), summary: content.summary },
    fidelity: defaultFidelity(now, params),
    emotion: neutralEmotion(),
    associations: [],
    metadata,
    version: 1,
    meta,
  };
}

function semanticLink(targetId: string, now: string): Association {
  return { target_id: targetId, association_type: 'semantic', weight: 1, created_at: now, last_co_activation: now };
}

function rawEdge(sourceId: string, rawId: string, now: string): MetaEdge {
  return {
    source_id: sourceId,
    target_id: rawId,
    relation: 'derived_from',
    rationale: null,
    evidence: [{ record_id: null, raw_record_id: rawId, label: 'source_raw_record', excerpt: null, uri: null, confidence: 1 }],
    confidence: 1,
    created_at: now,
  };
}

function episodicMeta(summaryId: string, rawIds: string[], now: string): MetaMemory {
  return {
    ...inferredMeta(DREAM_TRIGGER, EPISODIC_RATIONALE, rawIds, now),
    intent: EPISODIC_INTENT,
    goals: ['summarize_raw_journal', 'preserve_traceability'],
    tags: ['dream_tick', 'episodic_summary'],
    context_edges: rawIds.map((rawId) => rawEdge(summaryId, rawId, now)),
  };
}

function semanticMeta(semanticId: string, summaryId: string, rawIds: string[], now: string): MetaMemory {
  const toSummary: MetaEdge = {
    source_id: semanticId,
    target_id: summaryId,
    relation: 'derived_from',
    rationale: null,
    evidence: [{ record_id: summaryId, raw_record_id: null, label: 'source_episodic_summary', excerpt: null, uri: null, confidence: null }],
    confidence: 1,
    created_at: now,
  };
  return {
    ...inferredMeta(DREAM_TRIGGER, SEMANTIC_RATIONALE, rawIds, now),
    intent: SEMANTIC_INTENT,
    goals: ['promote_topic_signal', 'preserve_traceability'],
    decision: SEMANTIC_DECISION,
    tags: ['dream_tick', 'semantic_summary'],
    context_edges: [toSummary, ...rawIds.map((rawId) => rawEdge(semanticId, rawId, now))],
  };
}

/** Spec §4.10 raw update: content untouched; backlinks, `_dream` and `_derived` merged in. */
function markProcessed(record: RawJournalRecord, now: string, summaryId: string, semanticId: string | null): RawJournalRecord {
  const metadata = metadataObject(record.metadata);
  const derived = { ...(objectOrNull(metadata._derived) ?? {}) };
  derived.episodic_summary_ids = union(stringsOf(derived.episodic_summary_ids), [summaryId]);
  if (semanticId !== null) derived.semantic_ids = union(stringsOf(derived.semantic_ids), [semanticId]);
  return {
    ...record,
    updated_at: now,
    derived_memory_ids: union(record.derived_memory_ids, semanticId === null ? [summaryId] : [summaryId, semanticId]),
    metadata: sortedKeys({
      ...metadata,
      _derived: sortedKeys(derived),
      _dream: { last_summary_id: summaryId, processed_at: now },
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Small JSON and time helpers (shared with consolidation.ts)

/** A shallow copy of object metadata; other metadata moves under `_metadata` (as `mergeMetadata` does). */
export function metadataObject(value: JsonValue): JsonObject {
  const object = objectOrNull(value);
  if (object !== null) return { ...object };
  return value === null ? {} : { _metadata: value };
}

export function objectOrNull(value: JsonValue | undefined): JsonObject | null {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function stringsOf(value: JsonValue | undefined): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function union(existing: string[], added: string[]): string[] {
  return [...new Set([...existing, ...added])];
}

/** Keys in sorted order, as the reference returns free-form JSON objects (spec §1.1; cosmetic). */
function sortedKeys(object: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => compareBytes(a, b)));
}
