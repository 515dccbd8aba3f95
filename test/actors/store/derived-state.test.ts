import { describe, expect, it } from 'vitest';
import { emptyAggregates, type SpaceAggregates } from '../../../src/actors/store/aggregates.js';
import { derivedStateFromJSON, derivedStateToJSON, type Registry } from '../../../src/actors/store/derived-state.js';
import type { RegistryEntry } from '../../../src/actors/store/protocol.js';

const entry = (id: string, extra: Partial<RegistryEntry> = {}): RegistryEntry => ({
  id,
  associations: [],
  created_at: '2026-01-01T00:00:00.000Z',
  ...extra,
});

function state(): { aggregates: Map<string, SpaceAggregates>; registry: Registry } {
  const aggregates = new Map([
    ['default', { ...emptyAggregates(), records: 2, fidelity_sum: 1.75, association_count: 1 }],
    ['empty', emptyAggregates()],
  ]);
  const registry: Registry = new Map([
    [
      'default',
      new Map([
        ['a', entry('a', { associations: [{ target_id: 'b', association_type: 'causal', weight: 0.9 }], session: 's1' })],
        ['b', entry('b')],
      ]),
    ],
  ]);
  return { aggregates, registry };
}

describe('derived state snapshots', () => {
  it('round-trip through JSON text: aggregates and registry come back equal', () => {
    const { aggregates, registry } = state();
    const text = JSON.stringify(derivedStateToJSON(aggregates, registry));
    expect(derivedStateFromJSON(JSON.parse(text), true)).toEqual({ aggregates, registry });
  });

  it('the raw journal saves counts without a registry and reads them back', () => {
    const aggregates = new Map([['default', { ...emptyAggregates(), records: 3, raw_pending_dream: 3 }]]);
    expect(derivedStateFromJSON(JSON.parse(JSON.stringify(derivedStateToJSON(aggregates, new Map()))), false)).toEqual({ aggregates, registry: new Map() });
  });

  it('refuses what it did not write, so the store counts from its records instead', () => {
    const { aggregates, registry } = state();
    const good = derivedStateToJSON(aggregates, registry);
    expect(derivedStateFromJSON(undefined, true)).toBeUndefined(); // a snapshot from before state was saved
    expect(derivedStateFromJSON({ aggregates: good.aggregates }, true)).toBeUndefined();
    expect(derivedStateFromJSON({ ...good, aggregates: { default: { records: 2 } } }, true)).toBeUndefined();
    expect(derivedStateFromJSON({ ...good, registry: { default: [{ id: 'a' }] } }, true)).toBeUndefined();
    // Counts and registry disagree: one record counted but not registered.
    expect(derivedStateFromJSON({ ...good, registry: { default: [good.registry.default[0]] } }, true)).toBeUndefined();
    // A curated store's state read as the raw journal's (or the other way round).
    expect(derivedStateFromJSON(good, false)).toBeUndefined();
  });
});
