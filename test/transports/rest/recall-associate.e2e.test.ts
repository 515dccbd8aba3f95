import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_LINK_WEIGHT } from '../../../src/actors/hippocampus/coordinator.js';
import { encode, encodeBatch, idsOf, localCosine, recall, waitFor } from '../../helpers/recall.js';
import { textContent } from '../../helpers/server.js';
import { sharedRuntime } from '../../helpers/front-doors.js';

// recall.associate end to end (spec §3.8, §4.5, §4.7, §10.1 P1-3; DESIGN §2 items 4–5): spreading
// activation from one record over the association graph, links navigable both ways, the inferred links
// of encode (batch sequence, session, similarity), and links learnt from recalling memories together.

const server = sharedRuntime();

const associate = async (space: string, id: string, body: Record<string, unknown> = {}) => {
  const response = await server.call('POST', `/v1/recall/associate/${id}`, { space, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
};
const inspect = async (space: string, id: string) => (await server.call('GET', `/v1/introspect/record/${id}?space=${space}`)).body;
const link = (target_id: string, association_type: string, weight: number) => ({ target_id, association_type, weight });

describe('a batch chain A→B→C (P1-3)', () => {
  const space = 'as-chain';
  let a: string, b: string, c: string;

  beforeAll(async () => {
    const response = await server.call('POST', '/v1/encode/batch', {
      space,
      infer_associations: true,
      records: ['Alpha lighthouse beacon shines', 'Bravo harbour crane lifts', 'Charlie meadow tulips bloom'].map((text) => ({
        content: textContent(text),
        store: 'episodic',
      })),
    });
    expect(response.status).toBe(200);
    expect(response.body.results).toHaveLength(3);
    expect(response.body.associations_inferred).toBeGreaterThan(0);
    [a, b, c] = response.body.results.map((result: { record_id: string }) => result.record_id);
  });

  it('associate(A, depth 2, min_weight 0.1, limit 10) reaches B then C, with activations and real paths', async () => {
    const body = await associate(space, a, { depth: 2, min_weight: 0.1, limit: 10 });
    expect(idsOf(body)).toEqual([b, c]);
    expect(body.total_candidates).toBe(2);
    const [toB, toC] = body.memories;
    // §4.5: a = parent · weight · 0.5, sequential links weigh 0.7.
    expect(toB.relevance_score).toBeCloseTo(0.35, 10);
    expect(toC.relevance_score).toBeCloseTo(0.1225, 10);
    expect(toB.activation_path).toEqual([a, b]);
    expect(toC.activation_path).toEqual([a, b, c]);
    for (const memory of body.memories) expect(memory.rendered_content).toEqual(memory.record.content);
  });

  it('depth 1 stops after one hop; depth 0 means the default depth 2', async () => {
    expect(idsOf(await associate(space, a, { depth: 1 }))).toEqual([b]);
    expect(idsOf(await associate(space, a, { depth: 0 }))).toEqual([b, c]);
  });

  it('min_weight above the links’ weight follows none; limit cuts the ranked list', async () => {
    expect(idsOf(await associate(space, a, { min_weight: 0.8 }))).toEqual([]);
    const one = await associate(space, a, { limit: 1 });
    expect(idsOf(one)).toEqual([b]);
    expect(one.total_candidates).toBe(1);
  });

  it('works from the far end too, and neither reconsolidates nor renders noise', async () => {
    const body = await associate(space, c);
    expect(idsOf(body)).toEqual([b, a]);
    expect(body.memories[1].activation_path).toEqual([c, b, a]);
    for (const id of [a, b, c]) expect((await inspect(space, id)).access_count).toBe(0);
  });
});

describe('links are navigable both ways (DESIGN §2 item 5)', () => {
  it('a one-way manual link A→B is followed from B back to A', async () => {
    const space = 'as-both-ways';
    const b = await encode(server, space, textContent('The violin case was left on the bus'), { store: 'episodic' });
    const a = await encode(server, space, textContent('Quarterly budget review'), { store: 'semantic', associations: [link(b, 'causal', 0.9)] });
    expect((await inspect(space, b)).associations).toEqual([]);
    const fromB = await associate(space, b);
    expect(idsOf(fromB)).toEqual([a]);
    expect(fromB.memories[0].activation_path).toEqual([b, a]);
    expect(fromB.memories[0].relevance_score).toBeCloseTo(0.45, 10);
  });
});

describe('association_types', () => {
  const space = 'as-types';
  let hub: string, x: string, y: string, z: string;

  beforeAll(async () => {
    z = await encode(server, space, textContent('Zinc roof repairs'), { store: 'episodic' });
    y = await encode(server, space, textContent('Yellow kite festival'), { store: 'episodic', associations: [link(z, 'causal', 0.9)] });
    x = await encode(server, space, textContent('Xenon lamp datasheet'), { store: 'semantic' });
    hub = await encode(server, space, textContent('Harvest supper plans'), {
      store: 'episodic',
      associations: [link(x, 'semantic', 0.9), link(y, 'temporal', 0.8)],
    });
  });

  it('filters the record’s own links by type', async () => {
    expect(idsOf(await associate(space, hub, { association_types: ['semantic'], depth: 1 }))).toEqual([x]);
    expect(idsOf(await associate(space, hub, { association_types: ['temporal'], depth: 1 }))).toEqual([y]);
    expect(idsOf(await associate(space, hub, { association_types: ['causal'], depth: 1 }))).toEqual([]);
    expect(idsOf(await associate(space, hub, { depth: 1 }))).toEqual([x, y]);
  });

  it('keeps nodes beyond an allowed first hop, whatever their link type', async () => {
    const body = await associate(space, hub, { association_types: ['temporal'], depth: 2 });
    expect(idsOf(body)).toEqual([y, z]);
    expect(body.memories[1].activation_path).toEqual([hub, y, z]);
  });
});

describe('links inferred on encode (coordinator.ts, similar-linker.ts)', () => {
  it('links a memory to the previous one of the same session (temporal)', async () => {
    const space = 'as-session';
    const first = await encode(server, space, textContent('Checked in at the hotel desk'), { store: 'episodic', context: { session_id: 'trip' } });
    await encode(server, space, textContent('Unrelated note'), { store: 'episodic', context: { session_id: 'other' } });
    const second = await encode(server, space, textContent('Ordered soup at the rooftop cafe'), { store: 'episodic', context: { session_id: 'trip' } });
    expect((await inspect(space, second)).associations).toEqual([expect.objectContaining({ target_id: first, association_type: 'temporal', weight: SESSION_LINK_WEIGHT })]);
    expect(idsOf(await associate(space, second, { depth: 1 }))).toEqual([first]);
  });

  it('links a new memory to a very similar one of its store (semantic, weight = similarity ≥ 0.8)', async () => {
    const space = 'as-similar';
    const before = 'The billing service was deployed to production on Monday';
    const after = 'The billing service was deployed to production on Tuesday';
    const unrelated = 'Fresh basil grows on the kitchen windowsill';
    const similarity = localCosine(before, after);
    expect(similarity).toBeGreaterThan(0.8);
    expect(localCosine(unrelated, after)).toBeLessThan(0.8);
    const first = await encode(server, space, textContent(before), { store: 'episodic' });
    await encode(server, space, textContent(unrelated), { store: 'episodic' });
    const second = await encode(server, space, textContent(after), { store: 'episodic' });
    // Similar memories are linked just after the encode is acknowledged (similar-linker.ts).
    const [edge, ...others] = await waitFor(
      async () => {
        const { associations } = await inspect(space, second);
        return associations.length > 0 ? associations : undefined;
      },
      5000,
      'the inferred link',
    );
    expect(others).toEqual([]);
    expect(edge).toMatchObject({ target_id: first, association_type: 'semantic' });
    expect(edge.weight).toBeCloseTo(similarity, 4);
    expect(idsOf(await associate(space, first, { depth: 1 }))).toEqual([second]);
  });
});

describe('links learnt from recall (Hebbian, DESIGN §2 item 5)', () => {
  it('memories recalled together get linked both ways; an existing link is strengthened', async () => {
    const space = 'as-hebbian';
    const [p, q] = await encodeBatch(
      server,
      space,
      [
        { content: textContent('amber necklace from the market'), store: 'episodic' },
        { content: textContent('amber streetlights in the fog'), store: 'episodic' },
      ],
      true,
    );
    const r = await encode(server, space, textContent('an amber warning light blinked'), { store: 'semantic' });
    // Reconsolidating recall (the default) of all three, without activation.
    const body = await recall(server, space, { cue: { text: 'amber' }, activation_depth: 0 });
    expect(idsOf(body).sort()).toEqual([p, q, r].sort());
    const weightOf = (record: { associations: { target_id: string; weight: number }[] }, target: string) => record.associations.find((edge) => edge.target_id === target)?.weight;
    // The links are written in the background, per store (r is semantic, p and q episodic): wait for both.
    const [learnt, fromP] = await waitFor(
      async () => {
        const records = [await inspect(space, r), await inspect(space, p)];
        return weightOf(records[0], p) !== undefined && weightOf(records[0], q) !== undefined && weightOf(records[1], r) !== undefined ? records : undefined;
      },
      5000,
      'the learnt links',
    );
    expect(weightOf(learnt, p)).toBeCloseTo(0.1, 10);
    expect(weightOf(learnt, q)).toBeCloseTo(0.1, 10);
    expect(weightOf(fromP, r)).toBeCloseTo(0.1, 10);
    // The batch's sequential link p→q (0.7) moves 10 % of the way to 1 (same write as p→r).
    expect(weightOf(fromP, q)).toBeCloseTo(0.73, 10);
    expect(idsOf(await associate(space, r, { depth: 1, min_weight: 0.05 })).sort()).toEqual([p, q].sort());
  });
});

describe('forgetting cuts the paths through a record', () => {
  it('after B is forgotten, A reaches neither B nor C', async () => {
    const space = 'as-forget';
    const [a, b, c] = await encodeBatch(
      server,
      space,
      ['Alpha lighthouse beacon shines', 'Bravo harbour crane lifts', 'Charlie meadow tulips bloom'].map((text) => ({
        content: textContent(text),
        store: 'episodic',
      })),
      true,
    );
    expect(idsOf(await associate(space, a))).toEqual([b, c]);
    await server.call('DELETE', '/v1/lifecycle/forget', { space, record_ids: [b], confirm: true });
    expect(idsOf(await associate(space, a))).toEqual([]);
    expect((await inspect(space, a)).associations).toEqual([]);
  });
});

describe('bad input', () => {
  let id: string;

  beforeAll(async () => {
    id = await encode(server, 'as-bad', textContent('a lonely record'), { store: 'episodic' });
  });

  it('depth > 8 → 400 VALIDATION_ERROR naming depth', async () => {
    const bad = await server.call('POST', `/v1/recall/associate/${id}`, { space: 'as-bad', depth: 9 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'depth' } });
    expect(bad.body.message).toBe('recall.associate depth 9 exceeds maximum of 8');
  });

  it('limit > 256 → 400 VALIDATION_ERROR naming limit', async () => {
    const bad = await server.call('POST', `/v1/recall/associate/${id}`, { space: 'as-bad', limit: 257 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'limit' } });
    expect(bad.body.message).toBe('recall.associate limit 257 exceeds maximum of 256');
  });

  it('depth 8 and limit 256 are accepted', async () => {
    expect((await associate('as-bad', id, { depth: 8, limit: 256 })).memories).toEqual([]);
  });

  it.each([
    ['a negative depth', { depth: -1 }, 'depth'],
    ['min_weight over 1', { min_weight: 2 }, 'min_weight'],
    ['an unknown association type', { association_types: ['friendship'] }, 'association_types.0'],
  ])('%s → 400 VALIDATION_ERROR naming the field', async (_name, body, field) => {
    const bad = await server.call('POST', `/v1/recall/associate/${id}`, { space: 'as-bad', ...body });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
  });

  it('an unknown id → 404 RECORD_NOT_FOUND, also for an id of another space', async () => {
    const unknown = await server.call('POST', '/v1/recall/associate/0190a4b1-0000-7000-8000-000000000000', { space: 'as-bad' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'RECORD_NOT_FOUND', details: { field: 'record_id' } });
    const elsewhere = await server.call('POST', `/v1/recall/associate/${id}`, { space: 'as-other' });
    expect(elsewhere.status).toBe(404);
  });

  it('a malformed id in the path → 400 VALIDATION_ERROR', async () => {
    const bad = await server.call('POST', '/v1/recall/associate/not-a-uuid', {});
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'record_id' } });
  });
});
