import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/recall.js';
import { ManualScheduler } from '../../helpers/scheduler.js';
import { removeDir, startTestServer, textContent, textOfRecord, sharedServer, type TestServer } from '../../helpers/server.js';

// Living dynamics through a real server: closed-form decay ticks, pruning, forecasts, reconsolidation
// over simulated time, and the recall mode. The server's clock is injected, so a month passes at once.

const DAY = 86_400;
let clock = Date.parse('2026-01-01T00:00:00.000Z');
const server = sharedServer({ now: () => clock });

const store = async (space: string, text: string, extra: Record<string, unknown> = {}) =>
  (await server.call('POST', '/v1/encode', { space, content: textContent(text), store: 'episodic', ...extra })).body.record_id as string;
const inspect = async (space: string, id: string) => (await server.call('GET', `/v1/introspect/record/${id}?space=${space}`)).body;
const tick = async (space: string, seconds: number) => (await server.call('POST', '/v1/lifecycle/decay-tick', { space, tick_duration_seconds: seconds })).body;

describe('lifecycle.decay_tick', () => {
  it('lowers fidelity and adds noise after a simulated week (P1-2)', async () => {
    const id = await store('week', 'the quarterly planning meeting ran long');
    const result = await tick('week', 7 * DAY);
    expect(result).toEqual({ records_updated: 1, records_below_threshold: 0, records_pruned: 0 });
    const record = await inspect('week', id);
    expect(record.fidelity.score).toBeLessThan(1);
    expect(record.fidelity.noise_level).toBeGreaterThan(0);
  });

  it('gives the same fidelity for one tick of a day and 1,440 ticks of a minute', async () => {
    const once = await store('tick-once', 'a memory decayed in one step');
    const often = await store('tick-often', 'a memory decayed in many steps');
    await server.runtime.hippocampus.decayTick({ space: 'tick-once', tick_duration_seconds: DAY });
    for (let minute = 0; minute < 1440; minute++) {
      await server.runtime.hippocampus.decayTick({ space: 'tick-often', tick_duration_seconds: 60 });
    }
    const a = (await inspect('tick-once', once)).fidelity.score;
    const b = (await inspect('tick-often', often)).fidelity.score;
    expect(a).toBeLessThan(1);
    expect(Math.abs(a - b)).toBeLessThan(1e-6);
  }, 120_000);

  it('reaches every record of a store larger than one chunk (regression: short LevelDB reads)', async () => {
    for (let offset = 0; offset < 1200; offset += 400) {
      const records = Array.from({ length: 400 }, (_, index) => ({ content: textContent(`bulk memory ${offset + index}`), store: 'semantic' }));
      expect((await server.call('POST', '/v1/encode/batch', { space: 'bulk-tick', records })).status).toBe(200);
    }
    expect(await tick('bulk-tick', DAY)).toEqual({ records_updated: 1200, records_below_threshold: 0, records_pruned: 0 });
  });

  it('keeps an untouched episodic memory recallable after 30 days', async () => {
    const id = await store('month', 'the keys are in the blue drawer');
    await tick('month', 30 * DAY);
    const record = await inspect('month', id);
    expect(record.fidelity.score).toBeGreaterThan(0.01);
    const recalled = await server.call('POST', '/v1/recall/query', { space: 'month', cue: { text: 'blue drawer keys' }, reconsolidate: false });
    expect(recalled.body.memories[0].record.id).toBe(id);
  });

  it('lets an emotional memory outlive its neutral twin', async () => {
    const neutral = await store('twins', 'we met at the old harbour');
    const emotional = await store('twins', 'we met at the old harbour, I was terrified', { emotion: { fear: 1, intensity: 1, valence: -0.8 } });
    await tick('twins', 30 * DAY);
    expect((await inspect('twins', emotional)).fidelity.score).toBeGreaterThan((await inspect('twins', neutral)).fidelity.score);
  });

  it('agrees with decay_forecast for the same moment (P4-6)', async () => {
    const id = await store('forecast', 'a record to forecast');
    const at = new Date(clock + DAY * 1000).toISOString();
    const { body } = await server.call('POST', '/v1/introspect/decay-forecast', { space: 'forecast', record_ids: [id], forecast_at: at });
    expect(body.forecasts[0]).toMatchObject({ record_id: id, current_fidelity: 1 });
    await tick('forecast', DAY);
    const actual = (await inspect('forecast', id)).fidelity.score;
    expect(Math.abs(body.forecasts[0].forecasted_fidelity - actual)).toBeLessThan(0.01);
    // Episodic defaults (d 0.3, S0 one day) reach 0.01 only after millennia: beyond the 10-year horizon.
    expect(body.forecasts[0].estimated_threshold_date).toBeNull();
  });

  it('answers RECORD_NOT_FOUND when a forecast names an unknown record', async () => {
    const { status, body } = await server.call('POST', '/v1/introspect/decay-forecast', {
      space: 'forecast',
      record_ids: ['0190a4b1-0000-7000-8000-000000000000'],
      forecast_at: new Date(clock).toISOString(),
    });
    expect(status).toBe(404);
    expect(body.code).toBe('RECORD_NOT_FOUND');
  });

  it('rejects a negative duration naming the field', async () => {
    const { status, body } = await server.call('POST', '/v1/lifecycle/decay-tick', { space: 'bad', tick_duration_seconds: -5 });
    expect(status).toBe(400);
    expect(body.details.field).toBe('tick_duration_seconds');
  });
});

