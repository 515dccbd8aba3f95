import { parentPort, workerData } from 'node:worker_threads';
import { createActor, fromPromise, waitFor } from 'xstate';
import { CmpError } from '../../cmp/errors.js';
import type { PartitionName, StoredRecord } from '../../cmp/types.js';
import { Comlink, installErrorTransfer, nodeEndpoint } from '../../runtime/comlink-node.js';
import { countRecord, emptyAggregates, type SpaceAggregates } from './aggregates.js';
import type { EventEnvelope } from './events.js';
import { storeMachine } from './machine.js';
import { Partition, type IdempotencyEntry } from './partition.js';
import { registryEntryOf, type ApplyReply, type RegistryEntry, type SpaceStats, type StoreWorkerApi, type StoreWorkerData } from './protocol.js';

// A store actor's worker thread: opens its partition, runs the life-cycle machine with the real
// effects, and serves the store API to the hippocampus over comlink. The only file of the store actor
// that touches worker_threads or comlink.

installErrorTransfer();
const data = workerData as StoreWorkerData;
const name: PartitionName = data.name;

let partition: Partition | undefined;
const totals = new Map<string, SpaceAggregates>();
let writeQueue: Promise<unknown> = Promise.resolve();

const totalsOf = (space: string) => {
  let found = totals.get(space);
  if (!found) totals.set(space, (found = emptyAggregates()));
  return found;
};

const actor = createActor(
  storeMachine.provide({
    actors: {
      open: fromPromise(async () => {
        partition = await Partition.open(data.location, name, { syncWrites: data.syncWrites });
        for (const space of await partition.spaces()) {
          const spaceTotals = totalsOf(space);
          for await (const chunk of partition.records(space)) for (const record of chunk) countRecord(spaceTotals, record, 1);
        }
      }),
      compact: fromPromise(async () => {
        const open = partition!;
        const cutoff = Date.now() - data.idempotencyTtlMs;
        for (const space of await open.spaces()) await open.compact(space, data.keepEvents, cutoff);
      }),
      close: fromPromise(async () => {
        await writeQueue.catch(() => undefined);
        await partition?.close();
      }),
    },
  }),
  { input: { compactEvery: data.compactEvery } },
);
actor.start();

/** Waits while starting; refuses once stopping. Returns the open partition. */
async function ready(): Promise<Partition> {
  const state = await waitFor(actor, (snapshot) => !snapshot.matches('starting'));
  if (state.matches('ready') || state.matches('busy')) return partition!;
  if (state.matches('failed')) {
    throw new CmpError('STORE_UNAVAILABLE', `${name} store failed to open: ${state.context.error}`, { retryAfter: 1 });
  }
  throw new CmpError('STORE_UNAVAILABLE', `${name} store is stopping`, { retryAfter: 1 });
}

function serialised<T>(work: () => Promise<T>): Promise<T> {
  const result = writeQueue.then(work);
  writeQueue = result.catch(() => undefined);
  return result;
}

const api: StoreWorkerApi = {
  async whenReady() {
    const open = await ready();
    const sequences: Record<string, number> = {};
    for (const space of await open.spaces()) sequences[space] = await open.lastSequence(space);
    return { name, sequences };
  },

  async apply(envelope: EventEnvelope): Promise<ApplyReply> {
    const open = await ready();
    return serialised(async () => {
      const { outcome, previous, replayed } = await open.apply(envelope);
      if (replayed) return { written: [], removed: [], missing: replayed.missing, replayed };
      // Aggregates move by the difference: the old state out, the new state in.
      const spaceTotals = totalsOf(envelope.space);
      for (const record of outcome.removed) countRecord(spaceTotals, record, -1);
      for (const record of outcome.writes) {
        const old = previous.get(record.id);
        if (old) countRecord(spaceTotals, old, -1);
        countRecord(spaceTotals, record, 1);
      }
      actor.send({ type: 'APPLIED', count: 1 });
      return {
        written: outcome.writes.map(registryEntryOf),
        removed: outcome.removed.map((record) => record.id),
        missing: outcome.missing,
      };
    });
  },

  async get(space, id) {
    return (await ready()).get(space, id);
  },

  async getMany(space, ids) {
    return (await ready()).getMany(space, ids);
  },

  async findIdempotent(space, key): Promise<IdempotencyEntry | undefined> {
    return (await ready()).findIdempotent(space, key);
  },

  async idsCreatedBetween(space, startMs, endMs) {
    return (await ready()).idsCreatedBetween(space, startMs, endMs);
  },

  async idsByRecency(space, limit) {
    return (await ready()).idsByRecency(space, limit);
  },

  async idsInSession(space, session) {
    return (await ready()).idsInSession(space, session);
  },

  async registry() {
    const open = await ready();
    const dump: Record<string, RegistryEntry[]> = {};
    for (const space of await open.spaces()) {
      const entries: RegistryEntry[] = (dump[space] = []);
      for await (const chunk of open.records(space)) for (const record of chunk) entries.push(registryEntryOf(record));
    }
    return dump;
  },

  async stats(space): Promise<SpaceStats> {
    const open = await ready();
    const [oldest] = await open.idsByRecency(space, 1, false);
    const [newest] = await open.idsByRecency(space, 1, true);
    const [oldestRecord, newestRecord] = await open.getMany(space, [oldest, newest].filter((id): id is string => id !== undefined));
    return {
      ...(totals.get(space) ?? emptyAggregates()),
      oldest_created_at: oldestRecord?.created_at ?? null,
      newest_created_at: (newestRecord ?? oldestRecord)?.created_at ?? null,
    };
  },

  async compact() {
    await ready();
    actor.send({ type: 'COMPACT' });
    await waitFor(actor, (snapshot) => !snapshot.matches('busy'));
  },

  async close() {
    actor.send({ type: 'STOP' });
    await waitFor(actor, (snapshot) => snapshot.status === 'done');
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
