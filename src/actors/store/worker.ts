import { parentPort, workerData } from 'node:worker_threads';
import { createActor, fromPromise, waitFor } from 'xstate';
import { CmpError, storageError } from '../../cmp/errors.js';
import { storageCause } from '../../cmp/storage-cause.js';
import type { PartitionName, StoredRecord } from '../../cmp/types.js';
import { connectEmbedder, defersVectors, noEmbedder } from '../../embedding/factory.js';
import { Comlink, installErrorTransfer, nodeEndpoint } from '../../runtime/comlink-node.js';
import { countRecord, emptyAggregates, type SpaceAggregates } from './aggregates.js';
import { fidelityHistogram } from './decay.js';
import { derivedStateFromJSON, derivedStateToJSON, type Registry } from './derived-state.js';
import { touchedIds, type EventEnvelope } from './events.js';
import { StoreIndexes } from './indexes.js';
import { storeMachine } from './machine.js';
import { Partition, type ApplyOptions, type IdempotencyEntry } from './partition.js';
import { ValueCipher } from './value-cipher.js';
import {
  fromWireEnvelope, inIntensityRange, registryEntryOf, type ApplyReply, type DecayJob, type DecayOutcome, type RegistryEntry, type SpaceStats, type StoreSearchQuery, type StoreSearchResult,
  type CrashPoint, type StoreWorkerApi, type StoreWorkerData,
} from './protocol.js';

// A store actor's worker thread: opens its partition and indexes, runs the life-cycle machine with the
// real effects, and serves the store API to the hippocampus over comlink. The only file of the store
// actor that touches worker_threads or comlink.

installErrorTransfer();
const data = workerData as StoreWorkerData;
const name: PartitionName = data.name;
const log = (line: string) => console.error(`${name}: ${line}`);
/** For passes over every record: a damaged one is logged (by key: an id, no text) and passed over. */
const skipUnreadable = (key: string, error: unknown) =>
  log(`record ${key} cannot be read and is left out (${error instanceof Error ? error.message : String(error)})`);

let partition: Partition | undefined;
const totals = new Map<string, SpaceAggregates>();
const cipher = new ValueCipher(data.storeKey);
/** Built when the worker opens: the embedder's name must be known (the embedding worker may still be loading). */
let indexes!: StoreIndexes;

/**
 * The indexes over this store's embedder. With the semantic model that is a client of the process's
 * embedding worker (one model for every store, see src/embedding/embed-worker.ts): vectors then follow
 * the write through the store's backlog (indexes.ts). The raw journal has no vectors.
 */
async function createIndexes(): Promise<StoreIndexes> {
  if (name === 'raw_journal') return new StoreIndexes('raw', noEmbedder, data.vectorIndex, cipher);
  const embedder = await connectEmbedder(data.embedding, data.embedPort, 'bulk');
  return new StoreIndexes('curated', embedder, data.vectorIndex, cipher, { deferVectors: defersVectors(embedder), log });
}
let writeQueue: Promise<unknown> = Promise.resolve();
/**
 * The association registry of a curated store, kept current by every applied event, so the hippocampus
 * gets it without a pass over the records (at start, after a restart) and index snapshots carry it.
 * The raw journal has no associations and keeps none: the hippocampus never asks for its registry.
 */
const registry: Registry | undefined = name === 'raw_journal' ? undefined : new Map();

const totalsOf = (space: string) => {
  let found = totals.get(space);
  if (!found) totals.set(space, (found = emptyAggregates()));
  return found;
};

function register(space: string, entry: RegistryEntry): void {
  if (!registry) return;
  let entries = registry.get(space);
  if (!entries) registry.set(space, (entries = new Map()));
  entries.set(entry.id, entry);
}

function unregister(space: string, id: string): void {
  const entries = registry?.get(space);
  entries?.delete(id);
  if (entries?.size === 0) registry!.delete(space);
}

