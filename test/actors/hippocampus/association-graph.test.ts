import { describe, it, expect } from 'vitest';
import { AssociationGraph } from '../../../src/actors/hippocampus/association-graph.js';
import type { RegistryEntry } from '../../../src/actors/store/protocol.js';
import type { StoreType } from '../../../src/cmp/types.js';

const S = 'default';

/** A registry entry for `id` with one semantic edge (weight 0.5) to each target. */
function entry(id: string, ...targets: string[]): RegistryEntry {
  return { id, created_at: '2026-01-01T00:00:00.000Z', associations: targets.map((target_id) => ({ target_id, association_type: 'semantic', weight: 0.5 })) };
}

/** sourcesOf as a plain object, with each store's ids sorted, for order-free comparison. */
function sources(graph: AssociationGraph, targets: string[], space = S): Partial<Record<StoreType, string[]>> {
  return Object.fromEntries([...graph.sourcesOf(space, targets)].map(([store, ids]) => [store, [...ids].sort()]));
}

describe('upsert', () => {
  it('records the store and the outgoing edges of a record', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('a', 'b', 'c'));

    expect(graph.storeOf(S, 'a')).toBe('episodic');
    expect(graph.outgoing(S, 'a').map((edge) => edge.target_id)).toEqual(['b', 'c']);
    expect(sources(graph, ['b'])).toEqual({ episodic: ['a'] });
  });

  it('replacing a record drops the inbound entries of edges it no longer has', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('a', 'b', 'c'));
    graph.upsert(S, 'episodic', entry('a', 'c', 'd'));

    expect(sources(graph, ['b'])).toEqual({});
    expect(sources(graph, ['c'])).toEqual({ episodic: ['a'] });
    expect(sources(graph, ['d'])).toEqual({ episodic: ['a'] });
  });

  it('moving a record to another store moves it in sourcesOf', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'working', entry('a', 't'));
    graph.upsert(S, 'semantic', entry('a', 't'));

    expect(sources(graph, ['t'])).toEqual({ semantic: ['a'] });
    expect(graph.idsIn(S, 'working')).toEqual([]);
  });

  it('two edge types to one target leave one inbound entry that both must go to clear', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', {
      id: 'a',
      created_at: '2026-01-01T00:00:00.000Z',
      associations: [
        { target_id: 't', association_type: 'semantic', weight: 0.5 },
        { target_id: 't', association_type: 'temporal', weight: 0.5 },
      ],
    });
    expect(sources(graph, ['t'])).toEqual({ episodic: ['a'] });

    graph.upsert(S, 'episodic', entry('a'));
    expect(sources(graph, ['t'])).toEqual({});
  });
});

describe('remove', () => {
  it('forgets the record and its outgoing edges', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('a', 'b'));
    graph.remove(S, 'a');

    expect(graph.storeOf(S, 'a')).toBeUndefined();
    expect(graph.outgoing(S, 'a')).toEqual([]);
    expect(sources(graph, ['b'])).toEqual({});
    expect(graph.totalAssociations(S)).toBe(0);
  });

  it('keeps edges that point at the removed record, so its sources can still be found', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'semantic', entry('src', 'gone'));
    graph.upsert(S, 'episodic', entry('gone'));
    graph.remove(S, 'gone');

    expect(sources(graph, ['gone'])).toEqual({ semantic: ['src'] });
  });

  it('of an unknown space or id does nothing', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('a', 'b'));
    graph.remove('elsewhere', 'a');
    graph.remove(S, 'nope');

    expect(graph.storeOf(S, 'a')).toBe('episodic');
  });
});

