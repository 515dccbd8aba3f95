import type { StoredRecord } from '../../cmp/types.js';
import type { OnUnreadable } from './backend.js';
import { derivedStateFromJSON } from './derived-state.js';
import { touchedIds } from './events.js';
import type { Partition } from './partition.js';
import type { StoreCore } from './store-core.js';

// How a persistent store comes back after a start: its indexes from their snapshot (caught up by
// replaying the event log) or rebuilt from the records, and its aggregates and registry from the same
// snapshot or counted. Only the LevelDB backend has a past to recover; working memory starts empty.

export interface Recovery {
  /** Where the store keeps its index snapshots. */
  indexDir: string;
  log: (line: string) => void;
  /** A damaged record is logged and passed over, so one bad value does not keep the store closed. */
  onUnreadable: OnUnreadable;
}

/**
 * Opens the indexes: from their snapshot when it is usable, caught up by replaying the event log;
 * otherwise rebuilt from the records (with progress lines, since re-embedding a large store takes time).
 * Aggregates and the registry come from the snapshot when it needed no replay (a replayed event may
 * have changed a record whose earlier state the aggregates counted); otherwise they are counted in
 * one pass over the records, the rebuild's pass when there is one.
 */
export async function recover(core: StoreCore, open: Partition, { indexDir, log, onUnreadable }: Recovery): Promise<void> {
  const { indexes } = core;
  const loaded = indexes.load(indexDir);
  const spaces = await open.spaces();
  let rebuild = 'reason' in loaded ? loaded.reason : null;
  let replayed = false;
  if (!('reason' in loaded)) {
    // Vectors the snapshot's backlog still owed (the process stopped or crashed before they came).
    for (const [space, ids] of Object.entries(loaded.pending)) {
      for (let start = 0; start < ids.length; start += 500) {
        const records = await open.getMany(space, ids.slice(start, start + 500));
        await indexes.queueVectors(
          space,
          records.filter((record): record is StoredRecord => record !== undefined),
        );
      }
    }
    for (const space of spaces) {
      const from = loaded.sequences[space] ?? 0;
      if ((await open.lastSequence(space)) === from) continue;
      if ((await open.compactedThrough(space)) > from) {
        rebuild = `the event log no longer reaches back to the snapshot of space ${space}`;
        break;
      }
      await replay(core, open, space, from);
      replayed = true;
    }
  }
  if (rebuild !== null) {
    indexes.reset();
    // A new, empty store has nothing to rebuild: say nothing.
    if (spaces.length > 0) log(`rebuilding indexes: ${rebuild}`);
  }
  const saved = rebuild === null && !replayed && !('reason' in loaded) ? derivedStateFromJSON(loaded.state, core.keepsRegistry) : undefined;
  if (saved) {
    core.restore(saved);
    // Damage to a sealed record is still found at start, as the counting pass found it (cheaply: no parse).
    for (const space of spaces) await open.checkSealedRecords(space, onUnreadable);
    return;
  }
  let done = 0;
  for (const space of spaces) {
    // The opening pass also fills the space's decay table (partition.ts `scan`): nothing writes yet.
    for await (const chunk of open.scan(space, 500, onUnreadable)) {
      for (const record of chunk) core.count(space, record);
      if (rebuild !== null) {
        await indexes.index(space, chunk, new Map());
        done += chunk.length;
        if (done % 10_000 < chunk.length) log(`indexed ${done} records`);
      }
    }
  }
  if (rebuild !== null) {
    if (spaces.length > 0) log(`indexes rebuilt (${done} records)`);
    // The text index is whole again; vectors follow in the background (indexes.ts), with progress lines.
    if (indexes.backlog > 0) log(`vectors: embedding ${indexes.backlog} records in the background with ${indexes.embedderName}; recall finds them by text meanwhile`);
    await saveSnapshot(core, indexDir, log);
  }
}

/** Re-indexes every record an event after `fromSeq` touched, from its current state. */
async function replay(core: StoreCore, open: Partition, space: string, fromSeq: number): Promise<void> {
  const { indexes } = core;
  let after = fromSeq;
  const decayed = new Set<string>();
  for (;;) {
    const events = await open.eventsAfter(space, after, 500);
    if (events.length === 0) return;
    const ids = new Set<string>();
    for (const envelope of events) {
      const { event } = envelope;
      after = envelope.seq;
      // A tick changes no indexed text: only the records it pruned (gone now) matter.
      if (event.type === 'records.decayed') {
        for (const id of event.ids) decayed.add(id);
        continue;
      }
      for (const id of event.type === 'records.put' ? event.records.map((record) => record.id) : touchedIds(event)) ids.add(id);
      if (event.type === 'records.deleted') for (const id of event.ids) ids.add(id);
    }
    const current = await open.getMany(space, [...ids]);
    const present: StoredRecord[] = [];
    [...ids].forEach((id, index) => {
      const record = current[index];
      if (record) present.push(record);
      else indexes.unindex(space, id);
    });
    const survivors = await open.getMany(space, [...decayed]);
    [...decayed].forEach((id, index) => {
      if (!survivors[index]) indexes.unindex(space, id);
    });
    decayed.clear();
    await indexes.index(space, present, new Map());
  }
}

/**
 * Saves the indexes with the aggregates and registry as of the backend's current sequences, unless
 * the indexes are stale (then the next start replays or rebuilds).
 */
export async function saveSnapshot(core: StoreCore, indexDir: string, log: (line: string) => void): Promise<void> {
  const state = await core.derivedState();
  if (state === undefined) {
    log('index snapshot not saved: index maintenance failed earlier; the next start replays the event log or rebuilds');
    return;
  }
  core.indexes.save(indexDir, await core.sequences(), state);
}
