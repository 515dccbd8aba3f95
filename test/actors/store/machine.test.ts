import { describe, it, expect } from 'vitest';
import { createActor, fromPromise, waitFor } from 'xstate';
import { storeMachine } from '../../../src/actors/store/machine.js';

// The effects are fakes whose promises the test settles by hand: every transition below happens
// because the test said so, never because time passed.

interface Gate {
  resolve: () => void;
  reject: (reason: unknown) => void;
}

function fakeEffects() {
  const calls = { open: [] as Gate[], compact: [] as Gate[], close: [] as Gate[] };
  const effect = (gates: Gate[]) => fromPromise<void>(() => new Promise<void>((resolve, reject) => gates.push({ resolve, reject })));
  const machine = storeMachine.provide({
    actors: { open: effect(calls.open), compact: effect(calls.compact), close: effect(calls.close) },
  });
  return { calls, machine };
}

async function readyActor(compactEvery = 3) {
  const { calls, machine } = fakeEffects();
  const actor = createActor(machine, { input: { compactEvery } });
  actor.start();
  calls.open[0].resolve();
  await waitFor(actor, (snapshot) => snapshot.matches('ready'));
  return { actor, calls };
}

describe('starting', () => {
  it('waits in starting until open resolves, then is ready', async () => {
    const { calls, machine } = fakeEffects();
    const actor = createActor(machine, { input: { compactEvery: 3 } });
    actor.start();

    expect(actor.getSnapshot().value).toBe('starting');
    expect(calls.open).toHaveLength(1);

    calls.open[0].resolve();
    await waitFor(actor, (snapshot) => snapshot.matches('ready'));
    expect(actor.getSnapshot().context.error).toBeNull();
  });

  it('fails with the error when open rejects', async () => {
    const { calls, machine } = fakeEffects();
    const actor = createActor(machine, { input: { compactEvery: 3 } });
    actor.start();

    calls.open[0].reject(new Error('disk on fire'));
    const snapshot = await waitFor(actor, (state) => state.status === 'done');

    expect(snapshot.value).toBe('failed');
    expect(snapshot.context.error).toContain('disk on fire');
  });

  it('STOP while starting ends stopped', async () => {
    const { machine } = fakeEffects();
    const actor = createActor(machine, { input: { compactEvery: 3 } });
    actor.start();

    actor.send({ type: 'STOP' });

    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });
});

describe('compaction', () => {
  it('stays ready while fewer than compactEvery events were applied', async () => {
    const { actor, calls } = await readyActor(3);

    actor.send({ type: 'APPLIED', count: 1 });
    actor.send({ type: 'APPLIED', count: 1 });

    expect(actor.getSnapshot().value).toBe('ready');
    expect(actor.getSnapshot().context.appliedSinceCompaction).toBe(2);
    expect(calls.compact).toHaveLength(0);
  });

  it('moves to busy.compacting when applied events reach compactEvery, then back to ready', async () => {
    const { actor, calls } = await readyActor(3);

    actor.send({ type: 'APPLIED', count: 1 });
    actor.send({ type: 'APPLIED', count: 2 });

    expect(actor.getSnapshot().value).toEqual({ busy: 'compacting' });
    expect(actor.getSnapshot().context.appliedSinceCompaction).toBe(0);
    expect(calls.compact).toHaveLength(1);

    calls.compact[0].resolve();
    await waitFor(actor, (snapshot) => snapshot.matches('ready'));
    expect(calls.compact).toHaveLength(1);
  });

  it('returns to ready when compaction fails', async () => {
    const { actor, calls } = await readyActor(1);
    actor.send({ type: 'APPLIED', count: 1 });

    calls.compact[0].reject(new Error('compaction failed'));
    await waitFor(actor, (snapshot) => snapshot.matches('ready'));
    expect(actor.getSnapshot().status).toBe('active');
  });

  it('counts events applied while compacting and compacts again if they are due', async () => {
    const { actor, calls } = await readyActor(2);
    actor.send({ type: 'APPLIED', count: 2 });
    actor.send({ type: 'APPLIED', count: 2 });
    expect(actor.getSnapshot().context.appliedSinceCompaction).toBe(2);

    calls.compact[0].resolve();
    await waitFor(actor, () => calls.compact.length === 2);
    expect(actor.getSnapshot().value).toEqual({ busy: 'compacting' });
  });

  it('COMPACT compacts on demand', async () => {
    const { actor, calls } = await readyActor(100);
    actor.send({ type: 'COMPACT' });

    expect(actor.getSnapshot().value).toEqual({ busy: 'compacting' });
    expect(calls.compact).toHaveLength(1);
  });

  it('compactEvery 0 never compacts by itself', async () => {
    const { actor, calls } = await readyActor(0);
    actor.send({ type: 'APPLIED', count: 1_000 });

    expect(actor.getSnapshot().value).toBe('ready');
    expect(calls.compact).toHaveLength(0);
  });
});

describe('stopping', () => {
  it('STOP in ready closes, then the actor is stopped and done', async () => {
    const { actor, calls } = await readyActor();

    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('stopping');
    expect(calls.close).toHaveLength(1);

    calls.close[0].resolve();
    const snapshot = await waitFor(actor, (state) => state.status === 'done');
    expect(snapshot.value).toBe('stopped');
  });

  it('STOP while compacting goes to stopping', async () => {
    const { actor, calls } = await readyActor();
    actor.send({ type: 'COMPACT' });

    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('stopping');
    expect(calls.close).toHaveLength(1);
  });

  it('a close that fails still ends stopped', async () => {
    const { actor, calls } = await readyActor();
    actor.send({ type: 'STOP' });

    calls.close[0].reject(new Error('close failed'));
    const snapshot = await waitFor(actor, (state) => state.status === 'done');
    expect(snapshot.value).toBe('stopped');
  });
});
