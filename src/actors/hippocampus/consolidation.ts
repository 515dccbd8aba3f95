import { firstEmbedding, textOf, truncateUtf8 } from '../../cmp/content.js';
import { fromTimestamp, toTimestamp } from '../../cmp/ids.js';
import { defaultFidelity } from '../../cmp/records.js';
import type { Association, JsonObject, MemoryRecord } from '../../cmp/types.js';
import { fidelityAt } from '../store/decay.js';
import { defaultCuratedRecordParams, metadataObject, objectOrNull, type RecordParams } from './dream.js';

// `lifecycle.consolidate` planning (reference spec §3.11, §4.6, §4.11; DESIGN §2 item 6): episodic →
// semantic. Pure, like xstate's `resolve` (STYLE §6.2): `planConsolidation` decides and returns what to
// write; the coordinator applies it, in this order: merges (replace the kept record's associations,
// delete the removed one with the usual association cleanup), creates, links, marks, prunes.
//
// Departures from the reference, all deliberate:
//
// 1. Idempotent (DESIGN §2 item 6). An episodic record is *consolidated* — and is never copied again —
//    when it points at a semantic record that still exists (an id in `semanticIds`) through:
//      a. `metadata._consolidated_into` — the mark this plan asks for (`marks`) with every copy it creates;
//      b. `metadata._derived.semantic_ids` — a dream summary whose group was promoted (dream.ts): the
//         semantic node already holds the same text, a copy would be a duplicate;
//      c. an association of type `semantic` and weight 1 — how the reference (which set no mark) and the
//         dream linked a record to its semantic node, so imported reference data is not copied again.
//    If that semantic record is forgotten, the episodic record is no longer consolidated and the next run
//    copies it afresh. Hence: applying a plan, then planning again at the same time over the result
//    (marks set, created ids added to `semanticIds`) plans no create, merge, link, mark or prune.
// 2. Near-duplicates (cosine of `vectorOf` > `duplicateCosine`) merge by connected component, not by
//    first-come pairs: every component of the "near-duplicate" relation keeps one record, so no two
//    survivors are near-duplicates and a second run finds nothing to merge. The survivor is a
//    consolidated member if any (so a merge never drops a consolidation mark), then the one of highest
//    fidelity now, then the oldest. It takes over the others' associations (deduplicated by target and
//    type, its own first); links between members and links to removed records are redirected to it.
// 3. `strategy` is honoured:
//      incremental (default)  every episodic record not yet consolidated;
//      full                   every episodic record; the consolidated ones are not copied again, but an
//                             eligible one whose fidelity fell below `pruneBelow` is pruned (its content
//                             lives on in its semantic node) — `full` is the clean-up pass;
//      selective              as incremental, but only memories recalled at least once: the access
//                             filter is max(1, min_access_count).
//    `records_processed` counts the records in the strategy's scope; `min_age_hours` and
//    `min_access_count` then decide which of them are eligible.
// 4. A dry run reports exactly the counts the same run would report for real (the reference skipped the
//    merge phase and counted only migrations), and plans nothing; `newId` is not called.
// 5. Fidelity is read in closed form at `nowMs` (DESIGN §2.1), and a semantic copy starts with fresh
//    semantic fidelity (score 1, the semantic store's d and S0) rather than the episodic decay state.
// 6. Merging considers episodic records only; records of any other store in the input are ignored, so a
//    semantic record is never removed as a duplicate.

export type ConsolidationStrategy = 'full' | 'incremental' | 'selective';

/** `lifecycle.consolidate` request with every default applied (spec §3.11). */
export interface ConsolidationPlanRequest {
  strategy: ConsolidationStrategy;
  /** Records younger than this many whole hours are not migrated. Hours, default 0, range ≥ 0. */
  min_age_hours: number;
  /** Records recalled fewer times are not migrated. Count, default 0, range ≥ 0. */
  min_access_count: number;
  dry_run: boolean;
}

export const defaultConsolidationRequest: Readonly<ConsolidationPlanRequest> = Object.freeze({
  strategy: 'incremental',
  min_age_hours: 0,
  min_access_count: 0,
  dry_run: false,
});

export interface ConsolidateResponse {
  /** Episodic records in the strategy's scope, after merging. */
  records_processed: number;
  /** Records copied into semantic memory by this run. */
  records_migrated: number;
  /** Records removed as near-duplicates. */
  records_compressed: number;
  /** Episodic records deleted because their fidelity fell below `pruneBelow`. */
  records_pruned: number;
  semantic_nodes_created: number;
}

