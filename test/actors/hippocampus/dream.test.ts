import { describe, expect, it } from 'vitest';
import {
  defaultDreamRequest,
  dreamSummaryRequests,
  inferDreamGroups,
  isDreamCandidate,
  planDream,
  summarizeDreamGroup,
  tokenizeForTopics,
  type DreamPlan,
  type DreamPlanRequest,
} from '../../../src/actors/hippocampus/dream.js';
import { textOf, truncateUtf8 } from '../../../src/cmp/content.js';
import { validateRawRecord, validateRecord } from '../../../src/cmp/records.js';
import type { JsonObject, RawJournalRecord } from '../../../src/cmp/types.js';
import { at, rawRecord, recordId, T0, textContent } from '../../helpers/records.js';

const MINUTE = 60_000;
const NOW = at(24 * 60 * MINUTE);

function ids(start = 100): () => string {
  let n = start;
  return () => recordId(n++);
}

function request(overrides: Partial<DreamPlanRequest> = {}): DreamPlanRequest {
  return { ...defaultDreamRequest, ...overrides };
}

function raw(n: number, text: string, offsetMinutes: number, overrides: Partial<RawJournalRecord> = {}): RawJournalRecord {
  return rawRecord({ id: recordId(n), content: textContent(text), created_at: at(offsetMinutes * MINUTE), updated_at: at(offsetMinutes * MINUTE), ...overrides });
}

/** The plan applied to the journal: raw records replaced by their updates (what the coordinator writes). */
function applied(journal: RawJournalRecord[], plan: DreamPlan): RawJournalRecord[] {
  const updates = new Map(plan.rawUpdates.map((record) => [record.id, record]));
  return journal.map((record) => updates.get(record.id) ?? record);
}

const obj = (value: unknown) => value as JsonObject;