describe('persistence of a tick', () => {
  /** `first` on a server over a fresh data dir, then `second` on a server started over the same dir once that one closed. */
  async function acrossRestart<T>(first: (server: TestServer) => Promise<T>, second: (server: TestServer, before: T) => Promise<void>): Promise<void> {
    const one = await startTestServer({ now: () => clock });
    try {
      const before = await first(one);
      await one.close();
      const two = await startTestServer({ dataDir: one.dataDir, now: () => clock });
      try {
        await second(two, before);
      } finally {
        await two.close();
      }
    } finally {
      await one.close();
      removeDir(one.dataDir);
    }
  }

  it('keeps fidelity and stats across a restart: the tick, a write after it and the aggregates', async () => {
    const records = async (server: TestServer, ids: string[]) => Promise.all(ids.map(async (id) => (await server.call('GET', `/v1/introspect/record/${id}?space=restart`)).body));
    await acrossRestart(
      async (first) => {
        const encode = async (text: string, store: string) => (await first.call('POST', '/v1/encode', { space: 'restart', content: textContent(text), store })).body.record_id as string;
        const ids = [await encode('the ferry leaves at nine', 'episodic'), await encode('paris is the capital of france', 'semantic'), await encode('how to reset the router', 'procedural')];
        await first.runtime.hippocampus.decayTick({ space: 'restart', tick_duration_seconds: 20 * DAY });
        await first.call('PATCH', `/v1/encode/${ids[0]}`, { space: 'restart', metadata: { checked: true } });
        const before = await records(first, ids);
        expect(before[1].fidelity.score).toBeLessThan(1);
        expect(before[0].metadata).toEqual({ checked: true });
        const stats = (await first.call('GET', '/v1/introspect/stats?space=restart')).body;
        expect(stats.avg_fidelity).toBeLessThan(1);
        return { ids, before, stats };
      },
      async (second, { ids, before, stats }) => {
        expect(await records(second, ids)).toEqual(before);
        const again = (await second.call('GET', '/v1/introspect/stats?space=restart')).body;
        // Read back at start (index snapshot, or a pass over the records), equal to what the tick moved incrementally.
        expect(again.avg_fidelity).toBeCloseTo(stats.avg_fidelity, 12);
        expect(again.avg_fidelity_by_store).toEqual(Object.fromEntries(Object.entries(stats.avg_fidelity_by_store).map(([k, v]) => [k, expect.closeTo(v as number, 12)])));
      },
    );
  });

  it('a pruning tick replayed after a crash keeps the pruned record out of the text index', async () => {
    await acrossRestart(
      // Closing the first server saves the index snapshot that holds the record.
      async (first) => (await first.call('POST', '/v1/encode', { space: 'crash', content: textContent('the quokka smiled at the camera'), store: 'episodic' })).body.record_id as string,
      async (second, quokka) => {
        const episodic = second.runtime.workers.get('episodic')!;
        const hits = async () => (await episodic.api.search('crash', { text: 'quokka', vectors: [], k: 10, minSimilarity: 0 })).text_hits.map((hit) => hit.id);
        expect(await hits()).toEqual([quokka]);
        // 100,000 years from its own clock: far below the prune threshold.
        const tick = await second.runtime.hippocampus.decayTick({ space: 'crash', tick_duration_seconds: 100_000 * 365 * DAY });
        expect(tick.records_pruned).toBe(1);
        expect(await hits()).toEqual([]);
        // A crash: no snapshot is saved, so the restarted worker loads the older one and replays the tick's event.
        await episodic.kill();
        await waitFor(async () => ((await second.call('GET', '/readiness')).status === 200 ? true : undefined), 20_000, 'the episodic worker back');
        expect(await hits()).toEqual([]);
      },
    );
  });

  it('a tick after a restart (state from the index snapshot, no pass over the records) equals one without the restart', async () => {
    const texts = [
      ['the ferry leaves at nine', 'episodic'],
      ['paris is the capital of france', 'semantic'],
      ['how to reset the router', 'procedural'],
    ];
    const run = async (restart: boolean) => {
      let server = await startTestServer({ now: () => clock });
      const dataDir = server.dataDir;
      try {
        const ids: string[] = [];
        for (const [text, store] of texts) {
          ids.push((await server.call('POST', '/v1/encode', { space: 'again', content: textContent(text), store })).body.record_id as string);
        }
        await server.runtime.hippocampus.decayTick({ space: 'again', tick_duration_seconds: 10 * DAY });
        if (restart) {
          await server.close();
          server = await startTestServer({ dataDir, now: () => clock });
        }
        const tick = await server.runtime.hippocampus.decayTick({ space: 'again', tick_duration_seconds: 10 * DAY });
        const scores = await Promise.all(ids.map(async (id) => (await server.call('GET', `/v1/introspect/record/${id}?space=again`)).body.fidelity.score as number));
        const stats = (await server.call('GET', '/v1/introspect/stats?space=again')).body;
        return { updated: tick.records_updated, scores, avg: stats.avg_fidelity as number };
      } finally {
        await server.close();
        removeDir(dataDir);
      }
    };
    const straight = await run(false);
    const restarted = await run(true);
    expect(straight.scores[1]).toBeLessThan(1);
    expect(restarted.updated).toBe(straight.updated);
    restarted.scores.forEach((score, index) => expect(score).toBeCloseTo(straight.scores[index]!, 12));
    expect(restarted.avg).toBeCloseTo(straight.avg, 12);
  });
});

