import { createActor, fromPromise, waitFor } from 'xstate';
import type { MemoryRecord } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import { defersVectors } from '../../embedding/factory.js';
import { StoreIndexes } from '../store/indexes.js';
import { storeMachine } from '../store/machine.js';
import { MemoryPartition } from '../store/memory-partition.js';
import type { StoreApi } from '../store/protocol.js';
import { stoppingError, StoreCore, storeApiOf } from '../store/store-core.js';
import { lruCapacity } from './capacity.js';

// Working memory (spec §2.6): the same store actor — same machine, same core (store-core.ts), same
// events — over a backend in RAM (memory-partition.ts) on the main thread, never persisted. What is
// its own: the capacity (Miller's 7 by default) and LRU eviction by last access (capacity.ts).

export interface WorkingStoreOptions {
  /** Records per space, at least 1. */
  capacity: number;
  idempotencyTtlMs: number;
  embedder: Embedder;
  /** Embed a memory with the one before it in its session (indexes.ts); default true. */
  sessionContext?: boolean;
}

/** Working memory keeps no event log to trim: compaction only drops idempotency entries past their time. */
const NO_EVENTS = 0;

export function createWorkingStore(options: WorkingStoreOptions): StoreApi<MemoryRecord> {
  const core = new StoreCore<MemoryRecord>({
    backend: new MemoryPartition({ capacity: lruCapacity(options.capacity) }),
    // Working memory runs on the main thread: a costly embedder (the model, in its own worker) is
    // awaited in the background there too, so a write never waits for a vector.
    indexes: new StoreIndexes('curated', options.embedder, { initialCapacity: 16 }, undefined, { deferVectors: defersVectors(options.embedder), sessionContext: options.sessionContext ?? true }),
    registry: true,
    deferIndexing: false,
    log: (line) => console.error(`working: ${line}`),
    onApplied: () => actor.send({ type: 'APPLIED', count: 1 }),
  });
  const actor = createActor(
    storeMachine.provide({
      actors: {
        open: fromPromise<void>(async () => {}),
        compact: fromPromise<void>(() => core.compact(NO_EVENTS, Date.now() - options.idempotencyTtlMs)),
        close: fromPromise<void>(async () => {
          await core.settled();
          core.indexes.close();
          await core.backend.close();
        }),
      },
    }),
    { input: { compactEvery: 1000 } },
  );
  actor.start();

  return storeApiOf({
    name: 'working',
    /** Like a worker's store: calls made while starting wait; calls after stopping fail retryable. */
    async ready() {
      const snapshot = await waitFor(actor, (state) => !state.matches('starting'));
      if (!snapshot.matches('ready') && !snapshot.matches('busy')) throw stoppingError('working');
      return core;
    },
    async compact() {
      actor.send({ type: 'COMPACT' });
      await waitFor(actor, (snapshot) => !snapshot.matches('busy'));
    },
    async close() {
      actor.send({ type: 'STOP' });
      await waitFor(actor, (snapshot) => snapshot.status === 'done');
    },
  });
}
