import { describe, it, expect } from 'vitest';
import { coActivationUpdates, defaultCoActivationOptions, defaultWeakeningOptions, weakenedWeight } from '../../../src/actors/hippocampus/associations.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 3, 28);

const edges = (table: Record<string, number>) => (a: string, b: string) => (`${a}>${b}` in table ? { weight: table[`${a}>${b}`] } : undefined);

describe('coActivationUpdates', () => {
  it('uses η 0.1, new links at 0.1, at most 10 pairs by default', () => {
    expect(defaultCoActivationOptions).toEqual({ learningRate: 0.1, newEdgeWeight: 0.1, maxPairs: 10 });
  });

  it('strengthens an existing link by w + η(1 − w), each direction from its own weight', () => {
    const updates = coActivationUpdates(['a', 'b'], edges({ 'a>b': 0.5, 'b>a': 0.9 }));
    expect(updates).toEqual([
      { source_id: 'a', target_id: 'b', weight: expect.closeTo(0.55, 12), created: false },
      { source_id: 'b', target_id: 'a', weight: expect.closeTo(0.91, 12), created: false },
    ]);
  });

  it('creates a weak link both ways when none exists', () => {
    const updates = coActivationUpdates(['a', 'b'], edges({ 'a>b': 0.5 }));
    expect(updates[1]).toEqual({ source_id: 'b', target_id: 'a', weight: 0.1, created: true });
  });

  it('never exceeds 1, and repeated co-activation converges towards it', () => {
    let w = 0.1;
    for (let i = 0; i < 200; i++) {
      w = coActivationUpdates(['a', 'b'], () => ({ weight: w }))[0].weight;
      expect(w).toBeLessThanOrEqual(1);
    }
    expect(w).toBeGreaterThan(0.999);
    expect(coActivationUpdates(['a', 'b'], () => ({ weight: 1 }))[0].weight).toBe(1);
  });

  it('pairs the top results in rank order, bounded by maxPairs (10 = the top five)', () => {
    const ids = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    const updates = coActivationUpdates(ids, () => undefined);
    expect(updates).toHaveLength(20);
    const touched = new Set(updates.flatMap((u) => [u.source_id, u.target_id]));
    expect([...touched].sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    const three = coActivationUpdates(ids, () => undefined, { maxPairs: 3 });
    expect(three.map((u) => `${u.source_id}>${u.target_id}`)).toEqual(['r0>r1', 'r1>r0', 'r0>r2', 'r2>r0', 'r1>r2', 'r2>r1']);
  });

  it('ignores duplicates and needs at least two distinct memories', () => {
    expect(coActivationUpdates(['a'], () => undefined)).toEqual([]);
    expect(coActivationUpdates(['a', 'a'], () => undefined)).toEqual([]);
    expect(coActivationUpdates(['a', 'a', 'b'], () => undefined).map((u) => u.source_id)).toEqual(['a', 'b']);
    expect(coActivationUpdates(['a', 'b'], () => undefined, { maxPairs: 0 })).toEqual([]);
  });
});

describe('weakenedWeight', () => {
  it('uses a 90-day half-life and a 0.05 floor by default', () => {
    expect(defaultWeakeningOptions).toEqual({ halfLifeDays: 90, floor: 0.05 });
  });

  it('halves the excess over the floor every half-life', () => {
    expect(weakenedWeight(0.85, NOW, NOW + 90 * DAY)).toBeCloseTo(0.05 + 0.4, 12);
    expect(weakenedWeight(0.85, NOW, NOW + 180 * DAY)).toBeCloseTo(0.05 + 0.2, 12);
  });

  it('is slow: a month unused costs a strong link little', () => {
    expect(weakenedWeight(0.9, NOW, NOW + 30 * DAY)).toBeGreaterThan(0.7);
  });

  it('never goes below the floor, and leaves a link already under it alone', () => {
    expect(weakenedWeight(1, NOW, NOW + 100 * 365 * DAY)).toBeCloseTo(0.05, 12);
    expect(weakenedWeight(1, NOW, NOW + 100 * 365 * DAY)).toBeGreaterThanOrEqual(0.05);
    expect(weakenedWeight(0.02, NOW, NOW + 365 * DAY)).toBe(0.02);
  });

  it('is monotone in time and unchanged with no time passed or a future timestamp', () => {
    expect(weakenedWeight(0.7, NOW, NOW)).toBe(0.7);
    expect(weakenedWeight(0.7, NOW + DAY, NOW)).toBe(0.7);
    expect(weakenedWeight(0.7, Number.NaN, NOW)).toBe(0.7);
    let previous = 0.7;
    for (const days of [1, 10, 100, 1000]) {
      const w = weakenedWeight(0.7, NOW, NOW + days * DAY);
      expect(w).toBeLessThan(previous);
      previous = w;
    }
  });

  it('is memoryless: weakening in many steps equals one step over the whole time', () => {
    const once = weakenedWeight(0.8, NOW, NOW + 120 * DAY);
    let stepped = 0.8;
    for (let day = 0; day < 120; day++) stepped = weakenedWeight(stepped, NOW + day * DAY, NOW + (day + 1) * DAY);
    expect(stepped).toBeCloseTo(once, 12);
  });

  it('honours its options', () => {
    expect(weakenedWeight(1, NOW, NOW + 10 * DAY, { halfLifeDays: 10, floor: 0 })).toBeCloseTo(0.5, 12);
    expect(weakenedWeight(1, NOW, NOW + 10 * DAY, { floor: 0.5, halfLifeDays: 10 })).toBeCloseTo(0.75, 12);
  });
});