describe('planDream — two normal records in one session (spec §10.6)', () => {
  const journal = [raw(1, 'Deploy the billing service to staging', 0), raw(2, 'Billing service deploy passed smoke tests', 5)];
  const plan = planDream(journal, request(), NOW, ids());
  const [summary] = plan.summaries;
  const [semantic] = plan.semantic;

  it('processes one group into one summary and one semantic node', () => {
    expect(plan.response).toEqual({ groups_processed: 1, raw_records_processed: 2, episodic_summaries_created: 1, semantic_nodes_created: 1 });
    expect(plan.summaries).toHaveLength(1);
    expect(plan.semantic).toHaveLength(1);
    expect(summary.id).toBe(recordId(100));
    expect(semantic.id).toBe(recordId(101));
  });

  it('writes the deterministic no-LLM summary text', () => {
    expect(textOf(summary.content)).toBe('Dream summary for session session-1 / topic billing+deploy+service: ' + 'Deploy the billing service to staging | Billing service deploy passed smoke tests');
    expect(summary.content.summary).toBe(truncateUtf8(textOf(summary.content)!, 160));
    expect(textOf(semantic.content)).toBe(textOf(summary.content));
    expect(semantic.content.summary).toBe(summary.content.summary);
  });

  it('builds a valid episodic summary record with _origin and _dream metadata', () => {
    expect(summary).toMatchObject({ store: 'episodic', space: 'default', created_at: NOW, updated_at: NOW, version: 1, access_count: 0 });
    expect(() => validateRecord(summary, '')).not.toThrow();
    const metadata = obj(summary.metadata);
    expect(metadata._origin).toEqual({
      dream_tick_at: NOW,
      range_end: at(5 * MINUTE),
      range_start: T0,
      raw_record_count: 2,
      raw_record_ids: [recordId(1), recordId(2)],
      raw_session_id: 'session-1',
      raw_topic_hint: 'billing+deploy+service',
      raw_topic_id: null,
      raw_topic_inferred: true,
    });
    expect(metadata._dream).toEqual({
      kind: 'episodic_summary',
      source: 'raw_journal',
      summary_stats: { normal_records: 2, private_scratch_redacted: 0, sealed_redacted: 0, secret_redacted: 0, redacted_total: 0 },
    });
    expect(metadata._derived).toEqual({ semantic_ids: [semantic.id] });
  });

  it('gives the summary inferred meta with one derived_from edge per raw record', () => {
    expect(summary.meta).toMatchObject({
      capture_status: 'inferred',
      trigger: 'lifecycle.dream_tick',
      rationale: 'Raw journal records were grouped and summarized into curated episodic memory.',
      intent: 'Preserve the meaning of raw session material as an episodic memory while retaining backlinks to the verbatim journal.',
      goals: ['summarize_raw_journal', 'preserve_traceability'],
      tags: ['dream_tick', 'episodic_summary'],
      confidence: 1,
      source_record_ids: [recordId(1), recordId(2)],
      captured_at: NOW,
    });
    expect(summary.meta.context_edges).toHaveLength(2);
    expect(summary.meta.context_edges.map((edge) => [edge.source_id, edge.target_id, edge.relation, edge.confidence])).toEqual([
      [summary.id, recordId(1), 'derived_from', 1],
      [summary.id, recordId(2), 'derived_from', 1],
    ]);
    expect(summary.meta.context_edges[0].evidence).toEqual([expect.objectContaining({ raw_record_id: recordId(1), label: 'source_raw_record', confidence: 1 })]);
  });

  it('promotes a semantic node linked both ways to the summary', () => {
    expect(semantic).toMatchObject({ store: 'semantic', space: 'default' });
    expect(() => validateRecord(semantic, '')).not.toThrow();
    const link = { association_type: 'semantic', weight: 1, created_at: NOW, last_co_activation: NOW };
    expect(summary.associations).toEqual([{ target_id: semantic.id, ...link }]);
    expect(semantic.associations).toEqual([{ target_id: summary.id, ...link }]);
    const metadata = obj(semantic.metadata);
    expect(obj(metadata._dream).kind).toBe('semantic_summary');
    expect(metadata._origin).toEqual({
      dream_tick_at: NOW,
      raw_record_count: 2,
      raw_record_ids: [recordId(1), recordId(2)],
      raw_session_id: 'session-1',
      raw_summary_record_id: summary.id,
      raw_topic_hint: 'billing+deploy+service',
      raw_topic_id: null,
      raw_topic_inferred: true,
    });
    expect(semantic.meta).toMatchObject({
      capture_status: 'inferred',
      rationale: 'The dream summary had enough topic signal to be promoted into semantic memory.',
      intent: 'Distill repeated or topic-coherent raw material into longer-lived semantic knowledge.',
      goals: ['promote_topic_signal', 'preserve_traceability'],
      decision: 'Promoted the dream group into semantic memory.',
      tags: ['dream_tick', 'semantic_summary'],
    });
    expect(semantic.meta.context_edges.map((edge) => [edge.source_id, edge.target_id, edge.relation])).toEqual([
      [semantic.id, summary.id, 'derived_from'],
      [semantic.id, recordId(1), 'derived_from'],
      [semantic.id, recordId(2), 'derived_from'],
    ]);
    expect(semantic.meta.context_edges[0].evidence[0]).toMatchObject({ record_id: summary.id, label: 'source_episodic_summary' });
  });

  it("uses each store's fidelity parameters", () => {
    expect(summary.fidelity).toMatchObject({ score: 1, decay_rate: 0.3, stability: 86_400 });
    expect(semantic.fidelity).toMatchObject({ score: 1, decay_rate: 0.15, stability: 30 * 86_400 });
    const custom = planDream(journal, request(), NOW, ids(), {
      recordParams: { episodic: { decay_rate: 0.5, stability: 10 }, semantic: { decay_rate: 0.05, stability: 20 } },
    });
    expect(custom.summaries[0].fidelity).toMatchObject({ decay_rate: 0.5, stability: 10 });
    expect(custom.semantic[0].fidelity).toMatchObject({ decay_rate: 0.05, stability: 20 });
  });

  it('marks every raw record processed with backlinks, content untouched', () => {
    expect(plan.rawUpdates.map((record) => record.id)).toEqual([recordId(1), recordId(2)]);
    for (const [i, record] of plan.rawUpdates.entries()) {
      expect(() => validateRawRecord(record, '')).not.toThrow();
      expect(record.content).toEqual(journal[i].content);
      expect(record.updated_at).toBe(NOW);
      expect(record.derived_memory_ids).toEqual([summary.id, semantic.id]);
      expect(obj(record.metadata)._dream).toEqual({ last_summary_id: summary.id, processed_at: NOW });
      expect(obj(record.metadata)._derived).toEqual({ episodic_summary_ids: [summary.id], semantic_ids: [semantic.id] });
    }
  });

  it('does not modify its inputs', () => {
    expect(journal[0].metadata).toEqual({});
    expect(journal[0].derived_memory_ids).toEqual([]);
  });

  it('plans nothing once applied (idempotent)', () => {
    const again = planDream(applied(journal, plan), request(), NOW, ids(200));
    expect(again).toEqual({
      response: { groups_processed: 0, raw_records_processed: 0, episodic_summaries_created: 0, semantic_nodes_created: 0 },
      summaries: [],
      semantic: [],
      rawUpdates: [],
    });
  });
});

