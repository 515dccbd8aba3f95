import { describe, expect, it } from 'vitest';
import { fnv1a, partitionOf, placeAll, placePartition, rankNodes, spaceToken } from '../../src/cluster/placement.js';

// Placement is part of the cluster's contract: a changed hash would move every space. The values
// below are pinned; a change to them is a change of format, not a refactoring.

describe('fnv1a', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('fnv1a(%j) is the published FNV-1a 32-bit value', (text, hash) => {
    expect(fnv1a(text)).toBe(hash);
  });
});

describe('partitionOf', () => {
  it.each([
    ['default', 16],
    ['default', 1],
    ['alice', 16],
    ['team.research', 16],
    ['bob', 8],
  ])('space %j among %i partitions', (space, partitions) => {
    const partition = partitionOf(space, partitions);
    expect(partition).toBe(fnv1a(space) % partitions);
    expect(partition).toBeGreaterThanOrEqual(0);
    expect(partition).toBeLessThan(partitions);
  });

  it('pins a few spaces to their partitions', () => {
    expect(['default', 'alice', 'bob', 'team.research'].map((space) => partitionOf(space, 16))).toEqual([14, 7, 4, 3]);
  });

  it('spreads 1600 spaces over 16 partitions within a factor of two of even', () => {
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 1600; i++) counts[partitionOf(`space-${i}`, 16)]++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(200);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionOf('a', 0)).toThrow('partitions must be an integer >= 1, got 0');
  });
});

describe('spaceToken', () => {
  it('is 32 hex characters, the same for the same name, different for different ones', () => {
    expect(spaceToken('team.research')).toMatch(/^[0-9a-f]{32}$/);
    expect(spaceToken('default')).toBe(spaceToken('default'));
    expect(spaceToken('default')).not.toBe(spaceToken('Default'));
    expect(spaceToken('default')).toBe('37a8eec1ce19687d132fe29051dca629');
  });
});

describe('rankNodes (rendezvous hashing)', () => {
  const nodes = ['a', 'b', 'c'];

  it('ranks every node once, whatever order the list comes in or repeats', () => {
    for (let p = 0; p < 16; p++) {
      const ranked = rankNodes(p, nodes);
      expect([...ranked].sort()).toEqual(nodes);
      expect(rankNodes(p, ['c', 'a', 'b', 'a'])).toEqual(ranked);
    }
  });

  it('pins the owners of 8 partitions among three nodes', () => {
    expect(
      placeAll(8, nodes)
        .map(({ owner }) => owner)
        .join(''),
    ).toBe('acbacbaa');
  });

  it('a node that leaves moves only its own partitions, each to its standby', () => {
    const before = placeAll(64, ['a', 'b', 'c', 'd']);
    const after = placeAll(64, ['a', 'b', 'c']);
    for (const [p, placed] of before.entries()) {
      expect(after[p].owner).toBe(placed.owner === 'd' ? placed.standby : placed.owner);
    }
  });

  it('a node that joins takes about a quarter of the partitions, and nothing else moves', () => {
    const before = placeAll(64, ['a', 'b', 'c']);
    const after = placeAll(64, ['a', 'b', 'c', 'd']);
    const moved = after.filter((placed, p) => placed.owner !== before[p].owner);
    expect(moved.every(({ owner }) => owner === 'd')).toBe(true);
    expect(moved.length).toBeGreaterThan(8);
    expect(moved.length).toBeLessThan(28);
  });

  it('every node owns some of 16 partitions among three', () => {
    const owners = new Set(placeAll(16, nodes).map(({ owner }) => owner));
    expect([...owners].sort()).toEqual(nodes);
  });
});

describe('placePartition', () => {
  it.each([
    ['no node', [], { owner: undefined, standby: undefined }],
    ['one node: no standby', ['a'], { owner: 'a', standby: undefined }],
  ] as const)('%s', (_case, nodes, expected) => {
    expect(placePartition(3, nodes)).toEqual({ partition: 3, ...expected });
  });

  it('the standby is the second choice, never the owner', () => {
    for (let p = 0; p < 16; p++) {
      const { owner, standby } = placePartition(p, ['a', 'b', 'c']);
      expect([owner, standby]).toEqual(rankNodes(p, ['a', 'b', 'c']).slice(0, 2));
      expect(standby).not.toBe(owner);
    }
  });
});
