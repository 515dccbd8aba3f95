import { describe, expect, it } from 'vitest';
import {
  consolidatedInto,
  defaultConsolidationRequest,
  markConsolidated,
  planConsolidation,
  withProviderResults,
  type ConsolidationPlan,
  type ConsolidationPlanRequest,
} from '../../../src/actors/hippocampus/consolidation.js';
import { defaultDreamRequest, planDream } from '../../../src/actors/hippocampus/dream.js';
import { textBlock, textOf } from '../../../src/cmp/content.js';
import { toTimestamp } from '../../../src/cmp/ids.js';
import { defaultFidelity, validateRecord } from '../../../src/cmp/records.js';
import type { JsonObject, MemoryRecord } from '../../../src/cmp/types.js';
import { association, at, memoryRecord, rawRecord, recordId, T0, T0_MS, textContent } from '../../helpers/records.js';

const HOUR = 3_600_000;
// Ten minutes past 48 h, so that records created a few seconds after T0 are 48 whole hours old.
const NOW_MS = T0_MS + 48 * HOUR + 10 * 60_000;
const NOW = toTimestamp(NOW_MS);

function ids(start = 500): () => string {
  let n = start;
  return () => recordId(n++);
}

function request(overrides: Partial<ConsolidationPlanRequest> = {}): ConsolidationPlanRequest {
  return { ...defaultConsolidationRequest, ...overrides };
}

function episode(n: number, text: string, overrides: Partial<MemoryRecord> & { vector?: number[]; fidelity_score?: number } = {}): MemoryRecord {
  const { vector, fidelity_score, ...rest } = overrides;
  const fidelity = defaultFidelity(T0, { decay_rate: 0.3, stability: 86_400 });
  if (fidelity_score !== undefined) Object.assign(fidelity, { score: fidelity_score, anchor_score: fidelity_score });
  // Distinct creation times (n seconds after T0) make "oldest first" follow n.
  return memoryRecord({
    id: recordId(n),
    created_at: at(n * 1000),
    content: { blocks: [{ ...textBlock(text), embedding: vector ?? null }], summary: null },
    fidelity,
    ...rest,
  });
}

interface World {
  episodic: MemoryRecord[];
  semantic: MemoryRecord[];
}

const semanticIds = (world: World) => new Set(world.semantic.map((record) => record.id));

/** What the coordinator's apply does, in memory: merges, creates, links, marks, prunes, link cleanup. */
function apply(world: World, plan: ConsolidationPlan): World {
  const removed = new Set([...plan.merges.map((merge) => merge.remove), ...plan.prunes]);
  let episodic = world.episodic.map((record) => {
    const last = plan.merges.filter((merge) => merge.keep === record.id).at(-1);
    return last ? { ...record, associations: last.associations } : record;
  });
  for (const link of plan.links) {
    episodic = episodic.map((record) => (record.id === link.source_id ? { ...record, associations: [...record.associations, link.association] } : record));
  }
  for (const mark of plan.marks) {
    episodic = episodic.map((record) => (record.id === mark.id ? markConsolidated(record, mark.semantic_id) : record));
  }
  const clean = (record: MemoryRecord) => ({ ...record, associations: record.associations.filter((edge) => !removed.has(edge.target_id)) });
  return {
    episodic: episodic.filter((record) => !removed.has(record.id)).map(clean),
    semantic: [...world.semantic, ...plan.creates].map(clean),
  };
}

function run(world: World, overrides: Partial<ConsolidationPlanRequest> = {}, newId = ids()): { plan: ConsolidationPlan; after: World } {
  const plan = planConsolidation(world.episodic, semanticIds(world), request(overrides), NOW_MS, { newId });
  return { plan, after: apply(world, plan) };
}

const nothingPlanned = { merges: [], creates: [], links: [], marks: [], prunes: [], enrich: [] };

