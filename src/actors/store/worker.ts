import { parentPort, workerData } from 'node:worker_threads';
import { createActor, fromPromise, waitFor } from 'xstate';
import { CmpError, storageError } from '../../cmp/errors.js';
import { storageCause } from '../../cmp/storage-cause.js';
import type { PartitionName } from '../../cmp/types.js';
import { connectEmbedder, defersVectors, noEmbedder } from '../../embedding/factory.js';
import { Comlink, installErrorTransfer, nodeEndpoint } from '../../runtime/comlink-node.js';
import { StoreIndexes } from './indexes.js';
import { storeMachine } from './machine.js';
import { Partition } from './partition.js';
import { fromWireEnvelope, type CrashPoint, type StoreWorkerApi, type StoreWorkerData } from './protocol.js';
import { recover, saveSnapshot } from './recovery.js';
import { breathe, stoppingError, StoreCore, storeApiOf } from './store-core.js';
import { ValueCipher } from './value-cipher.js';

// A store actor's worker thread: opens its partition and indexes, runs the life-cycle machine with the
// real effects, and serves the store API (store-core.ts over the LevelDB partition) to the hippocampus
// over comlink. The only file of the store actor that touches worker_threads or comlink.

installErrorTransfer();
const data = workerData as StoreWorkerData;
const name: PartitionName = data.name;
const log = (line: string) => console.error(`${name}: ${line}`);
/** For passes over every record: a damaged one is logged (by key: an id, no text) and passed over. */
const onUnreadable = (key: string, error: unknown) => log(`record ${key} cannot be read and is left out (${error instanceof Error ? error.message : String(error)})`);
const cipher = new ValueCipher(data.storeKey);

/** Set once the partition and its indexes are open. */
let opened: { core: StoreCore; partition: Partition } | undefined;
let openFailure: CmpError | undefined;

/**
 * The indexes over this store's embedder. With the semantic model that is a client of the process's
 * embedding worker (one model for every store, see src/embedding/embed-worker.ts): vectors then follow
 * the write through the store's backlog (indexes.ts). The raw journal has no vectors.
 */
async function createIndexes(): Promise<StoreIndexes> {
  if (name === 'raw_journal') return new StoreIndexes('raw', noEmbedder, data.vectorIndex, cipher);
  const embedder = await connectEmbedder(data.embedding, data.embedPort, 'bulk');
  return new StoreIndexes('curated', embedder, data.vectorIndex, cipher, { deferVectors: defersVectors(embedder), sessionContext: data.embedding.session_context ?? true, log });
}

async function open(): Promise<void> {
  try {
    const [partition, indexes] = await Promise.all([Partition.open(data.location, name, { syncWrites: data.syncWrites, cipher }), createIndexes()]);
    const core = new StoreCore({
      backend: partition,
      indexes,
      // The raw journal's records have no associations: the hippocampus never asks for its registry.
      registry: name !== 'raw_journal',
      deferIndexing: true,
      log,
      onUnreadable,
      onStep: crashPoint,
      onApplied: () => actor.send({ type: 'APPLIED', count: 1 }),
    });
    opened = { core, partition };
    await recover(core, partition, { indexDir: data.indexDir, log, onUnreadable });
    void fillDecayTables(partition).then(() => fillVectorPoints(indexes));
  } catch (error) {
    throw (openFailure = openError(error));
  }
}

/**
 * After a start from the index snapshot (which reads no record), fills the decay tables in the
 * background, so the first tick after a restart does not read every record first (issue 4: 4.7 s at
 * 100,000 records). Reads and writes go on meanwhile; a tick that comes first waits for the pass.
 */
async function fillDecayTables(partition: Partition): Promise<void> {
  if (name === 'raw_journal') return; // raw records never decay
  try {
    for (const space of await partition.spaces()) await partition.fillDecayTable(space, breathe);
  } catch (error) {
    // A close while the pass runs ends it; anything else leaves the work to the first tick.
    const snapshot = actor.getSnapshot();
    if (snapshot.matches('ready') || snapshot.matches('busy')) log(`decay table not filled after start; the first tick will (${String(error)})`);
  }
}

/** Then the vector points recall compares its text hits with (vector-index.ts fillPoints). */
async function fillVectorPoints(indexes: StoreIndexes): Promise<void> {
  try {
    await indexes.vectors.fillPoints(breathe);
  } catch (error) {
    const snapshot = actor.getSnapshot();
    if (snapshot.matches('ready') || snapshot.matches('busy')) log(`vector points not read after start; recalls will read them (${String(error)})`);
  }
}

async function compact(): Promise<void> {
  const { core } = opened!;
  // Snapshot first: compaction may drop events a later replay would need.
  await core.compact(data.keepEvents, Date.now() - data.idempotencyTtlMs, () => saveSnapshot(core, data.indexDir, log));
}

async function close(): Promise<void> {
  if (!opened) return;
  const { core, partition } = opened;
  await core.settled();
  // What the backlog still owes is saved with the snapshot and computed after the next start.
  core.indexes.close();
  try {
    await saveSnapshot(core, data.indexDir, log);
  } catch (error) {
    log(`could not save the index snapshot; it will be rebuilt at the next start (${String(error)})`);
  }
  await partition.close();
}

const actor = createActor(storeMachine.provide({ actors: { open: fromPromise(open), compact: fromPromise(compact), close: fromPromise(close) } }), { input: { compactEvery: data.compactEvery } });
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

/** Waits while starting; refuses once stopping. Returns the open core. */
async function ready(): Promise<StoreCore> {
  const state = await waitFor(actor, (snapshot) => !snapshot.matches('starting'));
  if (opened && (state.matches('ready') || state.matches('busy'))) return opened.core;
  if (state.matches('failed')) {
    throw openFailure ?? new CmpError('STORE_UNAVAILABLE', `${name} store failed to open: ${state.context.error}`, { retryAfter: 1 });
  }
  throw stoppingError(name);
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

const api: StoreWorkerApi = {
  ...storeApiOf({
    name,
    ready,
    compact: async () => {
      actor.send({ type: 'COMPACT' });
      await waitFor(actor, (snapshot) => !snapshot.matches('busy'));
    },
    close: async () => {
      actor.send({ type: 'STOP' });
      await waitFor(actor, (snapshot) => snapshot.status === 'done');
    },
  }),

  async apply(wire, vectors) {
    const core = await ready();
    const { envelope, json } = fromWireEnvelope(wire);
    return core.apply(envelope, vectors, { json });
  },

  crash() {
    // Exits between two of the worker's tasks, wherever its calls and writes stand: a crash, except
    // that no native call is cut in half (terminate() inside hnswlib's addPoint aborts the process).
    process.exit(70);
  },

  crashAt(point, skip) {
    armedCrash = { point, skip };
  },
};

Comlink.expose(api, nodeEndpoint(parentPort!));
