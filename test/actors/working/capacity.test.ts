import { describe, expect, it } from 'vitest';
import { leastRecentlyUsed } from '../../../src/actors/working/capacity.js';
import { at, memoryRecord } from '../../helpers/records.js';

// Working memory's eviction rule (spec §2.6), on its own: the store-level cases are in working-store.test.ts.

const accessed = (id: string, offsetMs: number) => memoryRecord({ id, store: 'working', last_accessed_at: at(offsetMs) });

describe('leastRecentlyUsed', () => {
  it.each([
    ['the oldest last access leaves', [accessed('a', 2000), accessed('b', -5000), accessed('c', 1000)], 'b'],
    ['on a tie, the one stored first leaves', [accessed('a', 0), accessed('b', 0)], 'a'],
    ['a single record is the victim', [accessed('only', 0)], 'only'],
  ])('%s', (_, records, victim) => {
    expect(leastRecentlyUsed(records).id).toBe(victim);
  });

  it('refuses an empty space, naming why (capacity is at least 1)', () => {
    expect(() => leastRecentlyUsed([])).toThrow('leastRecentlyUsed: no record to evict (capacity must be at least 1)');
  });
});