describe('planConsolidation — migration (spec §4.6)', () => {
  const source = episode(1, 'Met Alice to plan the Q3 roadmap', {
    associations: [association(recordId(9), { association_type: 'temporal', weight: 0.8 })],
    metadata: { tag: 'work' },
    access_count: 3,
  });
  const plan = planConsolidation([source], new Set(), request(), NOW_MS, { newId: ids() });
  const [copy] = plan.creates;

  it('copies an episodic record into a new semantic record', () => {
    expect(plan.response).toEqual({ records_processed: 1, records_migrated: 1, records_compressed: 0, records_pruned: 0, semantic_nodes_created: 1 });
    expect(copy).toMatchObject({ id: recordId(500), store: 'semantic', space: 'default', created_at: source.created_at, access_count: 3, version: 1 });
    expect(copy.updated_at).toBe(NOW);
    expect(copy.content.blocks).toEqual(source.content.blocks);
    expect(copy.meta).toEqual(source.meta);
    expect(copy.metadata).toEqual({ tag: 'work', _consolidated_from: source.id });
    expect(copy.fidelity).toMatchObject({ score: 1, decay_rate: 0.15, stability: 30 * 86_400, anchor_at: NOW });
    expect(() => validateRecord(copy, '')).not.toThrow();
  });

  it('links the episodic record to its copy and marks it consolidated', () => {
    expect(plan.links).toEqual([
      {
        source_id: source.id,
        association: { target_id: copy.id, association_type: 'semantic', weight: 1, created_at: NOW, last_co_activation: NOW },
      },
    ]);
    expect(plan.marks).toEqual([{ id: source.id, semantic_id: copy.id }]);
    expect(plan.merges).toEqual([]);
    expect(plan.prunes).toEqual([]);
  });

  it('preserves associations on the copy and on the original', () => {
    expect(copy.associations).toEqual(source.associations);
    const { after } = run({ episodic: [source], semantic: [] });
    expect(after.episodic[0].associations.map((edge) => [edge.target_id, edge.association_type])).toEqual([
      [recordId(9), 'temporal'],
      [recordId(500), 'semantic'],
    ]);
  });

  it('does not modify its inputs', () => {
    expect(source.metadata).toEqual({ tag: 'work' });
    expect(source.associations).toHaveLength(1);
  });

  it('uses the configured semantic fidelity parameters', () => {
    const custom = planConsolidation([source], new Set(), request(), NOW_MS, {
      newId: ids(),
      recordParams: { semantic: { decay_rate: 0.05, stability: 7 } },
    });
    expect(custom.creates[0].fidelity).toMatchObject({ decay_rate: 0.05, stability: 7 });
  });
});

describe('planConsolidation — summaries without an LLM (spec §4.11)', () => {
  it('uses the original short text as the summary', () => {
    const plan = planConsolidation([episode(1, 'Short text without LLM')], new Set(), request(), NOW_MS, { newId: ids() });
    expect(plan.creates[0].content.summary).toBe('Short text without LLM');
  });

  it('cuts a long text to 100 bytes plus "...", at a character boundary', () => {
    const plan = planConsolidation([episode(1, 'a'.repeat(99) + 'éé'), episode(2, 'b'.repeat(150))], new Set(), request(), NOW_MS, { newId: ids() });
    expect(plan.creates.map((record) => record.content.summary)).toEqual([`${'a'.repeat(99)}...`, `${'b'.repeat(100)}...`]);
  });

  it('keeps an existing summary and gives none to a record without text', () => {
    const summarised = episode(1, 'text', { content: textContent('full text', 'given summary') });
    const image = episode(2, 'x', { content: { blocks: [{ modality: 'image', format: 'png', data: 'AAAA', embedding: null }], summary: null } });
    const plan = planConsolidation([summarised, image], new Set(), request(), NOW_MS, { newId: ids() });
    expect(plan.creates.map((record) => record.content.summary)).toEqual(['given summary', null]);
    expect(textOf(plan.creates[0].content)).toBe('full text');
  });
});