describe('planDream — idempotence with one record (spec §10.6)', () => {
  it('first run: 1 summary, 0 semantic; second run: nothing', () => {
    const journal = [raw(1, 'A single thought about gardening', 0)];
    const first = planDream(journal, request(), NOW, ids());
    expect(first.response).toEqual({ groups_processed: 1, raw_records_processed: 1, episodic_summaries_created: 1, semantic_nodes_created: 0 });
    expect(first.semantic).toEqual([]);
    expect(first.summaries[0].associations).toEqual([]);
    expect(obj(first.summaries[0].metadata)._derived).toBeUndefined();
    expect(first.rawUpdates[0].derived_memory_ids).toEqual([first.summaries[0].id]);
    expect(obj(first.rawUpdates[0].metadata)._derived).toEqual({ episodic_summary_ids: [first.summaries[0].id] });
    const second = planDream(applied(journal, first), request(), NOW, ids(200));
    expect(second.response.episodic_summaries_created).toBe(0);
    expect(second.summaries.length + second.semantic.length + second.rawUpdates.length).toBe(0);
  });

  it('keeps existing metadata and backlinks, adding without duplicates', () => {
    const journal = [
      raw(1, 'Kept metadata', 0, {
        metadata: { tag: 'x', _derived: { episodic_summary_ids: ['old', recordId(100)], other: 1 } },
        derived_memory_ids: [recordId(100)],
      }),
    ];
    const [update] = planDream(journal, request(), NOW, ids()).rawUpdates;
    expect(update.derived_memory_ids).toEqual([recordId(100)]);
    expect(update.metadata).toEqual({
      _derived: { episodic_summary_ids: ['old', recordId(100)], other: 1 },
      _dream: { last_summary_id: recordId(100), processed_at: NOW },
      tag: 'x',
    });
  });

  it('marks records whose metadata is not an object too, keeping it under _metadata', () => {
    const journal = [raw(1, 'Odd metadata', 0, { metadata: 'free text' })];
    const [update] = planDream(journal, request(), NOW, ids()).rawUpdates;
    expect(obj(update.metadata)._metadata).toBe('free text');
    expect(planDream([update], request(), NOW, ids()).response.groups_processed).toBe(0);
  });
});