describe('sourcesOf', () => {
  it('groups the sources by store, each source once', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('e1', 't1', 't2'));
    graph.upsert(S, 'episodic', entry('e2', 't2'));
    graph.upsert(S, 'semantic', entry('s1', 't1'));
    graph.upsert(S, 'episodic', entry('unrelated', 'x'));

    expect(sources(graph, ['t1', 't2'])).toEqual({ episodic: ['e1', 'e2'], semantic: ['s1'] });
  });

  it('leaves out the targets themselves', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('t1', 't2'));
    graph.upsert(S, 'episodic', entry('t2', 't1'));
    graph.upsert(S, 'semantic', entry('outside', 't1'));

    expect(sources(graph, ['t1', 't2'])).toEqual({ semantic: ['outside'] });
  });

  it('looks only in the given space', () => {
    const graph = new AssociationGraph();
    graph.upsert('a', 'episodic', entry('src', 't'));

    expect(sources(graph, ['t'], 'b')).toEqual({});
    expect(sources(graph, ['t'], 'a')).toEqual({ episodic: ['src'] });
  });
});

describe('load', () => {
  it("replaces only that store's nodes, in every space", () => {
    const graph = new AssociationGraph();
    graph.upsert('a', 'episodic', entry('old-e', 't'));
    graph.upsert('b', 'episodic', entry('old-b', 't'));
    graph.upsert('a', 'semantic', entry('s', 't'));

    graph.load('episodic', { a: [entry('new-e', 't')] });

    expect(graph.storeOf('a', 'old-e')).toBeUndefined();
    expect(graph.storeOf('b', 'old-b')).toBeUndefined();
    expect(graph.storeOf('a', 'new-e')).toBe('episodic');
    expect(graph.storeOf('a', 's')).toBe('semantic');
    expect(sources(graph, ['t'], 'a')).toEqual({ episodic: ['new-e'], semantic: ['s'] });
    expect(sources(graph, ['t'], 'b')).toEqual({});
  });

  it('idsIn lists what one store holds in a space', () => {
    const graph = new AssociationGraph();
    graph.load('procedural', { a: [entry('p1'), entry('p2')], b: [entry('p3')] });
    graph.load('emotional', { a: [entry('m1')] });

    expect(graph.idsIn('a', 'procedural').sort()).toEqual(['p1', 'p2']);
    expect(graph.idsIn('a', 'emotional')).toEqual(['m1']);
    expect(graph.idsIn('nowhere', 'emotional')).toEqual([]);
  });
});

describe('totalAssociations', () => {
  it('counts the outgoing edges of every record of a space', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', entry('a', 'b', 'c'));
    graph.upsert(S, 'semantic', entry('b', 'a'));
    graph.upsert('other', 'semantic', entry('z', 'y'));

    expect(graph.totalAssociations(S)).toBe(3);
    graph.upsert(S, 'episodic', entry('a', 'b'));
    expect(graph.totalAssociations(S)).toBe(2);
    expect(graph.totalAssociations('nowhere')).toBe(0);
  });
});

describe('neighbours and sessions', () => {
  it('navigates links both ways, the stronger direction counting', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', { ...entry('a', 'b'), associations: [{ target_id: 'b', association_type: 'causal', weight: 0.9 }] });
    graph.upsert(S, 'episodic', { ...entry('b'), associations: [{ target_id: 'a', association_type: 'semantic', weight: 0.2 }] });
    graph.upsert(S, 'semantic', entry('c', 'a'));
    expect(graph.neighbours(S, 'a').sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: 'b', weight: 0.9, type: 'causal' },
      { id: 'c', weight: 0.5, type: 'semantic' },
    ]);
    expect(graph.edge(S, 'a', 'b')).toEqual({ weight: 0.9, type: 'causal' });
    expect(graph.edge(S, 'b', 'c')).toBeUndefined();
  });

  it('remembers the newest record of each session, forgetting it when it is removed', () => {
    const graph = new AssociationGraph();
    graph.upsert(S, 'episodic', { ...entry('old'), session: 's1', created_at: '2026-01-01T00:00:00.000Z' });
    graph.upsert(S, 'episodic', { ...entry('new'), session: 's1', created_at: '2026-01-02T00:00:00.000Z' });
    graph.upsert(S, 'episodic', { ...entry('other'), session: 's2', created_at: '2026-01-03T00:00:00.000Z' });
    expect(graph.lastInSession(S, 's1')).toBe('new');
    graph.remove(S, 'new');
    expect(graph.lastInSession(S, 's1')).toBeUndefined();
    expect(graph.lastInSession('elsewhere', 's1')).toBeUndefined();
  });
});