describe('planConsolidation — dry run', () => {
  it('reports the counts of the real run and plans nothing, drawing no id', () => {
    const world: World = {
      episodic: [
        episode(1, 'dup', { vector: [1, 0], fidelity_score: 0.9 }),
        episode(2, 'dup', { vector: [1, 0.01], fidelity_score: 0.5 }),
        episode(3, 'faded', { fidelity_score: 0.05 }),
        episode(4, 'fresh', { created_at: at(48 * HOUR) }),
      ],
      semantic: [],
    };
    const real = planConsolidation(world.episodic, new Set(), request({ min_age_hours: 1 }), NOW_MS, { newId: ids() });
    const dry = planConsolidation(world.episodic, new Set(), request({ min_age_hours: 1, dry_run: true }), NOW_MS, {
      newId: () => {
        throw new Error('no id on a dry run');
      },
    });
    expect(real.response).toEqual({ records_processed: 3, records_migrated: 2, records_compressed: 1, records_pruned: 1, semantic_nodes_created: 2 });
    expect(dry).toEqual({ response: real.response, ...nothingPlanned });
  });
});

describe('planConsolidation — eligibility filters', () => {
  const world: World = {
    episodic: [episode(1, 'old and recalled', { access_count: 2 }), episode(2, 'old, never recalled'), episode(3, 'fresh', { created_at: at(47.5 * HOUR), access_count: 5 })],
    semantic: [],
  };
  const migrated = (plan: ConsolidationPlan) => plan.marks.map((mark) => mark.id);

  it('skips records younger than min_age_hours (whole hours)', () => {
    const { plan } = run(world, { min_age_hours: 1 });
    expect(plan.response).toMatchObject({ records_processed: 3, records_migrated: 2 });
    expect(migrated(plan)).toEqual([recordId(1), recordId(2)]);
    expect(migrated(run(world, { min_age_hours: 0 }).plan)).toEqual([recordId(1), recordId(2), recordId(3)]);
    expect(migrated(run(world, { min_age_hours: 48 }).plan)).toEqual([recordId(1), recordId(2)]);
    expect(migrated(run(world, { min_age_hours: 49 }).plan)).toEqual([]);
  });

  it('skips records recalled fewer than min_access_count times', () => {
    expect(migrated(run(world, { min_access_count: 2 }).plan)).toEqual([recordId(1), recordId(3)]);
  });

  it('selective: only records recalled at least once, or min_access_count', () => {
    expect(migrated(run(world, { strategy: 'selective' }).plan)).toEqual([recordId(1), recordId(3)]);
    expect(migrated(run(world, { strategy: 'selective', min_access_count: 3 }).plan)).toEqual([recordId(3)]);
  });
});

describe('planConsolidation — pruning', () => {
  it('migrates a faded record, then prunes it (no link, no mark)', () => {
    const faded = episode(1, 'faded memory', { fidelity_score: 0.05 });
    const { plan, after } = run({ episodic: [faded], semantic: [] });
    expect(plan.response).toMatchObject({ records_migrated: 1, records_pruned: 1, semantic_nodes_created: 1 });
    expect(plan.creates).toHaveLength(1);
    expect(plan.prunes).toEqual([faded.id]);
    expect(plan.links).toEqual([]);
    expect(plan.marks).toEqual([]);
    expect(after.episodic).toEqual([]);
    expect(textOf(after.semantic[0].content)).toBe('faded memory');
  });

  it('reads fidelity at now in closed form, not the stored score', () => {
    // Anchored at 0.12 two days ago: F(now) = 0.12 · 3^−0.3 ≈ 0.086 < 0.1, though `score` says 0.12.
    const record = episode(1, 'fading', { fidelity_score: 0.12 });
    expect(run({ episodic: [record], semantic: [] }).plan.prunes).toEqual([record.id]);
  });

  it('full: prunes an already consolidated record that has faded, without copying it again', () => {
    const world: World = { episodic: [episode(1, 'kept knowledge')], semantic: [] };
    const first = run(world).after;
    const faded = { ...first, episodic: first.episodic.map((record) => ({ ...record, fidelity: { ...record.fidelity, anchor_score: 0.05 } })) };
    expect(run(faded, { strategy: 'incremental' }).plan).toMatchObject({ response: { records_processed: 0 }, ...nothingPlanned });
    const full = run(faded, { strategy: 'full' }).plan;
    expect(full.response).toEqual({ records_processed: 1, records_migrated: 0, records_compressed: 0, records_pruned: 1, semantic_nodes_created: 0 });
    expect(full.creates).toEqual([]);
    expect(full.prunes).toEqual([recordId(1)]);
  });
});