describe('planDream — redaction (spec §10.6)', () => {
  const journal = [
    raw(1, 'Normal visible planning note about the launch', 0),
    raw(2, 'PRIVATE scratch reasoning', 1, { visibility: 'private_scratch', secrecy_level: 'sensitive' }),
    raw(3, 'SECRET api key material', 2, { secrecy_level: 'secret' }),
  ];
  const all = request({ include_private_scratch: true, include_sealed: true, secrecy_levels: ['public', 'sensitive', 'secret'] });

  it('quotes only the normal text and counts the redacted records', () => {
    const plan = planDream(journal, all, NOW, ids());
    expect(plan.response).toEqual({ groups_processed: 1, raw_records_processed: 3, episodic_summaries_created: 1, semantic_nodes_created: 0 });
    const text = textOf(plan.summaries[0].content)!;
    expect(text).toContain('Normal visible planning note about the launch');
    expect(text).not.toContain('PRIVATE');
    expect(text).not.toContain('SECRET');
    expect(text).toContain('Redacted raw records: 2');
    expect(text.endsWith(' [Redacted raw records: 2]')).toBe(true);
    expect(obj(obj(plan.summaries[0].metadata)._dream).summary_stats).toEqual({
      normal_records: 1,
      private_scratch_redacted: 1,
      sealed_redacted: 0,
      secret_redacted: 1,
      redacted_total: 2,
    });
    expect(plan.semantic).toEqual([]);
    // Redacted records are processed (marked) all the same.
    expect(plan.rawUpdates.map((record) => record.id)).toEqual([recordId(1), recordId(2), recordId(3)]);
  });

  it('never names the topic after redacted text', () => {
    const [group] = inferDreamGroups(journal, { max_groups: 10 });
    expect(group.topic_hint).toBe('about+launch+normal');
  });

  it('counts a record once by its strongest restriction: secret, then sealed, then private scratch', () => {
    const records = [raw(1, 'a', 0, { visibility: 'sealed', secrecy_level: 'secret' }), raw(2, 'b', 1, { visibility: 'sealed' }), raw(3, 'c', 2, { visibility: 'private_scratch' })];
    const [group] = inferDreamGroups(records, { max_groups: 10 });
    const { text, stats } = summarizeDreamGroup(group);
    expect(stats).toEqual({ normal_records: 0, private_scratch_redacted: 1, sealed_redacted: 1, secret_redacted: 1, redacted_total: 3 });
    expect(text).toBe('Dream summary for session session-1: 3 raw record(s) preserved. 3 redacted from summary.');
  });

  it('by default dreams only normal public/sensitive records', () => {
    const records = [...journal, raw(4, 'sealed', 3, { visibility: 'sealed' }), raw(5, 'gone', 4, { suppressed: true })];
    const plan = planDream(records, request(), NOW, ids());
    expect(plan.response.raw_records_processed).toBe(1);
    expect(plan.rawUpdates.map((record) => record.id)).toEqual([recordId(1)]);
    expect(isDreamCandidate(records[1], request())).toBe(false);
    expect(isDreamCandidate(records[1], request({ include_private_scratch: true }))).toBe(true);
    expect(isDreamCandidate(records[2], request({ secrecy_levels: ['secret'] }))).toBe(true);
    expect(isDreamCandidate(records[3], request({ include_sealed: true }))).toBe(true);
    expect(isDreamCandidate(records[4], request({ include_sealed: true, include_private_scratch: true }))).toBe(false);
  });
});

