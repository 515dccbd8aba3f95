import { describe, expect, it } from 'vitest';
import { withSessionNeighbours } from '../../../src/actors/hippocampus/recall.js';

// The pure scoring steps of recall.ts, as tables.

describe('withSessionNeighbours', () => {
  // A session a – b – c – d (each links to the one before it; neighbours are listed both ways).
  const chain: Record<string, string[]> = { a: ['b'], b: ['a', 'c'], c: ['b', 'd'], d: ['c'] };
  const neighboursOf = (id: string) => chain[id] ?? [];

  const cases: [name: string, text: Record<string, number>, weight: number, expected: Record<string, number>][] = [
    ['weight 0 leaves the scores as they are', { b: 2 }, 0, { b: 2 }],
    ['a hit lends weight × its score to each neighbour', { b: 2 }, 0.5, { b: 2, a: 1, c: 1 }],
    ['a memory between two hits gets both shares', { a: 2, c: 4 }, 0.5, { a: 2, c: 4, b: 3, d: 2 }],
    ['a hit keeps its own score plus its neighbours\' shares', { b: 2, c: 2 }, 0.5, { b: 3, c: 3, a: 1, d: 1 }],
    ['zero scores lend nothing', { b: 0 }, 0.5, { b: 0 }],
    ['a memory without neighbours is unchanged', { z: 1 }, 0.5, { z: 1 }],
  ];
  it.each(cases)('%s', (_, text, weight, expected) => {
    const spread = withSessionNeighbours(new Map(Object.entries(text)), neighboursOf, weight);
    expect(Object.fromEntries(spread)).toEqual(expected);
  });

  it('counts a neighbour listed twice (a link in both directions) once', () => {
    expect(Object.fromEntries(withSessionNeighbours(new Map([['a', 2]]), () => ['b', 'b', 'a'], 0.5))).toEqual({ a: 2, b: 1 });
  });
});