describe('planConsolidation — near-duplicates (cosine > 0.92)', () => {
  it('merges a duplicate pair into the record of higher fidelity, keeping all associations', () => {
    const a = episode(1, 'coffee with Bob', { vector: [1, 0, 0], fidelity_score: 0.5, associations: [association(recordId(7), { association_type: 'temporal' })] });
    const b = episode(2, 'Coffee with Bob.', {
      vector: [0.99, 0.05, 0],
      fidelity_score: 0.9,
      associations: [association(recordId(7), { association_type: 'temporal', weight: 0.2 }), association(recordId(8)), association(recordId(1))],
    });
    const { plan, after } = run({ episodic: [a, b], semantic: [] });
    expect(plan.response).toMatchObject({ records_compressed: 1, records_processed: 1, records_migrated: 1 });
    expect(plan.merges).toEqual([
      {
        keep: b.id,
        remove: a.id,
        associations: [b.associations[0], b.associations[1]],
      },
    ]);
    expect(plan.creates[0].associations.map((edge) => edge.target_id)).toEqual([recordId(7), recordId(8)]);
    expect(after.episodic.map((record) => record.id)).toEqual([b.id]);
  });

  it("takes over the removed record's links, deduplicated by target and type", () => {
    const a = episode(1, 'x', { vector: [1, 0], fidelity_score: 0.9, associations: [association(recordId(7))] });
    const b = episode(2, 'y', { vector: [1, 0], fidelity_score: 0.5, associations: [association(recordId(7)), association(recordId(8), { association_type: 'causal' })] });
    const plan = planConsolidation([a, b], new Set(), request(), NOW_MS, { newId: ids() });
    expect(plan.merges).toEqual([{ keep: a.id, remove: b.id, associations: [a.associations[0], b.associations[1]] }]);
  });

  it('leaves records below the threshold, records without vectors and other dimensions alone', () => {
    const records = [episode(1, 'a', { vector: [1, 0] }), episode(2, 'b', { vector: [0.9, Math.sqrt(1 - 0.9 ** 2)] }), episode(3, 'c'), episode(4, 'd'), episode(5, 'e', { vector: [1, 0, 0] })];
    const plan = planConsolidation(records, new Set(), request(), NOW_MS, { newId: ids() });
    expect(plan.merges).toEqual([]);
    expect(plan.response.records_processed).toBe(5);
  });

  it('merges a whole chain of near-duplicates into one survivor, so a second run merges nothing', () => {
    // a~b and b~c, but a and c are not near-duplicates of each other.
    const angle = (deg: number) => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];
    const world: World = {
      episodic: [episode(1, 'a', { vector: angle(0), fidelity_score: 0.6 }), episode(2, 'b', { vector: angle(20), fidelity_score: 0.5 }), episode(3, 'c', { vector: angle(40), fidelity_score: 0.7 })],
      semantic: [],
    };
    const { plan, after } = run(world);
    expect(plan.merges.map((merge) => [merge.keep, merge.remove])).toEqual([
      [recordId(3), recordId(1)],
      [recordId(3), recordId(2)],
    ]);
    expect(after.episodic.map((record) => record.id)).toEqual([recordId(3)]);
    expect(run(after, {}, ids(600)).plan).toMatchObject(nothingPlanned);
  });

  it('keeps a consolidated record over a fresher unconsolidated duplicate', () => {
    const { after } = run({ episodic: [episode(1, 'lunch', { vector: [1, 0], fidelity_score: 0.3 })], semantic: [] });
    const world = { ...after, episodic: [...after.episodic, episode(2, 'lunch!', { vector: [1, 0.001] })] };
    const { plan, after: second } = run(world, {}, ids(600));
    expect(plan.merges.map((merge) => [merge.keep, merge.remove])).toEqual([[recordId(1), recordId(2)]]);
    expect(plan.creates).toEqual([]);
    expect(second.semantic).toHaveLength(1);
  });

  it("uses vectorOf when given (e.g. the store's vector index)", () => {
    const vectors: Record<string, number[]> = { [recordId(1)]: [0, 1], [recordId(2)]: [0, 1] };
    const plan = planConsolidation([episode(1, 'p'), episode(2, 'q')], new Set(), request(), NOW_MS, {
      newId: ids(),
      vectorOf: (record) => vectors[record.id] ?? null,
    });
    expect(plan.response.records_compressed).toBe(1);
  });

  it('never removes a semantic record as a duplicate (P4-10)', () => {
    const semantic = episode(1, 'fact', { store: 'semantic', vector: [1, 0], fidelity_score: 1 });
    const epi = episode(2, 'fact', { vector: [1, 0], fidelity_score: 0.2 });
    const plan = planConsolidation([semantic, epi], new Set([semantic.id]), request(), NOW_MS, { newId: ids() });
    expect(plan.merges).toEqual([]);
    expect(plan.prunes).not.toContain(semantic.id);
    expect(plan.creates.map((record) => record.metadata)).toEqual([{ _consolidated_from: epi.id }]);
    expect(plan.response.records_processed).toBe(1);
  });
});