describe('pruning', () => {
  it('deletes records below the prune threshold and strips links that pointed at them', async () => {
    const prunable = await startTestServer({
      now: () => clock,
      flags: { stores: { semantic: { decay_exponent: 3, initial_stability_secs: 60, prune_threshold: 0.05 } } },
    });
    try {
      const fading = (await prunable.call('POST', '/v1/encode', { content: textContent('fleeting fact'), store: 'semantic' })).body.record_id;
      const keeper = (
        await prunable.call('POST', '/v1/encode', {
          content: textContent('a lasting episode'),
          store: 'episodic',
          associations: [{ target_id: fading, association_type: 'causal', weight: 0.9 }],
        })
      ).body.record_id;
      const forecast = await prunable.call('POST', '/v1/introspect/decay-forecast', { record_ids: [fading], forecast_at: new Date(clock).toISOString() });
      const crossing = Date.parse(forecast.body.forecasts[0].estimated_threshold_date);
      expect(crossing).toBeGreaterThan(clock);
      expect(crossing).toBeLessThan(clock + DAY * 1000);
      const { body } = await prunable.call('POST', '/v1/lifecycle/decay-tick', { tick_duration_seconds: DAY });
      expect(body).toMatchObject({ records_updated: 2, records_below_threshold: 1, records_pruned: 1 });
      expect((await prunable.call('GET', `/v1/introspect/record/${fading}`)).status).toBe(404);
      expect((await prunable.call('GET', `/v1/introspect/record/${keeper}`)).body.associations).toEqual([]);
    } finally {
      await prunable.close();
      removeDir(prunable.dataDir);
    }
  });
});

