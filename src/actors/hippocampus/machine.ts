import { fromPromise, setup } from 'xstate';

// The hippocampus's life cycle: it loads the association graph from the stores before it serves, and
// refuses new operations once it is stopping, while operations already running finish. Background jobs
// (decay, dream ticks) will be invoked actors of `ready`.

export const hippocampusMachine = setup({
  types: {
    events: {} as { type: 'STOP' },
  },
  actors: {
    load: fromPromise<void>(async () => {
      throw new Error('hippocampus machine: the load effect was not provided');
    }),
  },
}).createMachine({
  id: 'hippocampus',
  initial: 'starting',
  states: {
    starting: {
      invoke: { src: 'load', onDone: 'ready', onError: 'failed' },
      on: { STOP: 'stopped' },
    },
    ready: { on: { STOP: 'stopped' } },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});