describe('planConsolidation — idempotency (DESIGN §2 item 6)', () => {
  const world: World = {
    episodic: [
      episode(1, 'first', { vector: [1, 0, 0], access_count: 1 }),
      episode(2, 'first again', { vector: [1, 0.01, 0], fidelity_score: 0.4 }),
      episode(3, 'second', { vector: [0, 1, 0], associations: [association(recordId(2))] }),
      episode(4, 'faded', { vector: [0, 0, 1], fidelity_score: 0.01 }),
      episode(5, 'young', { created_at: at(47.9 * HOUR) }),
    ],
    semantic: [],
  };

  for (const strategy of ['incremental', 'full', 'selective'] as const) {
    it(`${strategy}: planning again after apply plans nothing`, () => {
      const { plan, after } = run(world, { strategy, min_age_hours: 1 });
      expect(plan.creates.length).toBeGreaterThan(0);
      const again = run(after, { strategy, min_age_hours: 1 }, ids(600)).plan;
      expect(again).toMatchObject(nothingPlanned);
      expect(again.response).toMatchObject({ records_migrated: 0, records_compressed: 0, records_pruned: 0, semantic_nodes_created: 0 });
    });
  }

  it('consolidating twice creates no duplicate semantic record', () => {
    const once = run(world).after;
    const twice = run(once, {}, ids(600)).after;
    expect(twice.semantic.map((record) => record.id)).toEqual(once.semantic.map((record) => record.id));
    expect(twice.episodic).toEqual(once.episodic);
  });

  it('never increases the number of episodic records (P4-10)', () => {
    let current = world;
    for (let i = 0; i < 3; i++) {
      const next = run(current, {}, ids(600 + 10 * i)).after;
      expect(next.episodic.length).toBeLessThanOrEqual(current.episodic.length);
      current = next;
    }
    expect(current.episodic.map((record) => record.id)).toEqual([recordId(1), recordId(3), recordId(5)]);
  });

  it('redirects a link to a merged-away record onto its survivor in the copy', () => {
    const { plan } = run(world);
    const copyOf3 = plan.creates.find((record) => (record.metadata as JsonObject)._consolidated_from === recordId(3));
    expect(copyOf3?.associations.map((edge) => edge.target_id)).toEqual([recordId(1)]);
  });

  it('holds by the mark alone, even after the link to the copy has weakened', () => {
    const { after } = run({ episodic: [episode(1, 'note')], semantic: [] });
    const weakened = {
      ...after,
      episodic: after.episodic.map((record) => ({ ...record, associations: record.associations.map((edge) => ({ ...edge, weight: 0.4 })) })),
    };
    expect(run(weakened, {}, ids(600)).plan).toMatchObject(nothingPlanned);
  });

  it('copies a record again once its semantic node is forgotten', () => {
    const { after } = run({ episodic: [episode(1, 'note')], semantic: [] });
    const forgotten = { episodic: after.episodic, semantic: [] };
    const again = run(forgotten, {}, ids(600)).plan;
    expect(again.creates).toHaveLength(1);
    expect(again.creates[0].metadata).toEqual({ _consolidated_from: recordId(1) });
    expect(again.marks).toEqual([{ id: recordId(1), semantic_id: recordId(600) }]);
  });
});

