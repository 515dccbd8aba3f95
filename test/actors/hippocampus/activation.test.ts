import { describe, it, expect } from 'vitest';
import { defaultActivationOptions, spreadActivation, type Neighbour } from '../../../src/actors/hippocampus/activation.js';

type Edge = [from: string, to: string, weight: number];

/** A directed graph from an edge list; `reverse` lists each node's links in the opposite order. */
function graph(edges: Edge[], { both = false, reverse = false } = {}): (id: string) => Neighbour[] {
  const out = new Map<string, Neighbour[]>();
  const add = (from: string, to: string, weight: number) => {
    const list = out.get(from) ?? [];
    list.push({ id: to, weight });
    out.set(from, list);
  };
  for (const [from, to, weight] of edges) {
    add(from, to, weight);
    if (both) add(to, from, weight);
  }
  return (id) => {
    const list = out.get(id) ?? [];
    return reverse ? [...list].reverse() : list;
  };
}

const fromA = [{ id: 'A', activation: 1 }];

describe('spreadActivation', () => {
  it('uses the spec §4.5 defaults', () => {
    expect(defaultActivationOptions).toEqual({ depth: 2, decayFactor: 0.5, threshold: 0.05, minWeight: 0.05 });
  });

  it('halves activation per hop times the link weight, and reports the real path', () => {
    const result = spreadActivation(
      fromA,
      graph([
        ['A', 'B', 1],
        ['B', 'C', 0.8],
      ]),
      { depth: 3 },
    );
    expect(result.get('B')).toEqual({ activation: 0.5, path: ['A', 'B'] });
    expect(result.get('C')).toEqual({ activation: 0.5 * 0.8 * 0.5, path: ['A', 'B', 'C'] });
  });

  it('excludes the source and keeps nothing below the threshold, nor anything beyond it', () => {
    const result = spreadActivation(
      fromA,
      graph([
        ['A', 'B', 1],
        ['B', 'C', 1],
        ['C', 'D', 1],
        ['A', 'E', 0.09],
        ['A', 'F', 0.1],
      ]),
      {
        depth: 5,
        threshold: 0.05,
      },
    );
    expect(result.has('A')).toBe(false);
    expect(result.get('F')?.activation).toBe(0.05);
    expect(result.has('E')).toBe(false);
    expect([...result.keys()]).toEqual(['B', 'C', 'D', 'F']);
    const strict = spreadActivation(
      fromA,
      graph([
        ['A', 'B', 1],
        ['B', 'C', 1],
        ['C', 'D', 1],
      ]),
      { depth: 5, threshold: 0.2 },
    );
    expect([...strict.keys()]).toEqual(['B', 'C']);
  });

  it('does not follow links lighter than minWeight', () => {
    const edges: Edge[] = [['A', 'B', 0.3]];
    expect(spreadActivation(fromA, graph(edges), { minWeight: 0.3 }).has('B')).toBe(true);
    expect(spreadActivation(fromA, graph(edges), { minWeight: 0.31 }).has('B')).toBe(false);
  });

  it('keeps the best activation per node with the path that carried it', () => {
    const edges: Edge[] = [
      ['A', 'B', 0.2],
      ['B', 'D', 1],
      ['A', 'C', 1],
      ['C', 'D', 1],
      ['A', 'X', 0.2],
      ['X', 'Y', 0.5],
    ];
    const result = spreadActivation(fromA, graph(edges), { depth: 2, threshold: 0.01 });
    expect(result.get('D')).toEqual({ activation: 0.25, path: ['A', 'C', 'D'] });
  });

  it('a stronger deeper arrival does not cut off what a weaker shallower one still reaches, in any neighbour order', () => {
    // D is reached at hop 1 with 0.1 and at hop 2 with 0.25; only the hop-1 arrival has a hop left for E.
    const edges: Edge[] = [
      ['A', 'C', 1],
      ['A', 'D', 0.2],
      ['C', 'D', 1],
      ['D', 'E', 1],
    ];
    for (const reverse of [false, true]) {
      const result = spreadActivation(fromA, graph(edges, { reverse }), { depth: 2 });
      expect(result.get('D')).toEqual({ activation: 0.25, path: ['A', 'C', 'D'] });
      expect(result.get('E')).toEqual({ activation: 0.05, path: ['A', 'D', 'E'] });
    }
  });

  it('never revisits a node on its own path (cycle guard), links read both ways', () => {
    const neighbours = graph(
      [
        ['A', 'B', 1],
        ['B', 'C', 1],
        ['C', 'A', 1],
      ],
      { both: true },
    );
    const result = spreadActivation(fromA, neighbours, { depth: 6, threshold: 0.001 });
    expect([...result.keys()].sort()).toEqual(['B', 'C']);
    for (const { path } of result.values()) expect(new Set(path).size).toBe(path.length);
    expect(result.get('B')).toEqual({ activation: 0.5, path: ['A', 'B'] });
  });

  it('stops at the depth limit; depth 0 activates nothing', () => {
    const chain = graph([
      ['A', 'B', 1],
      ['B', 'C', 1],
      ['C', 'D', 1],
    ]);
    expect([...spreadActivation(fromA, chain, { depth: 1 }).keys()]).toEqual(['B']);
    expect([...spreadActivation(fromA, chain, { depth: 2 }).keys()]).toEqual(['B', 'C']);
    expect(spreadActivation(fromA, chain, { depth: 0 }).size).toBe(0);
  });

  it('spreads from several sources, each path rooted at its own source, sources excluded', () => {
    const edges: Edge[] = [
      ['S1', 'X', 1],
      ['S2', 'Y', 1],
      ['S1', 'Z', 0.4],
      ['S2', 'Z', 1],
      ['S1', 'S2', 1],
    ];
    const result = spreadActivation(
      [
        { id: 'S1', activation: 1 },
        { id: 'S2', activation: 0.6 },
      ],
      graph(edges),
    );
    expect(result.get('X')).toEqual({ activation: 0.5, path: ['S1', 'X'] });
    expect(result.get('Y')).toEqual({ activation: 0.3, path: ['S2', 'Y'] });
    // Z: 1·0.4·0.5 = 0.2 from S1, 0.6·1·0.5 = 0.3 from S2.
    expect(result.get('Z')).toEqual({ activation: 0.3, path: ['S2', 'Z'] });
    expect(result.has('S1')).toBe(false);
    expect(result.has('S2')).toBe(false);
    for (const { path } of result.values()) expect(path.slice(1)).not.toContain('S1');
  });

  it('takes the strongest of duplicate sources and ignores non-positive ones', () => {
    const neighbours = graph([
      ['A', 'B', 1],
      ['Q', 'R', 1],
    ]);
    const result = spreadActivation(
      [
        { id: 'A', activation: 0.2 },
        { id: 'A', activation: 0.8 },
        { id: 'Q', activation: 0 },
      ],
      neighbours,
    );
    expect(result.get('B')?.activation).toBe(0.4);
    expect(result.has('R')).toBe(false);
  });

  it('breaks ties the same way whatever the neighbour order, and orders the result', () => {
    const edges: Edge[] = [
      ['A', 'C', 1],
      ['A', 'B', 1],
      ['C', 'D', 1],
      ['B', 'D', 1],
    ];
    for (const reverse of [false, true]) {
      const result = spreadActivation(fromA, graph(edges, { reverse }));
      expect(result.get('D')).toEqual({ activation: 0.25, path: ['A', 'B', 'D'] });
      expect([...result.keys()]).toEqual(['B', 'C', 'D']);
    }
  });

  it('reads weights above 1 as 1', () => {
    expect(spreadActivation(fromA, graph([['A', 'B', 4]])).get('B')?.activation).toBe(0.5);
  });
});
