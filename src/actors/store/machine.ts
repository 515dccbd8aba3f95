import { assign, fromPromise, setup } from 'xstate';

// A store actor's life cycle (DESIGN §1). The machine decides; the effects (opening the partition,
// compacting, closing) are named here and provided by the worker with `machine.provide`, so tests can
// drive the machine with fakes. Calls made while `starting` wait for `ready`; calls after `stopping`
// fail as retryable (src/actors/store/worker.ts).

export interface StoreMachineContext {
  /** Events applied since the last compaction. */
  appliedSinceCompaction: number;
  /** Compact after this many applied events. */
  compactEvery: number;
  error: string | null;
}

export type StoreMachineEvent = { type: 'APPLIED'; count: number } | { type: 'COMPACT' } | { type: 'STOP' };

export const storeMachine = setup({
  types: {
    context: {} as StoreMachineContext,
    events: {} as StoreMachineEvent,
    input: {} as { compactEvery: number },
  },
  actors: {
    open: fromPromise<void>(async () => {
      throw new Error('store machine: the open effect was not provided');
    }),
    compact: fromPromise<void>(async () => {
      throw new Error('store machine: the compact effect was not provided');
    }),
    close: fromPromise<void>(async () => {
      throw new Error('store machine: the close effect was not provided');
    }),
  },
  guards: {
    compactionDue: ({ context }) => context.compactEvery > 0 && context.appliedSinceCompaction >= context.compactEvery,
  },
}).createMachine({
  id: 'store',
  context: ({ input }) => ({ appliedSinceCompaction: 0, compactEvery: input.compactEvery, error: null }),
  initial: 'starting',
  states: {
    starting: {
      invoke: {
        src: 'open',
        onDone: 'ready',
        onError: { target: 'failed', actions: assign({ error: ({ event }) => String(event.error) }) },
      },
      on: { STOP: 'stopped' },
    },
    ready: {
      always: { guard: 'compactionDue', target: 'busy.compacting' },
      on: {
        APPLIED: { actions: assign({ appliedSinceCompaction: ({ context, event }) => context.appliedSinceCompaction + event.count }) },
        COMPACT: 'busy.compacting',
        STOP: 'stopping',
      },
    },
    busy: {
      initial: 'compacting',
      // Reads and writes keep being served while busy; only another background job waits.
      on: {
        APPLIED: { actions: assign({ appliedSinceCompaction: ({ context, event }) => context.appliedSinceCompaction + event.count }) },
      },
      states: {
        compacting: {
          entry: assign({ appliedSinceCompaction: 0 }),
          invoke: { src: 'compact', onDone: '#store.ready', onError: '#store.ready' },
          on: { STOP: '#store.stopping' },
        },
      },
    },
    stopping: {
      invoke: { src: 'close', onDone: 'stopped', onError: 'stopped' },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