describe('consolidatedInto', () => {
  const semanticId = recordId(90);
  const known = new Set([semanticId]);

  it('recognises the consolidation mark, only while its semantic record exists', () => {
    const marked = markConsolidated(episode(1, 'x'), semanticId);
    expect(marked.metadata).toEqual({ _consolidated_into: semanticId });
    expect(consolidatedInto(marked, known)).toBe(semanticId);
    expect(consolidatedInto(marked, new Set())).toBeNull();
  });

  it('recognises a reference-style link (type semantic, weight 1), not a weaker one', () => {
    expect(consolidatedInto(episode(1, 'x', { associations: [association(semanticId, { weight: 1 })] }), known)).toBe(semanticId);
    expect(consolidatedInto(episode(1, 'x', { associations: [association(semanticId, { weight: 0.9 })] }), known)).toBeNull();
    expect(consolidatedInto(episode(1, 'x', { associations: [association(semanticId, { weight: 1, association_type: 'causal' })] }), known)).toBeNull();
  });

  it('never copies a promoted dream summary again: its semantic node holds the same text', () => {
    const journal = [
      rawRecord({ id: recordId(1), content: textContent('Tuning the garden irrigation timer'), created_at: T0 }),
      rawRecord({ id: recordId(2), content: textContent('Garden irrigation timer now runs at dawn'), created_at: at(60_000) }),
      rawRecord({ id: recordId(3), content: textContent('Unrelated single thought'), created_at: at(10 * HOUR) }),
    ];
    const dream = planDream(journal, defaultDreamRequest, at(HOUR * 11), ids(700));
    expect(dream.semantic).toHaveLength(1);
    const world: World = { episodic: dream.summaries, semantic: dream.semantic };
    const plan = planConsolidation(world.episodic, semanticIds(world), request(), NOW_MS, { newId: ids() });
    // Only the summary that was not promoted is copied.
    expect(plan.creates.map((record) => (record.metadata as JsonObject)._consolidated_from)).toEqual([dream.summaries[1].id]);
    expect(plan.response.records_processed).toBe(1);
  });
});

describe('withProviderResults (spec §4.6 "with a provider")', () => {
  const world: World = {
    episodic: [episode(1, 'Alice moved to Berlin in 2024'), { ...episode(2, 'Bob likes tea'), content: textContent('Bob likes tea', 'caller summary') }],
    semantic: [],
  };
  const { plan } = run(world);
  const [alice, bob] = plan.creates;

  it('lists every copy with text, asking for a summary only where none was given', () => {
    expect(plan.enrich).toEqual([
      { semantic_id: alice.id, text: 'Alice moved to Berlin in 2024', summarize: true },
      { semantic_id: bob.id, text: 'Bob likes tea', summarize: false },
    ]);
  });

  it('replaces generated summaries, keeps given ones, and appends relations to metadata', () => {
    const relation = { subject: 'Alice', predicate: 'moved to', object: 'Berlin', confidence: 0.9 };
    const results = new Map([
      [alice.id, { summary: 'Alice lives in Berlin.', relations: [relation], by: 'fake:model' }],
      [bob.id, { summary: 'ignored', relations: [], by: 'fake:model' }],
    ]);
    const enriched = withProviderResults(plan, results);
    const [a, b] = enriched.creates;
    expect(a.content.summary).toBe('Alice lives in Berlin.');
    expect((a.metadata as JsonObject).extracted_relations).toEqual([relation]);
    expect((a.metadata as JsonObject)._consolidation).toEqual({ summarized_by: 'fake:model' });
    expect(b.content.summary).toBe('caller summary');
    expect((b.metadata as JsonObject).extracted_relations).toBeUndefined();
    expect({ ...enriched, creates: plan.creates }).toEqual(plan);
    expect(plan.creates[0].content.summary).not.toBe('Alice lives in Berlin.'); // the input plan is untouched
  });

  it('changes nothing for failed calls (no summary, no relations)', () => {
    const enriched = withProviderResults(plan, new Map([[alice.id, { by: 'fake:model' }]]));
    expect(enriched.creates[0].content).toEqual(alice.content);
  });
});
