import { assign, fromCallback, fromPromise, setup } from 'xstate';
import type { BackgroundJob, BackgroundSettings } from './background.js';

// The hippocampus's life cycle: it loads the association graph from the stores before it serves, and
// refuses new operations once it is stopping, while operations already running finish. While `ready`,
// each background job (decay, dream) is a region: `off`, or `on` with an invoked timer (the injected
// Scheduler, so tests fire it by hand) and, when due, the run itself as an invoked actor. A run still
// going when the next is due is not doubled (`running` ignores BACKGROUND.DUE); a failed run is
// logged and the job stays on. Leaving `ready` stops every timer.

export interface HippocampusContext {
  background: Partial<Record<BackgroundJob, BackgroundSettings>>;
}

export type HippocampusEvent =
  | { type: 'STOP' }
  | { type: 'BACKGROUND.START'; job: BackgroundJob; settings: BackgroundSettings }
  /** Without `job`: every job. */
  | { type: 'BACKGROUND.STOP'; job?: BackgroundJob }
  | { type: 'BACKGROUND.DUE'; job: BackgroundJob };

type JobParams = { job: BackgroundJob };

export const hippocampusMachine = setup({
  types: {
    context: {} as HippocampusContext,
    events: {} as HippocampusEvent,
  },
  actors: {
    load: fromPromise<void>(async () => {
      throw new Error('hippocampus machine: the load effect was not provided');
    }),
    runJob: fromPromise<void, JobParams>(async () => {
      throw new Error('hippocampus machine: the runJob effect was not provided');
    }),
    timer: fromCallback<HippocampusEvent, JobParams & { settings: BackgroundSettings }>(({ sendBack, input }) =>
      input.settings.scheduler.every(input.settings.intervalMs, () => sendBack({ type: 'BACKGROUND.DUE', job: input.job })),
    ),
  },
  guards: {
    concerns: ({ event }, { job }: JobParams) => (event.type === 'BACKGROUND.STOP' ? event.job === undefined || event.job === job : 'job' in event && event.job === job),
  },
  actions: {
    keepSettings: assign(({ context, event }, { job }: JobParams) => (event.type === 'BACKGROUND.START' ? { background: { ...context.background, [job]: event.settings } } : {})),
    reportFailure: ({ context, event }, { job }: JobParams) => {
      const error = 'error' in event ? event.error : undefined;
      context.background[job]?.log(`background ${job} failed: ${String(error)}`);
    },
  },
}).createMachine({
  id: 'hippocampus',
  context: { background: {} },
  initial: 'starting',
  states: {
    starting: {
      invoke: { src: 'load', onDone: 'ready', onError: 'failed' },
      on: { STOP: 'stopped' },
    },
    ready: {
      type: 'parallel',
      on: { STOP: 'stopped' },
      states: { decay: jobRegion('decay'), dream: jobRegion('dream') },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
});

/** One background job's region of `ready`. Starting a job that is on restarts it with the new settings. */
function jobRegion(job: BackgroundJob) {
  const concerns = { type: 'concerns', params: { job } } as const;
  const keepSettings = { type: 'keepSettings', params: { job } } as const;
  return {
    initial: 'off',
    states: {
      off: { on: { 'BACKGROUND.START': { guard: concerns, target: 'on', actions: keepSettings } } },
      on: {
        invoke: { src: 'timer', input: ({ context }: { context: HippocampusContext }) => ({ job, settings: context.background[job]! }) },
        on: {
          'BACKGROUND.START': { guard: concerns, target: 'on', reenter: true, actions: keepSettings },
          'BACKGROUND.STOP': { guard: concerns, target: 'off' },
        },
        initial: 'idle',
        states: {
          idle: { on: { 'BACKGROUND.DUE': { guard: concerns, target: 'running' } } },
          running: {
            invoke: { src: 'runJob', input: { job }, onDone: 'idle', onError: { target: 'idle', actions: { type: 'reportFailure', params: { job } } } },
          },
        },
      },
    },
  } as const;
}
