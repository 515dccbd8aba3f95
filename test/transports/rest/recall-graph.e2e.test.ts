import { beforeAll, describe, expect, it } from 'vitest';
import { encode, encodeBatch } from '../../helpers/recall.js';
import { textContent } from '../../helpers/server.js';
import { sharedRuntime } from '../../helpers/front-doors.js';

// recall.graph end to end (spec §3.10, §10.4 P4-4, P4-5, §10.6 graph): a breadth-first walk over the
// association graph from a centre (or from a sample of each store), with edge-type filter, node limit,
// node labels, and the meta-memory context edges on request.

const server = sharedRuntime();

async function graph(space: string, body: Record<string, unknown>): Promise<any> {
  const response = await server.call('POST', '/v1/recall/graph', { space, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

const nodeIds = (body: { nodes: { id: string }[] }) => body.nodes.map((node) => node.id);
const edgeList = (body: { edges: { source: string; target: string }[] }) => body.edges.map((edge) => [edge.source, edge.target]);
const link = (target_id: string, association_type: string, weight: number) => ({ target_id, association_type, weight });

describe('traversal of a batch chain A→B→C (P4-4)', () => {
  const space = 'gr-chain';
  let a: string, b: string, c: string;

  beforeAll(async () => {
    [a, b, c] = await encodeBatch(
      server,
      space,
      ['Alpha lighthouse beacon shines', 'Bravo harbour crane lifts', 'Charlie meadow tulips bloom'].map((text) => ({
        content: textContent(text),
        store: 'episodic',
      })),
      true,
    );
  });

  it('depth 2 from A: 3 nodes and the sequential edges between them', async () => {
    const body = await graph(space, { center_id: a, depth: 2 });
    expect(nodeIds(body)).toEqual([a, b, c]);
    expect(body.total_nodes).toBe(3);
    expect(body.edges.length).toBeGreaterThanOrEqual(2);
    expect(edgeList(body)).toEqual(
      expect.arrayContaining([
        [a, b],
        [b, c],
      ]),
    );
    for (const edge of body.edges) {
      expect(edge).toMatchObject({ edge_type: 'sequential', weight: 0.7 });
      expect(nodeIds(body)).toEqual(expect.arrayContaining([edge.source, edge.target]));
    }
    expect(body.meta_edges).toEqual([]);
  });

  it('depth 1 from A: 2 nodes, the edge A→B', async () => {
    const body = await graph(space, { center_id: a, depth: 1 });
    expect(nodeIds(body)).toEqual([a, b]);
    expect(edgeList(body)).toEqual([[a, b]]);
  });

  it('depth 0: the centre alone', async () => {
    const body = await graph(space, { center_id: a, depth: 0 });
    expect(nodeIds(body)).toEqual([a]);
    expect(body.edges).toEqual([]);
  });

  it('limit_nodes caps the walk', async () => {
    const body = await graph(space, { center_id: a, depth: 2, limit_nodes: 2 });
    expect(nodeIds(body)).toEqual([a, b]);
    // Only edges between the nodes returned: B→C goes with C.
    expect(edgeList(body).sort()).toEqual(
      [
        [a, b],
        [b, a],
      ].sort(),
    );
  });

  it('nodes carry store, label and fidelity, and no meta unless asked', async () => {
    const body = await graph(space, { center_id: a, depth: 0 });
    expect(body.nodes[0]).toEqual({ id: a, store: 'episodic', summary: 'Alpha lighthouse beacon shines', fidelity: expect.any(Number) });
    expect(body.nodes[0].fidelity).toBeGreaterThan(0.99);
    expect(body.nodes[0].fidelity).toBeLessThanOrEqual(1);
  });
});

describe('edge-type filter (P4-5)', () => {
  const space = 'gr-types';
  let hub: string, x: string, y: string;

  beforeAll(async () => {
    x = await encode(server, space, textContent('Xenon lamp datasheet'), { store: 'semantic' });
    y = await encode(server, space, textContent('Yellow kite festival'), { store: 'episodic' });
    hub = await encode(server, space, textContent('Harvest supper plans'), {
      store: 'episodic',
      associations: [link(x, 'semantic', 0.9), link(y, 'temporal', 0.8)],
    });
  });

  it('edge_types ["semantic"], depth 1 → exactly one edge and two nodes', async () => {
    const body = await graph(space, { center_id: hub, depth: 1, edge_types: ['semantic'] });
    expect(body.edges).toEqual([{ source: hub, target: x, edge_type: 'semantic', weight: 0.9 }]);
    expect(nodeIds(body)).toEqual([hub, x]);
  });

  it('compares edge types case-insensitively', async () => {
    const body = await graph(space, { center_id: hub, depth: 1, edge_types: ['TEMPORAL'] });
    expect(body.edges).toEqual([{ source: hub, target: y, edge_type: 'temporal', weight: 0.8 }]);
  });

  it('a type no edge has leaves the centre alone; no filter follows both', async () => {
    expect(nodeIds(await graph(space, { center_id: hub, depth: 1, edge_types: ['causal'] }))).toEqual([hub]);
    const all = await graph(space, { center_id: hub, depth: 1 });
    expect(nodeIds(all).sort()).toEqual([hub, x, y].sort());
    expect(all.edges).toHaveLength(2);
  });

  // Open question (see the report): recall.associate follows links both ways (DESIGN §2 item 5), but
  // recall.graph walks outgoing edges only, as the reference did: from X the graph shows X alone though
  // the hub links to it.
  it.todo('from a link target, the graph also reaches the records that link to it');
});

describe('without a centre, and with a centre that does not exist', () => {
  const space = 'gr-sample';

  beforeAll(async () => {
    await encode(server, space, textContent('first sample'), { store: 'episodic' });
    await encode(server, space, textContent('second sample'), { store: 'semantic' });
    await encode(server, space, textContent('third sample'), { store: 'procedural' });
    await encode(server, space, textContent('working memory is not sampled'), { store: 'working' });
  });

  it('seeds the walk with records of the persistent stores, up to limit_nodes', async () => {
    const body = await graph(space, {});
    expect(body.total_nodes).toBe(3);
    expect(body.nodes.map((node: { summary: string }) => node.summary).sort()).toEqual(['first sample', 'second sample', 'third sample']);
    expect((await graph(space, { limit_nodes: 2 })).total_nodes).toBe(2);
  });

  it('an unknown centre yields an empty graph, not an error', async () => {
    const body = await graph(space, { center_id: '0190a4b1-0000-7000-8000-000000000000' });
    expect(body).toEqual({ nodes: [], edges: [], total_nodes: 0, meta_edges: [] });
  });

  it('an empty space yields an empty graph', async () => {
    expect(await graph('gr-empty', {})).toEqual({ nodes: [], edges: [], total_nodes: 0, meta_edges: [] });
  });
});

describe('node labels and meta', () => {
  it('labels a node with its summary, else its text cut to 80 bytes (UTF-8 safe) + "..."', async () => {
    const space = 'gr-labels';
    const withSummary = await encode(server, space, textContent('a long body that is not the label', 'the label'), { store: 'semantic' });
    const long = 'é'.repeat(100); // 200 bytes
    const withLongText = await encode(server, space, textContent(long), { store: 'episodic' });
    const short = await encode(server, space, textContent('short text'), { store: 'episodic' });
    const label = async (id: string) => (await graph(space, { center_id: id, depth: 0 })).nodes[0].summary;
    expect(await label(withSummary)).toBe('the label');
    expect(await label(withLongText)).toBe(`${'é'.repeat(40)}...`);
    expect(await label(short)).toBe('short text');
  });

  it('include_meta adds each node’s meta and its context edges, with the node as source', async () => {
    const space = 'gr-meta';
    const target = await encode(server, space, textContent('the decision record'), { store: 'semantic' });
    const id = await encode(server, space, textContent('why we chose LevelDB'), {
      store: 'episodic',
      associations: [link(target, 'causal', 0.6)],
      meta: { intent: 'record the choice', context_edges: [{ target_id: target, relation: 'supports', rationale: 'benchmarks' }] },
    });
    const body = await graph(space, { center_id: id, depth: 1, include_meta: true });
    expect(nodeIds(body)).toEqual([id, target]);
    expect(body.nodes[0].meta).toMatchObject({ capture_status: 'provided', intent: 'record the choice' });
    expect(body.nodes[1].meta).toMatchObject({ capture_status: 'unavailable' });
    expect(body.meta_edges).toEqual([expect.objectContaining({ source_id: id, target_id: target, relation: 'supports', rationale: 'benchmarks' })]);
    const plain = await graph(space, { center_id: id, depth: 1 });
    expect(plain.nodes.every((node: object) => !('meta' in node))).toBe(true);
    expect(plain.meta_edges).toEqual([]);
  });
});

describe('after forget', () => {
  it('the forgotten node and its edges are gone', async () => {
    const space = 'gr-forget';
    const [a, b, c] = await encodeBatch(
      server,
      space,
      ['one', 'two', 'three'].map((text) => ({ content: textContent(`${text} chained`), store: 'episodic' })),
      true,
    );
    expect(nodeIds(await graph(space, { center_id: a }))).toEqual([a, b, c]);
    await server.call('DELETE', '/v1/lifecycle/forget', { space, record_ids: [b], confirm: true });
    const body = await graph(space, { center_id: a });
    expect(nodeIds(body)).toEqual([a]);
    expect(body.edges).toEqual([]);
  });
});

describe('bad input', () => {
  it.each([
    ['depth over 8', { depth: 9 }, 'depth'],
    ['a malformed center_id', { center_id: 'abc' }, 'center_id'],
    ['a negative limit_nodes', { limit_nodes: -1 }, 'limit_nodes'],
    ['edge_types not a list', { edge_types: 'semantic' }, 'edge_types'],
  ])('%s → 400 VALIDATION_ERROR naming the field', async (_name, body, field) => {
    const bad = await server.call('POST', '/v1/recall/graph', body);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
  });
});