export interface ConsolidationOptions {
  /** Cosine above which two episodic records are near-duplicates. Similarity, default 0.92, range -1..1. */
  duplicateCosine: number;
  /** A migrated episodic record whose fidelity is below this is pruned. Fidelity, default 0.1, range 0..1. */
  pruneBelow: number;
  /** Longest generated `content.summary` of a copy before "...". UTF-8 bytes, default 100. */
  summaryBytes: number;
  /** The record's vector, or null when it has none; default its first block embedding. */
  vectorOf: (record: MemoryRecord) => number[] | null;
  /**
   * Ids that may be near-duplicates of a record (e.g. from the store's nearest-neighbour index); each is
   * still checked against `duplicateCosine`. Without it every pair is compared: O(n²), fine for tests
   * and small stores only.
   */
  candidatesOf?: (record: MemoryRecord) => readonly string[];
  /** Fidelity parameters of the semantic copies; default the DESIGN §2.1 semantic row. */
  recordParams: { semantic: RecordParams };
  /** Id of each semantic copy; called once per copy, in plan order. */
  newId: () => string;
}

export const defaultConsolidationOptions: Readonly<Omit<ConsolidationOptions, 'newId'>> = Object.freeze({
  duplicateCosine: 0.92,
  pruneBelow: 0.1,
  summaryBytes: 100,
  vectorOf: (record: MemoryRecord) => firstEmbedding(record.content),
  recordParams: defaultCuratedRecordParams,
});

export interface ConsolidationMerge {
  keep: string;
  remove: string;
  /** The kept record's whole association list after this merge (replace, do not append). */
  associations: Association[];
}

export interface ConsolidationPlan {
  response: ConsolidateResponse;
  merges: ConsolidationMerge[];
  /** Semantic copies, each with `metadata._consolidated_from` = its episodic id. */
  creates: MemoryRecord[];
  /** Episodic → semantic copy (type semantic, weight 1). None for a record that is pruned. */
  links: { source_id: string; association: Association }[];
  /** `metadata._consolidated_into` to set on each migrated episodic record (see `markConsolidated`). */
  marks: { id: string; semantic_id: string }[];
  /** Episodic ids to delete. */
  prunes: string[];
  /**
   * Copies an LLM may improve before they are written (spec §4.6 "with a provider"): every copy with text
   * gets relations extracted; `summarize` is set where the summary was generated by truncation rather
   * than given by the caller. See `withProviderResults`.
   */
  enrich: { semantic_id: string; text: string; summarize: boolean }[];
}

/** What an LLM answered for one copy; absent parts (a failed call) leave the copy as planned. */
export interface ProviderResult {
  /** Replaces the generated `content.summary`. */
  summary?: string;
  /** Appended to `metadata.extracted_relations`. */
  relations?: { subject: string; predicate: string; object: string; confidence: number }[];
  /** The provider's name, kept in `metadata._consolidation.summarized_by` with a summary. */
  by: string;
}

/**
 * `plan` with LLM results folded into its copies, by semantic id (pure; the plan's other parts are
 * unchanged). Copies without a result, and results for unknown ids, change nothing.
 */
export function withProviderResults(plan: ConsolidationPlan, results: ReadonlyMap<string, ProviderResult>): ConsolidationPlan {
  if (results.size === 0) return plan;
  const summarizable = new Set(plan.enrich.filter((entry) => entry.summarize).map((entry) => entry.semantic_id));
  const creates = plan.creates.map((copy) => {
    const result = results.get(copy.id);
    if (result === undefined) return copy;
    const summary = result.summary?.trim();
    const useSummary = summary !== undefined && summary !== '' && summarizable.has(copy.id);
    const metadata: JsonObject = { ...metadataObject(copy.metadata) };
    if (result.relations !== undefined && result.relations.length > 0) {
      const existing = Array.isArray(metadata.extracted_relations) ? metadata.extracted_relations : [];
      metadata.extracted_relations = [...existing, ...result.relations.map((relation) => ({ ...relation }))];
    }
    if (useSummary) metadata._consolidation = { ...objectOrNull(metadata._consolidation), summarized_by: result.by };
    return {
      ...copy,
      content: useSummary ? { ...copy.content, summary } : copy.content,
      metadata,
    };
  });
  return { ...plan, creates };
}