describe('planDream — topic inference (spec §10.6)', () => {
  const journal = [
    raw(1, 'Kubernetes cluster upgrade planning for the ingress controller', 0),
    raw(2, 'The kubernetes ingress controller upgrade finished on the cluster', 5),
    raw(3, 'Grandma birthday cake recipe with chocolate frosting', 25),
  ];

  it('splits at a 20-minute gap with no shared words: 2 groups, 2 summaries, 1 semantic', () => {
    const plan = planDream(journal, request(), NOW, ids());
    expect(plan.response).toEqual({ groups_processed: 2, raw_records_processed: 3, episodic_summaries_created: 2, semantic_nodes_created: 1 });
    for (const summary of plan.summaries) {
      const origin = obj(obj(summary.metadata)._origin);
      expect(origin.raw_topic_inferred).toBe(true);
      expect(typeof origin.raw_topic_hint).toBe('string');
    }
    expect(obj(obj(plan.summaries[0].metadata)._origin).raw_topic_hint).toBe('cluster+controller+ingress');
    expect(obj(obj(plan.summaries[1].metadata)._origin).raw_topic_hint).toBe('birthday+cake+chocolate');
    expect(obj(obj(plan.semantic[0].metadata)._origin).raw_summary_record_id).toBe(plan.summaries[0].id);
  });

  it('keeps a related record after a medium gap in the same segment', () => {
    const related = [...journal.slice(0, 2), raw(3, 'Ingress controller upgrade rolled back on the kubernetes cluster', 25)];
    expect(inferDreamGroups(related, { max_groups: 10 }).map((group) => group.records.length)).toEqual([3]);
  });

  it('always splits after more than 45 minutes, never at exactly 45 or 10', () => {
    const same = 'kubernetes cluster upgrade';
    const records = [raw(1, same, 0), raw(2, same, 45), raw(3, same, 91), raw(4, 'unrelated words entirely', 101)];
    expect(inferDreamGroups(records, { max_groups: 10 }).map((group) => group.records.map((r) => r.id))).toEqual([
      [recordId(1), recordId(2)],
      [recordId(3), recordId(4)],
    ]);
  });

  it('groups explicit topics per (date, session, trimmed topic) and never infers them', () => {
    const records = [raw(1, 'one', 0, { topic_id: ' release ' }), raw(2, 'two', 120, { topic_id: 'release' }), raw(3, 'three', 1, { topic_id: 'release', session_id: 'session-2' }), raw(4, 'four', 2)];
    const groups = inferDreamGroups(records, { max_groups: 10 });
    expect(groups.map((group) => [group.session_id, group.raw_topic_id, group.topic_hint, group.inferred_topic, group.records.length])).toEqual([
      ['session-1', 'release', 'release', false, 2],
      ['session-2', 'release', 'release', false, 1],
      ['session-1', null, 'four', true, 1],
    ]);
  });

  it('separates UTC dates and sessions, and sorts groups by first record time', () => {
    const records = [
      raw(1, 'late evening thoughts', 11 * 60 + 50), // 23:50 UTC
      raw(2, 'late evening thoughts', 12 * 60 + 5), // 00:05 UTC next day
      raw(3, 'other session words', 12 * 60, { session_id: 'session-0' }),
    ];
    const groups = inferDreamGroups(records, { max_groups: 10 });
    expect(groups.map((group) => [group.date, group.session_id, group.records[0].id])).toEqual([
      ['2026-04-28', 'session-1', recordId(1)],
      ['2026-04-29', 'session-0', recordId(3)],
      ['2026-04-29', 'session-1', recordId(2)],
    ]);
  });

  it('falls back to auto-YYYYMMDD-{n} when a segment has no token', () => {
    const records = [raw(1, 'ok', 0), raw(2, 'hi', 60), raw(3, 'no', 120)];
    expect(inferDreamGroups(records, { max_groups: 10 }).map((group) => group.topic_hint)).toEqual(['auto-20260428-0', 'auto-20260428-1', 'auto-20260428-2']);
  });

  it('processes only the first max_groups groups, leaving the rest for the next tick', () => {
    const records = [raw(1, 'first topic alpha', 0), raw(2, 'second topic beta', 60), raw(3, 'third topic gamma', 120)];
    const plan = planDream(records, request({ max_groups: 2 }), NOW, ids());
    expect(plan.response.groups_processed).toBe(2);
    expect(plan.rawUpdates.map((record) => record.id)).toEqual([recordId(1), recordId(2)]);
    const next = planDream(applied(records, plan), request({ max_groups: 2 }), NOW, ids(200));
    expect(next.rawUpdates.map((record) => record.id)).toEqual([recordId(3)]);
  });

  it('filters by session when one is given', () => {
    const records = [raw(1, 'mine', 0), raw(2, 'theirs', 1, { session_id: 'session-2' })];
    const plan = planDream(records, request({ session_id: 'session-2' }), NOW, ids());
    expect(plan.rawUpdates.map((record) => record.id)).toEqual([recordId(2)]);
  });

  it('takes the space from the raw records and never mixes spaces', () => {
    const records = [raw(1, 'shared words here', 0, { space: 'alice' }), raw(2, 'shared words here', 1, { space: 'bob' })];
    const plan = planDream(records, request(), NOW, ids());
    expect(plan.summaries.map((summary) => summary.space).sort()).toEqual(['alice', 'bob']);
  });
});

describe('planDream — dry run (spec §10.6)', () => {
  it('counts groups and summaries, plans no write and draws no id', () => {
    const journal = [raw(1, 'Deploy the billing service', 0), raw(2, 'Billing service deployed', 5), raw(3, 'later thing', 120)];
    const newId = () => {
      throw new Error('no id on a dry run');
    };
    const plan = planDream(journal, request({ dry_run: true }), NOW, newId);
    expect(plan).toEqual({
      response: { groups_processed: 2, raw_records_processed: 3, episodic_summaries_created: 2, semantic_nodes_created: 0 },
      summaries: [],
      semantic: [],
      rawUpdates: [],
    });
    expect(planDream(journal, request(), NOW, ids()).response.groups_processed).toBe(2);
  });
});

