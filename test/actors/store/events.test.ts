import { describe, it, expect } from 'vitest';
import { applyEvent, touchedIds, withAssociation, type MutationEvent } from '../../../src/actors/store/events.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import type { MemoryRecord, StoredRecord } from '../../../src/cmp/types.js';
import { association, at, envelope, memoryRecord, rawRecord, textContent } from '../../helpers/records.js';

const LATER = at(60_000);

/** The written records of an event that only writes curated records. */
const curated = (writes: StoredRecord[]) => writes as MemoryRecord[];

function state(...records: StoredRecord[]): Map<string, StoredRecord | undefined> {
  return new Map(records.map((record) => [record.id, record]));
}

/** Freezes every object and array reachable from `value`, so a mutation throws in strict mode. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

describe('touchedIds', () => {
  it('names each source of associations.added once', () => {
    const event: MutationEvent = {
      type: 'associations.added',
      links: [
        { source_id: 'a', association: association('x') },
        { source_id: 'a', association: association('y') },
        { source_id: 'b', association: association('x') },
      ],
    };
    expect(touchedIds(event)).toEqual(['a', 'b']);
  });
});

describe('records.put', () => {
  it('writes the given records as they are', () => {
    const a = memoryRecord({ id: 'a' });
    const b = rawRecord({ id: 'b' });
    const outcome = applyEvent(envelope({ type: 'records.put', records: [a, b] }), new Map());
    expect(outcome).toEqual({ writes: [a, b], removed: [], missing: [] });
  });
});

describe('record.updated', () => {
  const original = memoryRecord({
    id: 'a',
    version: 3,
    metadata: { tag: 'old' },
    content: textContent('before'),
    associations: [association('x')],
  });

  it('replaces only the given fields, bumps version and sets updated_at to the envelope time', () => {
    const content = textContent('after');
    const { writes } = applyEvent(envelope({ type: 'record.updated', id: 'a', fields: { content } }, { at: LATER }), state(original));
    expect(writes).toEqual([{ ...original, content, version: 4, updated_at: LATER }]);
  });

  it('treats a field given as undefined as not given', () => {
    const { writes } = applyEvent(envelope({ type: 'record.updated', id: 'a', fields: { metadata: undefined } }, { at: LATER }), state(original));
    expect(writes[0].metadata).toEqual({ tag: 'old' });
  });

  it('reports an unknown id in missing and writes nothing', () => {
    const outcome = applyEvent(envelope({ type: 'record.updated', id: 'nope', fields: { metadata: {} } }), new Map([['nope', undefined]]));
    expect(outcome).toEqual({ writes: [], removed: [], missing: ['nope'] });
  });

  it('refuses a raw journal record with VALIDATION_ERROR naming record_id', () => {
    let caught: unknown;
    try {
      applyEvent(envelope({ type: 'record.updated', id: 'r', fields: { metadata: {} } }), state(rawRecord({ id: 'r' })));
    } catch (error) {
      caught = error;
    }
    expect(isCmpError(caught) && caught.code).toBe('VALIDATION_ERROR');
    expect(isCmpError(caught) && caught.field).toBe('record_id');
  });
});

describe('records.deleted', () => {
  it('reports existing ids as removed, in their last state, and unknown ids as missing', () => {
    const a = memoryRecord({ id: 'a' });
    const outcome = applyEvent(
      envelope({ type: 'records.deleted', ids: ['a', 'gone'] }),
      new Map([
        ['a', a],
        ['gone', undefined],
      ]),
    );
    expect(outcome).toEqual({ writes: [], removed: [a], missing: ['gone'] });
  });

  it('reports an id named twice once', () => {
    const a = memoryRecord({ id: 'a' });
    const outcome = applyEvent(envelope({ type: 'records.deleted', ids: ['a', 'a', 'x', 'x'] }), state(a));
    expect(outcome.removed).toEqual([a]);
    expect(outcome.missing).toEqual(['x']);
  });
});

describe('records.ticked', () => {
  it('names only the pruned records, and removes those that exist', () => {
    const a = memoryRecord({ id: 'a' });
    const event: MutationEvent = { type: 'records.ticked', evaluated: 3, pruned: ['a', 'a', 'gone'], tick_duration_secs: 3600, prune_threshold: 0.01 };
    expect(touchedIds(event)).toEqual(['a', 'a', 'gone']);
    expect(applyEvent(envelope(event), state(a))).toEqual({ writes: [], removed: [a], missing: ['gone'] });
  });
});

describe('associations.stripped', () => {
  it('removes only the edges to the targets, bumping version and updated_at', () => {
    const keep = association('keep');
    const source = memoryRecord({ id: 's', version: 2, associations: [association('t1'), keep, association('t2')] });
    const { writes } = applyEvent(envelope({ type: 'associations.stripped', source_ids: ['s'], target_ids: ['t1', 't2'] }, { at: LATER }), state(source));
    expect(writes).toEqual([{ ...source, associations: [keep], version: 3, updated_at: LATER }]);
  });

  it('leaves a source with no edge to the targets unwritten', () => {
    const untouched = memoryRecord({ id: 'u', associations: [association('other')] });
    const touched = memoryRecord({ id: 's', associations: [association('t')] });
    const { writes } = applyEvent(envelope({ type: 'associations.stripped', source_ids: ['u', 's'], target_ids: ['t'] }), state(untouched, touched));
    expect(writes.map((record) => record.id)).toEqual(['s']);
  });

  it('skips raw journal records and unknown sources without reporting them', () => {
    const outcome = applyEvent(
      envelope({ type: 'associations.stripped', source_ids: ['r', 'gone'], target_ids: ['t'] }),
      new Map<string, StoredRecord | undefined>([
        ['r', rawRecord({ id: 'r' })],
        ['gone', undefined],
      ]),
    );
    expect(outcome).toEqual({ writes: [], removed: [], missing: [] });
  });
});

describe('associations.added', () => {
  it('adds a new (target, type) pair, bumping version and updated_at once per record', () => {
    const source = memoryRecord({ id: 's', version: 1 });
    const x = association('x');
    const y = association('y', { association_type: 'causal' });
    const { writes } = applyEvent(
      envelope(
        {
          type: 'associations.added',
          links: [
            { source_id: 's', association: x },
            { source_id: 's', association: y },
          ],
        },
        { at: LATER },
      ),
      state(source),
    );
    expect(writes).toEqual([{ ...source, associations: [x, y], version: 2, updated_at: LATER }]);
  });

  it('keeps one edge per (target, type), with the higher weight', () => {
    const source = memoryRecord({ id: 's', associations: [association('x', { weight: 0.4 })] });
    const { writes } = applyEvent(
      envelope({
        type: 'associations.added',
        links: [
          { source_id: 's', association: association('x', { weight: 0.9 }) },
          { source_id: 's', association: association('x', { weight: 0.6 }) },
        ],
      }),
      state(source),
    );
    expect(curated(writes)[0].associations).toEqual([association('x', { weight: 0.9 })]);
  });

  it('keeps edges of the same target but another type apart', () => {
    const source = memoryRecord({ id: 's', associations: [association('x', { association_type: 'semantic' })] });
    const { writes } = applyEvent(envelope({ type: 'associations.added', links: [{ source_id: 's', association: association('x', { association_type: 'temporal' }) }] }), state(source));
    expect(curated(writes)[0].associations.map((edge) => edge.association_type)).toEqual(['semantic', 'temporal']);
  });

  it('reports an unknown or raw source in missing', () => {
    const outcome = applyEvent(
      envelope({
        type: 'associations.added',
        links: [
          { source_id: 'gone', association: association('x') },
          { source_id: 'r', association: association('x') },
        ],
      }),
      new Map<string, StoredRecord | undefined>([
        ['gone', undefined],
        ['r', rawRecord({ id: 'r' })],
      ]),
    );
    expect(outcome).toEqual({ writes: [], removed: [], missing: ['gone', 'r'] });
  });
});

describe('withAssociation', () => {
  it('returns the record unchanged when the existing edge is at least as strong', () => {
    const record = memoryRecord({ associations: [association('x', { weight: 0.8 })] });
    expect(withAssociation(record, association('x', { weight: 0.8 }))).toBe(record);
  });

  it('raises the weight without touching the edge timestamps', () => {
    const existing = association('x', { weight: 0.2, created_at: at(-1000) });
    const record = memoryRecord({ associations: [existing] });
    const result = withAssociation(record, association('x', { weight: 0.7, created_at: LATER }));
    expect(result.associations).toEqual([{ ...existing, weight: 0.7 }]);
  });
});

describe('applying is pure', () => {
  const events: [string, MutationEvent][] = [
    ['records.put', { type: 'records.put', records: [memoryRecord({ id: 'new' })] }],
    ['record.updated', { type: 'record.updated', id: 'a', fields: { metadata: { n: 1 }, content: textContent('x') } }],
    ['records.deleted', { type: 'records.deleted', ids: ['a', 'gone'] }],
    ['associations.stripped', { type: 'associations.stripped', source_ids: ['a'], target_ids: ['t'] }],
    ['associations.added', { type: 'associations.added', links: [{ source_id: 'a', association: association('t', { weight: 0.9 }) }] }],
  ];

  it.each(events)('%s: same input gives the same output and the inputs are not mutated', (_, event) => {
    const build = () => ({
      env: envelope(event, { at: LATER }),
      current: new Map<string, StoredRecord | undefined>([
        ['a', memoryRecord({ id: 'a', associations: [association('t'), association('u')] })],
        ['gone', undefined],
        ['new', undefined],
      ]),
    });
    const first = build();
    const pristine = structuredClone(first);
    deepFreeze(first.env);
    for (const record of first.current.values()) deepFreeze(record);

    const once = applyEvent(first.env, first.current);
    const twice = applyEvent(first.env, first.current);

    expect(twice).toEqual(once);
    expect(first).toEqual(pristine);
    expect(applyEvent(build().env, build().current)).toEqual(once);
  });
});
