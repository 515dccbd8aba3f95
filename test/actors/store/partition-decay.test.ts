import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyEvent, type EventEnvelope } from '../../../src/actors/store/events.js';
import { Partition, type DecayTickJob } from '../../../src/actors/store/partition.js';
import { isSealed, ValueCipher } from '../../../src/actors/store/value-cipher.js';
import type { MemoryRecord, StoredRecord } from '../../../src/cmp/types.js';
import { association, at, envelope, memoryRecord, T0_MS } from '../../helpers/records.js';

// A decay tick on a real partition: it evaluates the store's decay table instead of rewriting records,
// so every read must show exactly what applying `records.decayed` to the records gives (events.ts, the
// definition), across reopening, later writes, a lost checkpoint and encryption at rest.

const DAY_MS = 86_400_000;
let dir: string;
let opened: Partition[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cerememory-partition-decay-'));
  opened = [];
});

afterEach(async () => {
  for (const partition of opened) await partition.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(cipher?: ValueCipher): Promise<Partition> {
  const partition = await Partition.open(dir, 'episodic', { syncWrites: false, cipher });
  opened.push(partition);
  return partition;
}

async function closeAll(): Promise<void> {
  for (const partition of opened.splice(0)) await partition.close();
}

/** The opening pass a store worker makes (it fills the decay table). */
async function scan(partition: Partition, space = 'default'): Promise<void> {
  for await (const _ of partition.scan(space)) {
    /* every record */
  }
}

const pause = () => new Promise<void>((resolve) => setImmediate(resolve));

function job(seq: number, atMs: number, tick_duration_secs: number, prune_threshold = 0.01): DecayTickJob {
  return { seq, at: new Date(atMs).toISOString(), tick_duration_secs, prune_threshold };
}

/** What the definition gives: `records.decayed` applied to `records` by `applyEvent`. */
function expected(records: StoredRecord[], tick: DecayTickJob): { kept: Map<string, StoredRecord>; removed: string[] } {
  const current = new Map(records.map((record) => [record.id, record] as const));
  const outcome = applyEvent(
    envelope(
      {
        type: 'records.decayed',
        ids: records.map((record) => record.id),
        tick_duration_secs: tick.tick_duration_secs,
        prune_threshold: tick.prune_threshold,
      },
      { seq: tick.seq, at: tick.at },
    ),
    current,
  );
  return { kept: new Map(outcome.writes.map((record) => [record.id, record] as const)), removed: outcome.removed.map((record) => record.id) };
}

const records = (): MemoryRecord[] => [
  memoryRecord({ id: 'neutral' }),
  memoryRecord({ id: 'emotional', emotion: { ...memoryRecord().emotion, fear: 0.9, intensity: 0.8 } }),
  memoryRecord({ id: 'linked', associations: [association('neutral'), association('emotional'), association('x', { association_type: 'causal' })] }),
  // A reference record: no anchor fields, its score at last_decay_tick is the anchor.
  memoryRecord({ id: 'reference', fidelity: { ...memoryRecord().fidelity, score: 0.7, anchor_score: undefined, anchor_at: undefined, last_decay_tick: at(-DAY_MS) } }),
  memoryRecord({ id: 'fading', fidelity: { ...memoryRecord().fidelity, decay_rate: 3, stability: 60 } }),
];

const ids = (list: StoredRecord[]) => list.map((record) => record.id);

describe('Partition.decay', () => {
  it('gives every record what applying records.decayed to it gives, tick after tick, and prunes the same', async () => {
    const partition = await open();
    await partition.apply(envelope({ type: 'records.put', records: records() }, { seq: 1 }));
    let state: StoredRecord[] = records();
    const ticks = [job(2, T0_MS + DAY_MS, 3600), job(3, T0_MS + DAY_MS + 60_000, 0), job(4, T0_MS + DAY_MS + 120_000, 30 * 86_400)];
    for (const tick of ticks) {
      const want = expected(state, tick);
      const result = await partition.decay('default', tick, pause);
      expect(result.evaluated).toBe(state.length);
      expect(ids(result.removed).sort()).toEqual(want.removed.sort());
      // The event counts the records evaluated and names those pruned; the checkpoint holds the rest.
      const [event] = (await partition.eventsAfter('default', tick.seq - 1)) as EventEnvelope[];
      expect(event!.event).toEqual({
        type: 'records.ticked',
        evaluated: state.length,
        pruned: want.removed,
        tick_duration_secs: tick.tick_duration_secs,
        prune_threshold: tick.prune_threshold,
      });
      state = (await partition.getMany('default', ids(state))).filter((record): record is StoredRecord => record !== undefined);
      expect(new Map(state.map((record) => [record.id, record] as const))).toEqual(want.kept);
      expect([...result.scores].sort()).toEqual([...want.kept.values()].map((record) => (record as MemoryRecord).fidelity.score).sort());
    }
    expect(ids(state)).not.toContain('fading');
    expect(ids(state)).toContain('emotional');
  });

  it('keeps a tick across a reopen, and a record written after it reads as written', async () => {
    const first = await open();
    await first.apply(envelope({ type: 'records.put', records: records() }, { seq: 1 }));
    await scan(first);
    await first.decay('default', job(2, T0_MS + DAY_MS, 7 * 86_400), pause);
    await first.apply(envelope({ type: 'record.updated', id: 'neutral', fields: { metadata: { edited: true } } }, { seq: 3, at: at(DAY_MS + 1000) }));
    // Touched but not rewritten: a strip that finds no link to remove.
    await first.apply(envelope({ type: 'associations.stripped', source_ids: ['emotional'], target_ids: ['nobody'] }, { seq: 4, at: at(DAY_MS + 2000) }));
    const before = await first.getMany('default', ['neutral', 'emotional', 'linked', 'reference']);
    expect((before[0] as MemoryRecord).metadata).toEqual({ edited: true });
    expect((before[0] as MemoryRecord).fidelity.last_decay_tick).toBe(at(7 * DAY_MS));
    await closeAll();

    const second = await open();
    // Before the opening pass, reads already show the checkpoint ...
    expect(await second.getMany('default', ['neutral', 'emotional', 'linked', 'reference'])).toEqual(before);
    await scan(second);
    // ... and after it, from the table.
    expect(await second.getMany('default', ['neutral', 'emotional', 'linked', 'reference'])).toEqual(before);
    const page = await second.recordsAfter('default', null, 10);
    expect(page.filter((record) => record.id !== 'fading')).toEqual([...before].sort((a, b) => a!.id.localeCompare(b!.id)));
  });

  it('fills its decay table beside writes: a record deleted meanwhile is not brought back, one written is ticked', async () => {
    const many = Array.from({ length: 1200 }, (_, index) => memoryRecord({ id: `r${String(index).padStart(4, '0')}` }));
    const first = await open();
    await first.apply(envelope({ type: 'records.put', records: many }, { seq: 1 }));
    await closeAll();

    // A start from the index snapshot reads no record: the table is filled afterwards, while writes go on.
    const second = await open();
    let writes: Promise<unknown> | undefined;
    const writingPause = () => {
      writes ??= (async () => {
        // Still ahead of the pass (it reads 100 at a time from a snapshot taken when it began).
        await second.apply(envelope({ type: 'records.deleted', ids: ['r1100'] }, { seq: 2 }));
        await second.apply(envelope({ type: 'records.put', records: [memoryRecord({ id: 'r9999' })] }, { seq: 3 }));
      })();
      return writes.then(pause);
    };
    await second.fillDecayTable('default', writingPause);
    expect(writes).toBeDefined();
    const tick = await second.decay('default', job(4, T0_MS + DAY_MS, 3600), pause);
    // 1,200 − r1100 + r9999: the deleted record was not put back in the table.
    expect(tick.evaluated).toBe(1200);
    const [r0000, r1100, r9999] = (await second.getMany('default', ['r0000', 'r1100', 'r9999'])) as (MemoryRecord | undefined)[];
    expect(r1100).toBeUndefined();
    expect(r9999!.fidelity.last_decay_tick).toBe(r0000!.fidelity.last_decay_tick);
    expect(r9999!.fidelity.last_decay_tick).not.toBe(memoryRecord().fidelity.last_decay_tick);
  });

  it('recomputes a lost tick identically (a real-time tick of duration 0)', async () => {
    const first = await open();
    for (const space of ['kept', 'lost']) {
      await first.apply(envelope({ type: 'records.put', records: records() }, { seq: 1, space }));
      await first.decay(space, job(2, T0_MS + DAY_MS, 0), pause);
    }
    await closeAll();
    // The tick of space "lost" never reached the disk: its checkpoint is gone.
    const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
    await db.del('d!lost');
    await db.close();

    const second = await open();
    for (const space of ['kept', 'lost']) {
      await scan(second, space);
      await second.decay(space, job(3, T0_MS + 2 * DAY_MS, 0), pause);
    }
    const kept = await second.getMany('kept', ids(records()));
    const lost = await second.getMany('lost', ids(records()));
    expect(lost).toEqual(kept);
    expect((kept[0] as MemoryRecord).fidelity.last_decay_tick).toBe(at(2 * DAY_MS));
  });

  it('seals the checkpoint under encryption at rest, and migration seals a plain one', async () => {
    const cipher = new ValueCipher(randomBytes(32));
    const plain = await open();
    await plain.apply(envelope({ type: 'records.put', records: records() }, { seq: 1, space: 'plain' }));
    await plain.decay('plain', job(2, T0_MS + DAY_MS, 86_400), pause);
    const plainBefore = await plain.getMany('plain', ids(records()));
    await closeAll();

    const sealed = await open(cipher);
    await sealed.migrateToSealed();
    await sealed.apply(envelope({ type: 'records.put', records: records() }, { seq: 1, space: 'sealed' }));
    await sealed.decay('sealed', job(2, T0_MS + DAY_MS, 86_400), pause);
    const sealedBefore = await sealed.getMany('sealed', ids(records()));
    await closeAll();

    const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
    for (const key of ['d!plain', 'd!sealed']) expect(isSealed((await db.get(key))!)).toBe(true);
    await db.close();

    const again = await open(cipher);
    expect(await again.getMany('plain', ids(records()))).toEqual(plainBefore);
    expect(await again.getMany('sealed', ids(records()))).toEqual(sealedBefore);
    expect(sealedBefore.filter(Boolean).length).toBe(4);
  });
});