describe('reconsolidation over a simulated month', () => {
  it('keeps a memory recalled 5 times fresher than its untouched twin', async () => {
    const start = clock;
    const recalled = await store('rehearse', 'the wifi password is on the fridge');
    const twin = await store('rehearse-twin', 'the wifi password is on the fridge');
    for (let week = 1; week <= 5; week++) {
      clock = start + week * 6 * DAY * 1000;
      const answer = await server.call('POST', '/v1/recall/query', { space: 'rehearse', cue: { text: 'wifi password fridge' } });
      expect(answer.body.memories[0].record.id).toBe(recalled);
      expect(answer.body.memories[0].record.access_count).toBe(week);
      // Reconsolidation is written after the answer; wait for it to land before the next week's recall.
      await waitFor(async () => ((await inspect('rehearse', recalled)).access_count >= week ? true : undefined), 30_000, 'the reconsolidation write');
    }
    clock = start + 30 * DAY * 1000;
    const at = new Date(clock).toISOString();
    const forecasts = async (space: string, id: string) =>
      (await server.call('POST', '/v1/introspect/decay-forecast', { space, record_ids: [id], forecast_at: at })).body.forecasts[0].forecasted_fidelity;
    const rehearsed = await forecasts('rehearse', recalled);
    const untouched = await forecasts('rehearse-twin', twin);
    expect(rehearsed).toBeGreaterThan(untouched);
    const record = await inspect('rehearse', recalled);
    expect(record.fidelity.reinforcement_count).toBe(5);
    expect(record.fidelity.stability).toBeGreaterThan(DAY);
    clock = start;
  });
});

describe('recall mode', () => {
  it('renders decayed text with gaps in human mode and byte for byte in perfect mode (P1-8)', async () => {
    const sentence = 'the old lighthouse keeper painted every stair a different colour before the winter storms came';
    const id = await store('mode', sentence);
    await tick('mode', 90 * DAY);
    expect((await inspect('mode', id)).fidelity.score).toBeLessThan(0.5);
    const recall = async (mode: string) =>
      (await server.call('POST', '/v1/recall/query', { space: 'mode', cue: { text: 'lighthouse keeper stair colour' }, include_decayed: true, reconsolidate: false, recall_mode: mode })).body
        .memories[0];
    const human = await recall('human');
    expect(textOfRecord({ content: human.rendered_content })).not.toBe(sentence);
    expect(textOfRecord({ content: human.rendered_content })).toContain('...');
    expect(textOfRecord({ content: (await recall('perfect')).rendered_content })).toBe(sentence);

    expect((await server.call('PUT', '/v1/lifecycle/mode', { mode: 'perfect' })).status).toBe(204);
    expect(textOfRecord({ content: (await recall('human')).rendered_content })).toBe(sentence);
    await server.call('PUT', '/v1/lifecycle/mode', { mode: 'human' });
  });

  it('sets the mode of the named stores only', async () => {
    const sentence = 'a procedure that has faded a great deal over many seasons of disuse and neglect';
    const procedural = (await server.call('POST', '/v1/encode', { space: 'scoped', content: textContent(sentence), store: 'procedural' })).body.record_id;
    await server.runtime.hippocampus.decayTick({ space: 'scoped', tick_duration_seconds: 3650 * DAY });
    expect((await server.call('PUT', '/v1/lifecycle/mode', { mode: 'perfect', scope: ['procedural'] })).status).toBe(204);
    expect(server.runtime.hippocampus.modeOf('procedural')).toBe('perfect');
    expect(server.runtime.hippocampus.modeOf('episodic')).toBe('human');
    const recalled = await server.call('POST', '/v1/recall/query', { space: 'scoped', cue: { text: 'faded procedure seasons' }, reconsolidate: false, include_decayed: true });
    expect(recalled.body.memories[0].record.id).toBe(procedural);
    expect(textOfRecord({ content: recalled.body.memories[0].rendered_content })).toBe(sentence);
    await server.call('PUT', '/v1/lifecycle/mode', { mode: 'human' });
    expect(server.runtime.hippocampus.modeOf('procedural')).toBe('human');
  });

  it('keeps the mode across a restart', async () => {
    const first = await startTestServer();
    await first.call('PUT', '/v1/lifecycle/mode', { mode: 'perfect' });
    await first.close();
    const second = await startTestServer({ dataDir: first.dataDir });
    try {
      expect(second.runtime.hippocampus.mode).toBe('perfect');
    } finally {
      await second.close();
      removeDir(first.dataDir);
    }
  });
});