describe('summary text limits', () => {
  it('quotes at most 8 texts of at most 160 bytes each', () => {
    const records = Array.from({ length: 10 }, (_, i) => raw(i + 1, `item${i} ${'x'.repeat(200)}`, i));
    const [group] = inferDreamGroups(records, { max_groups: 1 });
    const { text } = summarizeDreamGroup(group, { summaryBytes: 10_000 });
    const snippets = text.slice(text.indexOf(': ') + 2).split(' | ');
    expect(snippets).toHaveLength(8);
    for (const snippet of snippets) {
      expect(snippet.endsWith('...')).toBe(true);
      expect(Buffer.byteLength(snippet) - 3).toBe(160);
    }
  });

  it('caps the whole text at 1200 bytes plus "..."', () => {
    const records = Array.from({ length: 8 }, (_, i) => raw(i + 1, `word${i} ${'y'.repeat(300)}`, i));
    const [group] = inferDreamGroups(records, { max_groups: 1 });
    const { text } = summarizeDreamGroup(group);
    expect(Buffer.byteLength(text)).toBe(1203);
    expect(text.endsWith('...')).toBe(true);
  });

  it('truncates at UTF-8 character boundaries', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('abcd', 3)).toBe('abc...');
    expect(truncateUtf8('ééé', 3)).toBe('é...'); // 2-byte chars: byte 3 is mid-character
    expect(truncateUtf8('日本語', 4)).toBe('日...');
    expect(truncateUtf8('😀😀', 5)).toBe('😀...');
    expect(truncateUtf8('😀', 3)).toBe('...');
    const records = [raw(1, 'é'.repeat(200), 0)];
    const { text } = summarizeDreamGroup(inferDreamGroups(records, { max_groups: 1 })[0]);
    expect(text).not.toContain('\uFFFD');
    expect(text).toContain(`${'é'.repeat(80)}...`);
  });
});

describe('tokenizeForTopics', () => {
  it('splits on non-alphanumerics, lowercases, keeps ≥ 3 bytes and drops stopwords', () => {
    expect(tokenizeForTopics('The Deploy-plan, for session_42: OK? raw notes on éé and 日本')).toEqual(['deploy', 'plan', 'éé', '日本']);
    expect(tokenizeForTopics('Ingress ingress INGRESS')).toEqual(['ingress', 'ingress', 'ingress']);
    expect(tokenizeForTopics('')).toEqual([]);
  });
});

describe('planDream with LLM summaries (spec §4.10 "provider configured")', () => {
  const journal = [raw(1, 'Deploy the billing service to staging', 0), raw(2, 'secret token 1234', 2, { secrecy_level: 'secret' }), raw(3, 'Billing service deploy passed smoke tests', 5)];

  // Secret records join the group (they are visible to this request) but are never quoted.
  const withSecrets = (overrides: Partial<DreamPlanRequest> = {}) => request({ secrecy_levels: ['public', 'sensitive', 'secret'], ...overrides });

  it('asks only for the quotable texts of each group, and nothing on a dry run', () => {
    expect(dreamSummaryRequests(journal, withSecrets())).toEqual([{ key: recordId(1), texts: ['Deploy the billing service to staging', 'Billing service deploy passed smoke tests'] }]);
    expect(dreamSummaryRequests(journal, withSecrets({ dry_run: true }))).toEqual([]);
  });

  it('uses the given summary, noting what was redacted and who summarised', () => {
    const providerSummaries = new Map([[recordId(1), { text: ' Billing was deployed and tested. ', by: 'fake:model' }]]);
    const plan = planDream(journal, withSecrets(), NOW, ids(), { providerSummaries });
    const [summary] = plan.summaries;
    expect(textOf(summary.content)).toBe('Billing was deployed and tested.\n\n[1 raw record(s) redacted from summary]');
    expect(obj(obj(summary.metadata)._dream).summarized_by).toBe('fake:model');
    expect(textOf(plan.semantic[0].content)).toBe(textOf(summary.content));
    expect(textOf(summary.content)).not.toContain('1234');
  });

  it('falls back to the built-in summary for a group without one, or with a blank one', () => {
    const builtin = planDream(journal, withSecrets(), NOW, ids());
    for (const providerSummaries of [new Map(), new Map([[recordId(1), { text: '  ', by: 'fake:model' }]])]) {
      const plan = planDream(journal, withSecrets(), NOW, ids(), { providerSummaries });
      expect(plan).toEqual(builtin);
    }
  });
});