export const CONSOLIDATED_INTO = '_consolidated_into';
export const CONSOLIDATED_FROM = '_consolidated_from';

const HOUR_MS = 3_600_000;

/** The semantic record `record` is consolidated into (rule 1 above), or null. */
export function consolidatedInto(record: MemoryRecord, semanticIds: ReadonlySet<string>): string | null {
  const metadata = objectOrNull(record.metadata);
  const mark = metadata?.[CONSOLIDATED_INTO];
  if (typeof mark === 'string' && semanticIds.has(mark)) return mark;
  const promoted = objectOrNull(metadata?._derived)?.semantic_ids;
  if (Array.isArray(promoted)) {
    for (const id of promoted) if (typeof id === 'string' && semanticIds.has(id)) return id;
  }
  for (const edge of record.associations) {
    if (edge.association_type === 'semantic' && edge.weight >= 1 && semanticIds.has(edge.target_id)) return edge.target_id;
  }
  return null;
}

/** `record` with the consolidation mark of a `marks` entry set (the only change; timestamps are the caller's). */
export function markConsolidated(record: MemoryRecord, semanticId: string): MemoryRecord {
  return { ...record, metadata: { ...metadataObject(record.metadata), [CONSOLIDATED_INTO]: semanticId } };
}

/**
 * Plans one consolidation at `nowMs` over the episodic records of one space. `semanticIds` are the ids
 * of the semantic records that exist in that space (only used to recognise consolidated records).
 */
export function planConsolidation(
  episodic: MemoryRecord[],
  semanticIds: ReadonlySet<string>,
  request: ConsolidationPlanRequest,
  nowMs: number,
  options: Pick<ConsolidationOptions, 'newId'> & Partial<ConsolidationOptions>,
): ConsolidationPlan {
  const o: ConsolidationOptions = { ...defaultConsolidationOptions, ...options };
  const now = toTimestamp(nowMs);
  const records = episodic.filter((record) => record.store === 'episodic').sort(oldestFirst);
  const fidelity = new Map(records.map((record) => [record.id, fidelityAt(record.fidelity, record.emotion.intensity, nowMs)]));
  const plan: ConsolidationPlan = {
    response: { records_processed: 0, records_migrated: 0, records_compressed: 0, records_pruned: 0, semantic_nodes_created: 0 },
    merges: [],
    creates: [],
    links: [],
    marks: [],
    prunes: [],
    enrich: [],
  };

  // Phase 1: near-duplicate components, one survivor each.
  const isConsolidated = (record: MemoryRecord) => consolidatedInto(record, semanticIds) !== null;
  const redirect = new Map<string, string>();
  const merges: ConsolidationMerge[] = [];
  for (const component of duplicateComponents(records, o)) {
    const keep = component.reduce((best, candidate) => {
      const rank = Number(isConsolidated(candidate)) - Number(isConsolidated(best)) || (fidelity.get(candidate.id) ?? 0) - (fidelity.get(best.id) ?? 0);
      return rank > 0 ? candidate : best;
    });
    for (const member of component) if (member !== keep) redirect.set(member.id, keep.id);
    let associations = keep.associations;
    for (const member of component) {
      if (member === keep) continue;
      associations = [...associations, ...member.associations];
      merges.push({ keep: keep.id, remove: member.id, associations });
    }
  }
  const redirectAll = (keepId: string, associations: Association[]) => dedupe(keepId, associations, redirect);
  for (const merge of merges) merge.associations = redirectAll(merge.keep, merge.associations);
  plan.response.records_compressed = merges.length;
  const merged = new Map<string, Association[]>();
  for (const merge of merges) merged.set(merge.keep, merge.associations);

  // Phase 2: migration and pruning of the survivors in the strategy's scope.
  const minAccess = request.strategy === 'selective' ? Math.max(1, request.min_access_count) : request.min_access_count;
  for (const record of records) {
    if (redirect.has(record.id)) continue;
    const consolidated = isConsolidated(record);
    if (consolidated && request.strategy !== 'full') continue;
    plan.response.records_processed++;
    const ageHours = Math.max(0, Math.floor((nowMs - fromTimestamp(record.created_at)) / HOUR_MS));
    if (ageHours < request.min_age_hours || record.access_count < minAccess) continue;
    const prune = (fidelity.get(record.id) ?? 0) < o.pruneBelow;
    if (!consolidated) {
      plan.response.records_migrated++;
      plan.response.semantic_nodes_created++;
    }
    if (prune) plan.response.records_pruned++;
    if (request.dry_run) continue;
    if (!consolidated) {
      const associations = merged.get(record.id) ?? redirectAll(record.id, record.associations);
      const copy = semanticCopy({ ...record, associations }, o.newId(), now, o);
      plan.creates.push(copy);
      const text = textOf(record.content);
      if (text !== null && text.trim() !== '') {
        plan.enrich.push({ semantic_id: copy.id, text, summarize: record.content.summary == null });
      }
      if (!prune) {
        plan.links.push({
          source_id: record.id,
          association: { target_id: copy.id, association_type: 'semantic', weight: 1, created_at: now, last_co_activation: now },
        });
        plan.marks.push({ id: record.id, semantic_id: copy.id });
      }
    }
    if (prune) plan.prunes.push(record.id);
  }
  if (!request.dry_run) plan.merges = merges;
  return plan;
}