describe('evolution', () => {
  it('adjusts episodic parameters after heavy decay, applies and persists them (P4-7)', async () => {
    const tuned = await startTestServer({ now: () => clock });
    try {
      for (let index = 0; index < 10; index++) await tuned.call('POST', '/v1/encode', { content: textContent(`episode ${index}`), store: 'episodic' });
      await tuned.call('POST', '/v1/lifecycle/decay-tick', { tick_duration_seconds: 365 * DAY });
      const { body } = await tuned.call('GET', '/v1/introspect/evolution');
      const episodic = body.parameter_adjustments.filter((adjustment: { store: string }) => adjustment.store === 'episodic');
      expect(episodic.length).toBeGreaterThan(0);
      for (const adjustment of episodic) expect(adjustment.current_value).toBeLessThan(adjustment.original_value);
      expect(body.detected_patterns.some((pattern: string) => pattern.includes('episodic'))).toBe(true);
      // Applied: a new episodic record starts with the adjusted exponent.
      const decayExponent = body.current_parameters.episodic.decay_exponent;
      expect(decayExponent).toBeLessThan(0.3);
      const id = (await tuned.call('POST', '/v1/encode', { content: textContent('after tuning'), store: 'episodic' })).body.record_id;
      expect((await tuned.call('GET', `/v1/introspect/record/${id}`)).body.fidelity.decay_rate).toBeCloseTo(decayExponent, 10);
      expect((await tuned.call('GET', '/v1/introspect/stats')).body.evolution_metrics.detected_patterns.length).toBeGreaterThan(0);
      await tuned.close();
      const again = await startTestServer({ dataDir: tuned.dataDir });
      try {
        expect((await again.call('GET', '/v1/introspect/evolution')).body.current_parameters.episodic.decay_exponent).toBe(decayExponent);
      } finally {
        await again.close();
      }
    } finally {
      await tuned.close();
      removeDir(tuned.dataDir);
    }
  });
});

describe('background decay', () => {
  it('runs when its interval passes, shows in stats, and stops with the server (P2-10)', async () => {
    // The interval is fired by hand and the clock moved by hand: no sleeping through a timer.
    const scheduler = new ManualScheduler();
    let now = clock;
    const background = await startTestServer({
      now: () => now,
      scheduler,
      flags: { decay: { background_enabled: true, background_interval_secs: 0.2 }, dream: { background_enabled: false } },
    });
    try {
      expect(scheduler.intervals).toEqual([200]);
      const id = (await background.call('POST', '/v1/encode', { content: textContent('ticking'), store: 'episodic' })).body.record_id;
      expect((await background.call('GET', '/v1/introspect/stats')).body.background_decay_enabled).toBe(true);
      const lastTick = async () => Date.parse((await background.call('GET', `/v1/introspect/record/${id}`)).body.fidelity.last_decay_tick);
      const before = await lastTick();
      now += 3_600_000;
      scheduler.fire();
      // The run is started, not awaited, by the scheduler: wait for its effect (the deadline is a safety net).
      const after = await waitFor(async () => ((await lastTick()) > before ? lastTick() : undefined), 30_000, 'the background tick');
      expect(after).toBe(now);
    } finally {
      await background.close();
      removeDir(background.dataDir);
    }
    expect(scheduler.intervals).toEqual([]);
  });
});