async function sequences(open: Partition): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const space of await open.spaces()) result[space] = await open.lastSequence(space);
  return result;
}

/**
 * Opens the indexes: from their snapshot when it is usable, caught up by replaying the event log;
 * otherwise rebuilt from the records (with progress lines, since re-embedding a large store takes time).
 * Aggregates and the registry come from the snapshot when it needed no replay (a replayed event may
 * have changed a record whose earlier state the aggregates counted); otherwise they are counted in
 * one pass over the records, the rebuild's pass when there is one.
 */
async function openIndexes(open: Partition): Promise<void> {
  const loaded = indexes.load(data.indexDir);
  const spaces = await open.spaces();
  let rebuild = 'reason' in loaded ? loaded.reason : null;
  let replayed = false;
  if (!('reason' in loaded)) {
    // Vectors the snapshot's backlog still owed (the process stopped or crashed before they came).
    for (const [space, ids] of Object.entries(loaded.pending)) {
      for (let start = 0; start < ids.length; start += 500) {
        const records = await open.getMany(space, ids.slice(start, start + 500));
        indexes.queueVectors(space, records.filter((record): record is StoredRecord => record !== undefined));
      }
    }
    for (const space of spaces) {
      const from = loaded.sequences[space] ?? 0;
      if ((await open.lastSequence(space)) === from) continue;
      if ((await open.compactedThrough(space)) > from) {
        rebuild = `the event log no longer reaches back to the snapshot of space ${space}`;
        break;
      }
      await replay(open, space, from);
      replayed = true;
    }
  }
  if (rebuild !== null) {
    indexes.reset();
    // A new, empty store has nothing to rebuild: say nothing.
    if (spaces.length > 0) log(`rebuilding indexes: ${rebuild}`);
  }
  const saved = rebuild === null && !replayed && !('reason' in loaded) ? derivedStateFromJSON(loaded.state, registry !== undefined) : undefined;
  if (saved) {
    for (const [space, spaceTotals] of saved.aggregates) totals.set(space, spaceTotals);
    for (const [space, entries] of saved.registry) registry?.set(space, entries);
    // Damage to a sealed record is still found at start, as the counting pass found it (cheaply: no parse).
    for (const space of spaces) await open.checkSealedRecords(space, skipUnreadable);
    return;
  }
  let done = 0;
  for (const space of spaces) {
    const spaceTotals = totalsOf(space);
    // The opening pass also fills the space's decay table (partition.ts `scan`): nothing writes yet.
    for await (const chunk of open.scan(space, 500, skipUnreadable)) {
      for (const record of chunk) {
        countRecord(spaceTotals, record, 1);
        register(space, registryEntryOf(record));
      }
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
    await saveSnapshot(open);
  }
}

/** Re-indexes every record an event after `fromSeq` touched, from its current state. */
async function replay(open: Partition, space: string, fromSeq: number): Promise<void> {
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
 * Awaited between the steps of background work (a tick, filling a decay table): reads and writes that
 * came meanwhile are served, and the core is left free for a millisecond. Recall fans out to every
 * store, so a worker that went straight on to its next step slowed every recall on two cores (100,000
 * records, recalls back to back during ticks: p50/p99 12.5/37 ms with setImmediate, 10/25 ms with this;
 * a tick then takes 0.4 s instead of 0.2 s).
 */
const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/**
 * After a start from the index snapshot (which reads no record), fills the decay tables in the
 * background, so the first tick after a restart does not read every record first (issue 4: 4.7 s at
 * 100,000 records). Reads and writes go on meanwhile; a tick that comes first waits for the pass.
 */
async function fillDecayTables(open: Partition): Promise<void> {
  if (name === 'raw_journal') return; // raw records never decay
  try {
    for (const space of await open.spaces()) await open.fillDecayTable(space, breathe);
  } catch (error) {
    // A close while the pass runs ends it; anything else leaves the work to the first tick.
    const snapshot = actor.getSnapshot();
    if (snapshot.matches('ready') || snapshot.matches('busy')) log(`decay table not filled after start; the first tick will (${String(error)})`);
  }
}

const actor = createActor(
  storeMachine.provide({
    actors: {
      open: fromPromise(async () => {
        try {
          const [opened, created] = await Promise.all([
            Partition.open(data.location, name, { syncWrites: data.syncWrites, cipher }),
            createIndexes(),
          ]);
          partition = opened;
          indexes = created;
          await openIndexes(partition);
        } catch (error) {
          throw (openFailure = openError(error));
        }
        void fillDecayTables(partition);
      }),
      compact: fromPromise(async () => {
        const open = partition!;
        const cutoff = Date.now() - data.idempotencyTtlMs;
        await serialised(async () => {
          // Snapshot first: compaction may drop events a later replay would need.
          await saveSnapshot(open);
          for (const space of await open.spaces()) await open.compact(space, data.keepEvents, cutoff);
        });
      }),
      close: fromPromise(async () => {
        await writeQueue.catch(() => undefined);
        // What the backlog still owes is saved with the snapshot and computed after the next start.
        indexes?.close();
        if (partition) {
          try {
            await saveSnapshot(partition);
          } catch (error) {
            log(`could not save the index snapshot; it will be rebuilt at the next start (${String(error)})`);
          }
          await partition.close();
        }
      }),
    },
  }),
  { input: { compactEvery: data.compactEvery } },
);
actor.start();

/**
 * Why the partition did not open, naming the store, its path and the errno: this is what a start
 * that fails prints (issue 14, defect 7). A failing disk keeps its storage code: retrying in a second
 * will not help. Anything else may be passing (the dead thread's lock) and stays retryable.
 */
function openError(error: unknown): CmpError {
  const message = `${name} store cannot open ${data.location}: ${storageCause(error).text}`;
  const storage = storageError(error);
  return storage ? new CmpError(storage.code, message, { cause: error }) : new CmpError('STORE_UNAVAILABLE', message, { retryAfter: 1, cause: error });
}
let openFailure: CmpError | undefined;

/** Waits while starting; refuses once stopping. Returns the open partition. */
async function ready(): Promise<Partition> {
  const state = await waitFor(actor, (snapshot) => !snapshot.matches('starting'));
  if (state.matches('ready') || state.matches('busy')) return partition!;
  if (state.matches('failed')) {
    throw openFailure ?? new CmpError('STORE_UNAVAILABLE', `${name} store failed to open: ${state.context.error}`, { retryAfter: 1 });
  }
  throw new CmpError('STORE_UNAVAILABLE', `${name} store is stopping`, { retryAfter: 1 });
}

/**
 * Index maintenance of the last applied event, when it is still running. An event's reply goes out as
 * soon as its batch is durable; its index work runs right after, on the worker, while the hippocampus
 * gets on with the next request (it overlaps with the main thread's work instead of adding to every
 * write's latency: about a fifth of an encode). Everything that reads the indexes waits for it first
 * (`indexed()`), and so does the next write, so at most one event's index work is ever pending and a
 * read always sees every acknowledged write. The indexes are views: a worker that dies before this ran
 * replays the event from the log at its next start, as for any write after the last snapshot.
 */
let indexing: Promise<void> = Promise.resolve();
/** Set when index maintenance failed: the indexes miss something, so no snapshot may claim otherwise. */
let indexesStale = false;

/** The indexes, once the index work of every applied event is done. */
async function indexed(): Promise<StoreIndexes> {
  await indexing;
  return indexes;
}

/**
 * Saves the indexes with the aggregates and registry as of the partition's current sequences, unless
 * the indexes are stale (then the next start replays or rebuilds).
 */
async function saveSnapshot(open: Partition): Promise<void> {
  await indexing;
  if (indexesStale) {
    log('index snapshot not saved: index maintenance failed earlier; the next start replays the event log or rebuilds');
    return;
  }
  indexes.save(data.indexDir, await sequences(open), derivedStateToJSON(totals, registry ?? new Map()));
}

/** Applies one event and moves the aggregates and registry with it, and the indexes just after. Callers serialise. */
async function applyEnvelope(
  open: Partition,
  envelope: EventEnvelope,
  vectors?: Record<string, number[]>,
  options: ApplyOptions = {},
): Promise<ApplyReply> {
  await indexing;
  crashPoint('apply:before-write');
  const { outcome, previous, replayed } = await open.apply(envelope, options);
  crashPoint('apply:after-write');
  if (replayed) return { written: [], removed: [], missing: replayed.missing, replayed };
  // Aggregates move by the difference: the old state out, the new state in.
  const spaceTotals = totalsOf(envelope.space);
  for (const record of outcome.removed) {
    countRecord(spaceTotals, record, -1);
    unregister(envelope.space, record.id);
  }
  const written = outcome.writes.map(registryEntryOf);
  for (const [index, record] of outcome.writes.entries()) {
    const old = previous.get(record.id);
    if (old) countRecord(spaceTotals, old, -1);
    countRecord(spaceTotals, record, 1);
    register(envelope.space, written[index]);
  }
  // setImmediate: comlink posts the reply a few microtasks after this returns; the index work must
  // start after that, or it would still delay the reply.
  indexing = new Promise<void>((resolve) => setImmediate(resolve))
    .then(async () => {
      for (const record of outcome.removed) indexes.unindex(envelope.space, record.id);
      await indexes.index(envelope.space, outcome.writes, previous, vectors);
    })
    .catch((error: unknown) => {
      indexesStale = true;
      log(`index maintenance failed for event ${envelope.seq} of space ${envelope.space}; search may miss its records until the next start (${error instanceof Error ? error.message : String(error)})`);
    });
  actor.send({ type: 'APPLIED', count: 1 });
  return {
    written,
    removed: outcome.removed.map((record) => record.id),
    missing: outcome.missing,
  };
}

/** A crash armed by a fault drill (`crashAt`): where, and how many passes of that point to let by. */
let armedCrash: { point: CrashPoint; skip: number } | undefined;

/** Ends the worker here when a drill armed this point (once its skips are used up). */
function crashPoint(point: CrashPoint): void {
  if (armedCrash?.point !== point) return;
  if (armedCrash.skip-- > 0) return;
  log(`fault drill: crashing at ${point}`);
  process.exit(70);
}

function serialised<T>(work: () => Promise<T>): Promise<T> {
  const result = writeQueue.then(work);
  writeQueue = result.catch(() => undefined);
  return result;
}

const api: StoreWorkerApi = {
  async whenReady() {
    return { name, sequences: await sequences(await ready()) };
  },

  async apply(wire, vectors) {
    const open = await ready();
    const { envelope, json } = fromWireEnvelope(wire);
    return serialised(() => applyEnvelope(open, envelope, vectors, { json }));
  },

  async decay(space: string, job: DecayJob): Promise<DecayOutcome> {
    const open = await ready();
    // Outside the write queue: filling the decay table after a start reads every record, and writes go on.
    await open.fillDecayTable(space, breathe);
    const result = await serialised(async () => {
      // The last write's index work first, so the pruned records' unindexing comes after it.
      await indexing;
      // Materialised decay is derived state: fidelity is closed-form, so a tick lost to a power cut is
      // recomputed identically by the next one. It need not wait for fsync like a user's write.
      const tick = await open.decay(space, job, breathe, { sync: false });
      const spaceTotals = totalsOf(space);
      spaceTotals.fidelity_sum += tick.scoreDelta;
      for (const record of tick.removed) {
        countRecord(spaceTotals, record, -1);
        indexes.unindex(space, record.id);
        unregister(space, record.id);
      }
      actor.send({ type: 'APPLIED', count: 1 });
      return tick;
    });
    const pruned = result.removed.map((record) => record.id);
    return { updated: result.evaluated, below_threshold: pruned.length, pruned, fidelity_histogram: fidelityHistogram(result.scores) };
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

  async search(space: string, query: StoreSearchQuery): Promise<StoreSearchResult> {
    const open = await ready();
    const { text_hits, vector_hits } = (await indexed()).search(space, query);
    if (query.withRecords === false) return { text_hits, vector_hits, records: [] };
    const ids = [...new Set([...text_hits.map((hit) => hit.id), ...vector_hits.map((hit) => hit.id)])];
    const records = (await open.getMany(space, ids)).filter((record): record is StoredRecord => record !== undefined);
    return { text_hits, vector_hits, records };
  },

  async similar(space: string, vectors: number[][], k: number, minSimilarity: number) {
    await ready();
    const current = await indexed();
    return vectors.map((vector) => current.search(space, { text: null, vectors: [vector], k, minSimilarity }).vector_hits);
  },

  async similarOf(space: string, ids: string[], k: number, minSimilarity: number) {
    await ready();
    const current = await indexed();
    return ids.map((id) => {
      const vector = current.vectorOf(space, id);
      if (!vector) return current.isPending(space, id) ? null : [];
      return current
        .search(space, { text: null, vectors: [vector], k: k + 1, minSimilarity })
        .vector_hits.filter((hit) => hit.id !== id)
        .slice(0, k);
    });
  },

  async vectorBacklog() {
    await ready();
    return indexes.backlog;
  },

  async recent(space, limit) {
    const open = await ready();
    const ids = await open.idsByRecency(space, limit);
    return (await open.getMany(space, ids)).filter((record): record is StoredRecord => record !== undefined);
  },

  crash() {
    // Exits between two of the worker's tasks, wherever its calls and writes stand: a crash, except
    // that no native call is cut in half (terminate() inside hnswlib's addPoint aborts the process).
    process.exit(70);
  },

  crashAt(point, skip) {
    armedCrash = { point, skip };
  },

  async byIntensity(space, min, max, limit) {
    const open = await ready();
    const found: StoredRecord[] = [];
    if (limit <= 0) return found;
    // A pass over the space's records: an occasional query, so no intensity index is kept up to date.
    for await (const chunk of open.records(space, 1000, skipUnreadable)) {
      for (const record of chunk) {
        if ('store' in record && inIntensityRange(record, min, max)) found.push(record);
        if (found.length === limit) return found;
      }
    }
    return found;
  },

  async createdBetween(space, startMs, endMs, limit) {
    const open = await ready();
    const ids = (await open.idsCreatedBetween(space, startMs, endMs)).slice(0, limit);
    return (await open.getMany(space, ids)).filter((record): record is StoredRecord => record !== undefined);
  },

  async inSession(space, session) {
    const open = await ready();
    const ids = await open.idsInSession(space, session);
    return (await open.getMany(space, ids)).filter((record): record is StoredRecord => record !== undefined);
  },

  async registry() {
    await ready();
    // The raw journal keeps no registry: its records have no associations (the hippocampus never asks).
    return Object.fromEntries([...(registry ?? [])].map(([space, entries]) => [space, [...entries.values()]]));
  },

  async spaces() {
    return (await ready()).spaces();
  },

  async page(space, afterId, limit) {
    return (await ready()).recordsAfter(space, afterId, limit);
  },

  async stats(space): Promise<SpaceStats> {
    const open = await ready();
    const current = await indexed();
    const [oldest] = await open.idsByRecency(space, 1, false);
    const [newest] = await open.idsByRecency(space, 1, true);
    const [oldestRecord, newestRecord] = await open.getMany(space, [oldest, newest].filter((id): id is string => id !== undefined));
    return {
      ...(totals.get(space) ?? emptyAggregates()),
      indexed_vectors: current.vectors.count(space),
      vector_backlog: current.backlogOf(space),
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