/**
 * The semantic copy of an episodic record (spec §4.6): same content, metadata, meta, emotion, access
 * statistics and associations, a new id and fresh semantic fidelity; a missing summary becomes the
 * text cut to `summaryBytes` (the no-LLM rule of §4.11; a record without text gets none).
 */
function semanticCopy(record: MemoryRecord, id: string, now: string, o: ConsolidationOptions): MemoryRecord {
  const text = textOf(record.content);
  const summary = record.content.summary ?? (text === null ? record.content.summary : truncateUtf8(text, o.summaryBytes));
  const metadata: JsonObject = { ...metadataObject(record.metadata), [CONSOLIDATED_FROM]: record.id };
  delete metadata[CONSOLIDATED_INTO];
  return {
    ...record,
    id,
    store: 'semantic',
    updated_at: now,
    content: { blocks: record.content.blocks.map((block) => ({ ...block })), summary },
    fidelity: defaultFidelity(now, o.recordParams.semantic),
    emotion: { ...record.emotion },
    associations: record.associations.map((edge) => ({ ...edge })),
    metadata,
    version: 1,
    meta: structuredClone(record.meta),
  };
}

/** Connected components (size ≥ 2) of "cosine > duplicateCosine", members oldest first. */
function duplicateComponents(records: MemoryRecord[], o: ConsolidationOptions): MemoryRecord[][] {
  const vectors = records.map((record) => unit(o.vectorOf(record)));
  const parent = records.map((_, index) => index);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const indexOf = new Map(records.map((record, index) => [record.id, index]));
  const pairsOf = (i: number): Iterable<number> => {
    if (!o.candidatesOf) return Array.from({ length: records.length - i - 1 }, (_, offset) => i + 1 + offset);
    return o.candidatesOf(records[i]).flatMap((id) => {
      const j = indexOf.get(id);
      return j === undefined || j === i ? [] : [j];
    });
  };
  for (let i = 0; i < records.length; i++) {
    const a = vectors[i];
    if (a === null) continue;
    for (const j of pairsOf(i)) {
      const b = vectors[j];
      if (b === null || b.length !== a.length) continue;
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
      if (dot > o.duplicateCosine) {
        const [ri, rj] = [find(i), find(j)];
        if (ri !== rj) parent[Math.max(ri, rj)] = Math.min(ri, rj);
      }
    }
  }
  const components = new Map<number, MemoryRecord[]>();
  records.forEach((record, index) => {
    const root = find(index);
    components.set(root, [...(components.get(root) ?? []), record]);
  });
  return [...components.values()].filter((members) => members.length > 1);
}

function unit(vector: number[] | null): Float64Array | null {
  if (vector === null || vector.length === 0) return null;
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !Number.isFinite(norm)) return null;
  return Float64Array.from(vector, (value) => value / norm);
}

/** Targets redirected to survivors, self-links dropped, one link per (target, type): the first wins. */
function dedupe(selfId: string, associations: Association[], redirect: ReadonlyMap<string, string>): Association[] {
  const seen = new Set<string>();
  const out: Association[] = [];
  for (const edge of associations) {
    const target = redirect.get(edge.target_id) ?? edge.target_id;
    const key = `${target}\u0000${edge.association_type}`;
    if (target === selfId || seen.has(key)) continue;
    seen.add(key);
    out.push(target === edge.target_id ? edge : { ...edge, target_id: target });
  }
  return out;
}

function oldestFirst(a: MemoryRecord, b: MemoryRecord): number {
  return fromTimestamp(a.created_at) - fromTimestamp(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
