import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import type { EventEnvelope, MutationEvent } from '../../../src/actors/store/events.js';
import { PARTITION_FORMAT, Partition } from '../../../src/actors/store/partition.js';
import { fromWireEnvelope, toWireEnvelope } from '../../../src/actors/store/protocol.js';
import { ValueCipher } from '../../../src/actors/store/value-cipher.js';
import { isCmpError, type CmpError } from '../../../src/cmp/errors.js';
import type { PartitionName, StoredRecord } from '../../../src/cmp/types.js';
import { at, envelope, memoryRecord, rawRecord, T0_MS, textContent } from '../../helpers/records.js';

let dir: string;
let opened: Partition[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cerememory-partition-'));
  opened = [];
});

afterEach(async () => {
  for (const partition of opened) await partition.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(name: PartitionName = 'episodic'): Promise<Partition> {
  const partition = await Partition.open(dir, name, { syncWrites: false });
  opened.push(partition);
  return partition;
}

async function closeAll(): Promise<void> {
  for (const partition of opened.splice(0)) await partition.close();
}

async function rejection(promise: Promise<unknown>): Promise<CmpError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  if (!isCmpError(error)) throw error;
  return error;
}

const put = (seq: number, records: StoredRecord[], extra: Partial<EventEnvelope> = {}) => envelope({ type: 'records.put', records }, { seq, ...extra });

const event = (seq: number, mutation: MutationEvent, extra: Partial<EventEnvelope> = {}) => envelope(mutation, { seq, ...extra });

describe('apply and read', () => {
  it('returns a put record from get and getMany', async () => {
    const partition = await open();
    const a = memoryRecord({ id: 'a', content: textContent('first') });
    await partition.apply(put(1, [a]));

    expect(await partition.get('default', 'a')).toEqual(a);
    expect(await partition.getMany('default', ['a', 'nope'])).toEqual([a, undefined]);
    expect(await partition.lastSequence('default')).toBe(1);
  });

  it('getMany reads sealed records, a few at once and many at once alike', async () => {
    const cipher = () => new ValueCipher(Buffer.alloc(32, 7));
    const sealed = await Partition.open(join(dir, 'sealed'), 'episodic', { syncWrites: false, cipher: cipher() });
    opened.push(sealed);
    const records = Array.from({ length: 100 }, (_, index) => memoryRecord({ id: `r${String(index).padStart(3, '0')}`, content: textContent(`text ${index}`) }));
    await sealed.apply(put(1, records));
    await closeAll();
    // A fresh partition has no cache: a few ids take the synchronous path, many the async getMany.
    const reopened = await Partition.open(join(dir, 'sealed'), 'episodic', { syncWrites: false, cipher: cipher() });
    opened.push(reopened);
    expect(await reopened.getMany('default', ['r007', 'nope', 'r099'])).toEqual([records[7], undefined, records[99]]);
    expect(await reopened.getMany('default', [...records.map((record) => record.id).reverse(), 'nope'])).toEqual([...records.reverse(), undefined]);
  });

  it('returns the previous state of every touched id', async () => {
    const partition = await open();
    const a = memoryRecord({ id: 'a' });
    await partition.apply(put(1, [a]));
    const { previous, outcome } = await partition.apply(event(2, { type: 'record.updated', id: 'a', fields: { metadata: { n: 1 } } }, { at: at(5) }));

    expect(previous).toEqual(new Map([['a', a]]));
    expect(outcome.writes[0]).toMatchObject({ version: 2, updated_at: at(5), metadata: { n: 1 } });
    expect(await partition.get('default', 'a')).toEqual(outcome.writes[0]);
  });
});

describe('event log', () => {
  it('keeps every applied event, byte-for-byte what was applied, in sequence order', async () => {
    const partition = await open();
    const first = put(3, [
      memoryRecord({
        id: 'a',
        content: textContent('quote " and \\ backslash'),
        // Replacement patterns of String.replace, which splices record JSON into the envelope: kept as typed.
        metadata: { note: 'quote " and \\ backslash, $& $\' $` $$' },
      }),
    ]);
    const fresh: MutationEvent = { type: 'records.put', records: [memoryRecord({ id: 'b' })], fresh: true };
    const second = event(7, fresh, { idempotency_key: 'k' });
    const third = event(9, { type: 'records.deleted', ids: ['a'] });
    for (const applied of [first, second, third]) await partition.apply(applied);

    expect(await partition.eventsAfter('default', 0)).toEqual([first, second, third]);
    expect(await partition.eventsAfter('default', 7)).toEqual([third]);
  });

  it('skips the read of a fresh put and still indexes it', async () => {
    const partition = await open();
    const fresh: MutationEvent = { type: 'records.put', records: [memoryRecord({ id: 'a', created_at: at(1) })], fresh: true };
    const { previous } = await partition.apply(event(1, fresh));
    expect(previous.size).toBe(0);
    expect(await partition.idsByRecency('default', 10)).toEqual(['a']);
  });
});

describe('idempotency', () => {
  it('a replayed key writes nothing and returns the first entry', async () => {
    const partition = await open();
    const first = await partition.apply(put(1, [memoryRecord({ id: 'a' })], { idempotency_key: 'req-1' }));
    expect(first.replayed).toBeUndefined();

    const again = await partition.apply(put(2, [memoryRecord({ id: 'b' })], { idempotency_key: 'req-1', at: at(9) }));

    expect(again.replayed).toEqual({ seq: 1, at: at(0), written: ['a'], removed: [], missing: [] });
    expect(again.outcome.writes).toEqual([]);
    expect(await partition.get('default', 'b')).toBeUndefined();
    expect(await partition.lastSequence('default')).toBe(1);
    expect(await partition.eventCount('default')).toBe(1);
  });

  it('keeps the missing ids of the first attempt for the replay', async () => {
    const partition = await open();
    await partition.apply(event(1, { type: 'records.deleted', ids: ['gone'] }, { idempotency_key: 'del' }));
    const again = await partition.apply(event(2, { type: 'records.deleted', ids: ['gone'] }, { idempotency_key: 'del' }));
    expect(again.outcome.missing).toEqual(['gone']);
  });

  it('a key is per space', async () => {
    const partition = await open();
    await partition.apply(put(1, [memoryRecord({ id: 'a' })], { idempotency_key: 'k', space: 'one' }));
    const other = await partition.apply(put(1, [memoryRecord({ id: 'a' })], { idempotency_key: 'k', space: 'two' }));
    expect(other.replayed).toBeUndefined();
    expect(await partition.get('two', 'a')).toBeDefined();
  });
});

describe('time index', () => {
  const records = [memoryRecord({ id: 'a', created_at: at(0) }), memoryRecord({ id: 'b', created_at: at(1000) }), memoryRecord({ id: 'c', created_at: at(2000) })];

  it('idsCreatedBetween includes both bounds, oldest first', async () => {
    const partition = await open();
    await partition.apply(put(1, [records[2], records[0], records[1]]));

    expect(await partition.idsCreatedBetween('default', T0_MS + 1000, T0_MS + 2000)).toEqual(['b', 'c']);
    expect(await partition.idsCreatedBetween('default', T0_MS, T0_MS + 1000)).toEqual(['a', 'b']);
    expect(await partition.idsCreatedBetween('default', T0_MS + 1, T0_MS + 999)).toEqual([]);
  });

  it('idsByRecency gives the newest first, or the oldest first when asked', async () => {
    const partition = await open();
    await partition.apply(put(1, records));

    expect(await partition.idsByRecency('default', 2)).toEqual(['c', 'b']);
    expect(await partition.idsByRecency('default', 2, false)).toEqual(['a', 'b']);
  });

  it('replacing a record moves its time index entry', async () => {
    const partition = await open();
    await partition.apply(put(1, [memoryRecord({ id: 'a', created_at: at(0) })]));
    await partition.apply(put(2, [memoryRecord({ id: 'a', created_at: at(5000) })]));

    expect(await partition.idsCreatedBetween('default', T0_MS, T0_MS)).toEqual([]);
    expect(await partition.idsByRecency('default', 10)).toEqual(['a']);
  });
});

describe('session index', () => {
  it('idsInSession finds the raw records of one session, oldest first', async () => {
    const partition = await open('raw_journal');
    await partition.apply(
      put(1, [
        rawRecord({ id: 'late', session_id: 's1', created_at: at(2000) }),
        rawRecord({ id: 'early', session_id: 's1', created_at: at(1000) }),
        rawRecord({ id: 'other', session_id: 's2', created_at: at(1500) }),
      ]),
    );

    expect(await partition.idsInSession('default', 's1')).toEqual(['early', 'late']);
    expect(await partition.idsInSession('default', 's2')).toEqual(['other']);
    expect(await partition.idsInSession('default', 's3')).toEqual([]);
  });

  it('a session name with URI-reserved characters is found', async () => {
    const partition = await open('raw_journal');
    await partition.apply(put(1, [rawRecord({ id: 'r', session_id: 'chat/42 ü?x=1' })]));
    expect(await partition.idsInSession('default', 'chat/42 ü?x=1')).toEqual(['r']);
  });

  // encodeURIComponent leaves "!" as it is, so session "a"'s key prefix was also a prefix of session "a!b".
  it('idsInSession does not return records of a session whose name extends it past "!"', async () => {
    const partition = await open('raw_journal');
    await partition.apply(
      put(1, [
        rawRecord({ id: 'mine', session_id: 'a', created_at: at(0) }),
        rawRecord({ id: 'theirs', session_id: 'a!b', created_at: at(1) }),
        rawRecord({ id: 'digits', session_id: 'a!000000000000001', created_at: at(2) }),
      ]),
    );

    expect(await partition.idsInSession('default', 'a')).toEqual(['mine']);
    expect(await partition.idsInSession('default', 'a!b')).toEqual(['theirs']);
  });
});

describe('delete', () => {
  it('removes the record and its time and session index keys', async () => {
    const partition = await open('raw_journal');
    const record = rawRecord({ id: 'r', session_id: 's1', created_at: at(0) });
    await partition.apply(put(1, [record]));

    const { outcome } = await partition.apply(event(2, { type: 'records.deleted', ids: ['r', 'gone'] }));

    expect(outcome.removed).toEqual([record]);
    expect(outcome.missing).toEqual(['gone']);
    expect(await partition.get('default', 'r')).toBeUndefined();
    expect(await partition.idsByRecency('default', 10)).toEqual([]);
    expect(await partition.idsCreatedBetween('default', 0, Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(await partition.idsInSession('default', 's1')).toEqual([]);
  });
});

describe('spaces', () => {
  it('keep the same id apart', async () => {
    const partition = await open();
    await partition.apply(put(1, [memoryRecord({ id: 'x', space: 'one', content: textContent('in one') })], { space: 'one' }));
    await partition.apply(put(7, [memoryRecord({ id: 'x', space: 'two', content: textContent('in two') })], { space: 'two' }));
    await partition.apply(event(8, { type: 'records.deleted', ids: ['x'] }, { space: 'two' }));

    expect((await partition.get('one', 'x'))?.content).toEqual(textContent('in one'));
    expect(await partition.get('two', 'x')).toBeUndefined();
    expect(await partition.idsByRecency('one', 10)).toEqual(['x']);
    expect(await partition.idsByRecency('two', 10)).toEqual([]);
    expect(await partition.lastSequence('one')).toBe(1);
    expect(await partition.lastSequence('two')).toBe(8);
    expect(await partition.spaces()).toEqual(['one', 'two']);
  });

  it('a space whose name starts with another space name stays apart', async () => {
    const partition = await open();
    await partition.apply(put(1, [memoryRecord({ id: 'a' })], { space: 'team' }));
    await partition.apply(put(1, [memoryRecord({ id: 'b' })], { space: 'team-2' }));

    const chunks: StoredRecord[][] = [];
    for await (const chunk of partition.records('team')) chunks.push(chunk);
    expect(chunks.flat().map((record) => record.id)).toEqual(['a']);
    expect(await partition.idsByRecency('team', 10)).toEqual(['a']);
  });
});

describe('records', () => {
  it('yields every record of a space in chunks of the given size', async () => {
    const partition = await open();
    await partition.apply(
      put(
        1,
        ['a', 'b', 'c', 'd', 'e'].map((id) => memoryRecord({ id })),
      ),
    );

    const sizes: number[] = [];
    const ids: string[] = [];
    for await (const chunk of partition.records('default', 2)) {
      sizes.push(chunk.length);
      ids.push(...chunk.map((record) => record.id));
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

describe('reopen', () => {
  it('keeps records, indexes and lastSequence', async () => {
    const first = await open();
    const a = memoryRecord({ id: 'a', created_at: at(1000) });
    await first.apply(put(41, [a]));
    await closeAll();

    const second = await open();
    expect(await second.get('default', 'a')).toEqual(a);
    expect(await second.idsByRecency('default', 10)).toEqual(['a']);
    expect(await second.lastSequence('default')).toBe(41);
  });
});

describe('compact', () => {
  it('drops events beyond the newest keepEvents and keeps the records', async () => {
    const partition = await open();
    for (let seq = 1; seq <= 5; seq++) await partition.apply(put(seq, [memoryRecord({ id: `r${seq}` })]));

    const dropped = await partition.compact('default', 2, 0);

    expect(dropped).toEqual({ events: 3, keys: 0 });
    expect(await partition.eventCount('default')).toBe(2);
    expect(await partition.idsByRecency('default', 10, false)).toHaveLength(5);
    expect(await partition.lastSequence('default')).toBe(5);
  });

  // Sequences are per space across all stores, so one store sees gaps; retention counts events, not numbers.
  it('keeps keepEvents events when the sequence has gaps', async () => {
    const partition = await open();
    for (const seq of [10, 20, 30, 40]) await partition.apply(put(seq, [memoryRecord({ id: `r${seq}` })]));

    const dropped = await partition.compact('default', 2, 0);

    expect(dropped.events).toBe(2);
    expect(await partition.eventCount('default')).toBe(2);
  });

  it('keeps every event when there are fewer than keepEvents', async () => {
    const partition = await open();
    for (const seq of [3, 9]) await partition.apply(put(seq, [memoryRecord({ id: `r${seq}` })]));

    expect((await partition.compact('default', 5, 0)).events).toBe(0);
    expect(await partition.eventCount('default')).toBe(2);
  });

  it('drops idempotency entries older than the cutoff and keeps newer ones', async () => {
    const partition = await open();
    await partition.apply(put(1, [memoryRecord({ id: 'a' })], { idempotency_key: 'old', at: at(0) }));
    await partition.apply(put(2, [memoryRecord({ id: 'b' })], { idempotency_key: 'new', at: at(10_000) }));

    const dropped = await partition.compact('default', 100, T0_MS + 5000);

    expect(dropped).toEqual({ events: 0, keys: 1 });
    expect(await partition.findIdempotent('default', 'old')).toBeUndefined();
    expect(await partition.findIdempotent('default', 'new')).toMatchObject({ seq: 2 });
    expect(await partition.get('default', 'a')).toBeDefined();
  });

  it('touches only the space it is given', async () => {
    const partition = await open();
    for (let seq = 1; seq <= 3; seq++) {
      await partition.apply(put(seq, [memoryRecord({ id: `r${seq}` })], { space: 'one' }));
      await partition.apply(put(seq, [memoryRecord({ id: `r${seq}` })], { space: 'two' }));
    }
    await partition.compact('one', 1, 0);
    expect(await partition.eventCount('one')).toBe(1);
    expect(await partition.eventCount('two')).toBe(3);
  });
});

describe('format and ownership', () => {
  it('a new partition records the format version and its store name', async () => {
    await open('semantic');
    await closeAll();
    const db = new ClassicLevel<string, string>(dir);
    try {
      expect(await db.get('m!format')).toBe(PARTITION_FORMAT);
      expect(await db.get('m!partition')).toBe('semantic');
    } finally {
      await db.close();
    }
  });

  it('opening a directory that belongs to another store fails and releases the directory', async () => {
    await open('episodic');
    await closeAll();

    const error = await rejection(Partition.open(dir, 'semantic', { syncWrites: false }));
    expect(error.code).toBe('INTERNAL_ERROR');
    await expect(open('episodic')).resolves.toBeInstanceOf(Partition);
  });

  it('opening a partition of another format version fails', async () => {
    const db = new ClassicLevel<string, string>(dir);
    await db.batch([
      { type: 'put', key: 'm!format', value: '999' },
      { type: 'put', key: 'm!partition', value: 'episodic' },
    ]);
    await db.close();

    const error = await rejection(Partition.open(dir, 'episodic', { syncWrites: false }));
    expect(error.code).toBe('INTERNAL_ERROR');
  });

  it('a second open of a directory that is open fails on the LevelDB lock', async () => {
    await open();

    const error = await rejection(Partition.open(dir, 'episodic', { syncWrites: false }));
    expect(error.code).toBe('INTERNAL_ERROR');
    const cause = error.cause as { code?: string; cause?: { code?: string } };
    expect(cause.code).toBe('LEVEL_DATABASE_NOT_OPEN');
    expect(cause.cause?.code).toBe('LEVEL_LOCKED');
  });
});

describe('a closed partition', () => {
  it.each([
    ['get', (partition: Partition) => partition.get('default', 'a')],
    ['apply', (partition: Partition) => partition.apply(put(1, [memoryRecord({ id: 'a' })]))],
    ['idsByRecency', (partition: Partition) => partition.idsByRecency('default', 1)],
  ])('%s rejects with LEVEL_DATABASE_NOT_OPEN', async (_, call) => {
    const partition = await open();
    await closeAll();
    await expect(call(partition)).rejects.toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
  });
});

describe('records that cross to a worker as JSON text', () => {
  it('come back as the same envelope, and are stored and logged as they were sent', async () => {
    const partition = await open();
    const a = memoryRecord({ id: 'a', content: textContent('first') });
    const b = memoryRecord({ id: 'b', content: textContent('second') });
    const sent = put(1, [a, b], { idempotency_key: 'k1' });
    const wire = toWireEnvelope(sent);
    expect(wire.event).toEqual({ type: 'records.put', records_json: [JSON.stringify(a), JSON.stringify(b)] });
    const { envelope: received, json } = fromWireEnvelope(structuredClone(wire));
    expect(received).toEqual(sent);

    await partition.apply(received, { json });
    await closeAll();
    const reopened = await open();
    expect(await reopened.getMany('default', ['a', 'b'])).toEqual([a, b]);
    expect(await reopened.eventsAfter('default', 0)).toEqual([sent]);
  });

  it('other events cross unchanged', () => {
    const deleted = event(2, { type: 'records.deleted', ids: ['a'] });
    expect(toWireEnvelope(deleted)).toBe(deleted);
    expect(fromWireEnvelope(toWireEnvelope(deleted)).envelope).toEqual(deleted);
  });
});
