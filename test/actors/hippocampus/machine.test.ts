import { describe, expect, it } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import type { BackgroundJob } from '../../../src/actors/hippocampus/background.js';
import { hippocampusMachine } from '../../../src/actors/hippocampus/machine.js';
import { ManualScheduler } from '../../helpers/scheduler.js';

// The background jobs as invoked actors of the hippocampus machine (issue 18, move 1), timed by a
// ManualScheduler: nothing sleeps, every interval is fired by hand.

/** A machine whose runs wait until the test settles them. */
async function started() {
  const runs: { job: BackgroundJob; settle: (error?: Error) => void }[] = [];
  const runJob = fromPromise<void, { job: BackgroundJob }>(
    ({ input }) => new Promise<void>((resolve, reject) => runs.push({ job: input.job, settle: (error) => (error ? reject(error) : resolve()) })),
  );
  const actor = createActor(hippocampusMachine.provide({ actors: { load: fromPromise(async () => {}), runJob } }));
  actor.start();
  await waitFor(actor, (snapshot) => snapshot.matches('ready'));
  const on = (job: BackgroundJob) => actor.getSnapshot().matches({ ready: { [job]: 'on' } } as { ready: { decay: 'on' } });
  const lines: string[] = [];
  const scheduler = new ManualScheduler();
  const start = (job: BackgroundJob, intervalMs = 1000) => actor.send({ type: 'BACKGROUND.START', job, settings: { intervalMs, scheduler, log: (line) => lines.push(line) } });
  return { actor, runs, on, lines, scheduler, start };
}

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('background jobs of the hippocampus machine', () => {
  it('are off until started, then run each time their interval is fired', async () => {
    const { runs, on, scheduler, start } = await started();
    expect([on('decay'), on('dream'), scheduler.intervals]).toEqual([false, false, []]);
    start('decay', 200);
    expect([on('decay'), on('dream'), scheduler.intervals]).toEqual([true, false, [200]]);
    scheduler.fire();
    expect(runs.map((run) => run.job)).toEqual(['decay']);
    runs[0].settle();
    await settled();
    scheduler.fire();
    expect(runs.map((run) => run.job)).toEqual(['decay', 'decay']);
  });

  it('a run still going when the next is due is not doubled', async () => {
    const { runs, scheduler, start } = await started();
    start('dream');
    scheduler.fire();
    scheduler.fire();
    expect(runs).toHaveLength(1);
  });

  it('a failed run is logged and the job stays on', async () => {
    const { runs, on, lines, scheduler, start } = await started();
    start('decay');
    scheduler.fire();
    runs[0].settle(new Error('disk full'));
    await settled();
    expect(lines).toEqual(['background decay failed: Error: disk full']);
    expect(on('decay')).toBe(true);
    scheduler.fire();
    expect(runs).toHaveLength(2);
  });

  it('stops one job, every job, and every timer when the hippocampus stops', async () => {
    const { actor, on, scheduler, start } = await started();
    start('decay', 100);
    start('dream', 200);
    actor.send({ type: 'BACKGROUND.STOP', job: 'decay' });
    expect([on('decay'), on('dream'), scheduler.intervals]).toEqual([false, true, [200]]);
    actor.send({ type: 'BACKGROUND.STOP' });
    expect([on('dream'), scheduler.intervals]).toEqual([false, []]);
    start('decay');
    actor.send({ type: 'STOP' });
    expect([actor.getSnapshot().value, scheduler.intervals]).toEqual(['stopped', []]);
  });

  it('starting a job that is on restarts it with the new interval', async () => {
    const { scheduler, start } = await started();
    start('decay', 100);
    start('decay', 300);
    expect(scheduler.intervals).toEqual([300]);
  });
});
