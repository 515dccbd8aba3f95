import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClock, encode } from '../../helpers/recall.js';
import { textContent, textOfRecord } from '../../helpers/server.js';
import { sharedRuntime } from '../../helpers/front-doors.js';

// recall.timeline end to end (spec §3.9, §10.4 P4-2, P4-3, §10.6 timeline): the persistent stores'
// records in a time range, bucketed by minute / hour / day / week / month (epoch-aligned, calendar
// months), filtered by fidelity now and by emotion. The runtime's clock is pinned per encode, so
// created_at — and therefore every bucket — is known in advance.

const clock = new TestClock();
const server = sharedRuntime({ now: clock.now });

afterEach(() => clock.reset());

const T = Date.parse('2026-03-10T09:00:00.000Z'); // a Tuesday, on the hour
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const DAY = 24 * H;
const iso = (ms: number) => new Date(ms).toISOString();

async function at(ms: number, space: string, text: string, extra: Record<string, unknown>): Promise<string> {
  clock.set(ms);
  return encode(server, space, textContent(text), extra);
}

async function timeline(space: string, body: Record<string, unknown>): Promise<any[]> {
  const response = await server.call('POST', '/v1/recall/timeline', { space, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.buckets;
}

/** Every bucket's memories lie inside it, its count is its length, and the buckets ascend. */
function expectWellFormed(buckets: any[]): void {
  let previousEnd = -Infinity;
  for (const bucket of buckets) {
    const start = Date.parse(bucket.start);
    const end = Date.parse(bucket.end);
    expect(start).toBeGreaterThanOrEqual(previousEnd);
    expect(bucket.count).toBe(bucket.memories.length);
    expect(bucket.count).toBeGreaterThan(0);
    for (const memory of bucket.memories) {
      const created = Date.parse(memory.record.created_at);
      expect(created).toBeGreaterThanOrEqual(start);
      expect(created).toBeLessThan(end);
      expect(memory.activation_path).toBeNull();
      expect(memory.rendered_content).toEqual(memory.record.content);
      expect(memory.relevance_score).toBeGreaterThan(0);
      expect(memory.relevance_score).toBeLessThanOrEqual(1);
    }
    previousEnd = end;
  }
}

describe('buckets across stores (P4-2)', () => {
  const space = 'tl-buckets';
  const range = { start: iso(T), end: iso(T + 2 * H) };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids.before = await at(T - 1, space, 'just before the range', { store: 'episodic' });
    ids.a = await at(T + 10 * S, space, 'episodic at 09:00:10', { store: 'episodic' });
    ids.w = await at(T + 20 * S, space, 'working memory is not in the timeline', { store: 'working' });
    ids.b = await at(T + 50 * S, space, 'semantic at 09:00:50', { store: 'semantic' });
    ids.c = await at(T + 70 * S, space, 'procedural at 09:01:10', { store: 'procedural' });
    ids.d = await at(T + 30 * M, space, 'emotional at 09:30', { store: 'emotional' });
    ids.e = await at(T + 65 * M, space, 'episodic at 10:05', { store: 'episodic' });
    ids.after = await at(T + 3 * H, space, 'after the range', { store: 'episodic' });
  });

  const bucketIds = (buckets: any[]) => buckets.map((bucket) => bucket.memories.map((memory: any) => memory.record.id));

  it('hour: two buckets whose counts sum to the five records in range (working memory excluded)', async () => {
    const buckets = await timeline(space, { range, granularity: 'hour' });
    expectWellFormed(buckets);
    expect(buckets.map((bucket) => [bucket.start, bucket.end, bucket.count])).toEqual([
      [iso(T), iso(T + H), 4],
      [iso(T + H), iso(T + 2 * H), 1],
    ]);
    expect(bucketIds(buckets)).toEqual([[ids.a, ids.b, ids.c, ids.d], [ids.e]]);
    expect(buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(5);
    expect(new Set(buckets.flatMap((bucket) => bucket.memories.map((memory: any) => memory.record.store)))).toEqual(new Set(['episodic', 'semantic', 'procedural', 'emotional']));
  });

  it('the default granularity is hour', async () => {
    clock.set(T + 3 * H); // fidelity (the relevance) must not move between the two calls
    expect(await timeline(space, { range })).toEqual(await timeline(space, { range, granularity: 'hour' }));
  });

  it('minute: one bucket per minute that holds records, same total', async () => {
    const buckets = await timeline(space, { range, granularity: 'minute' });
    expectWellFormed(buckets);
    expect(buckets.map((bucket) => [bucket.start, bucket.end, bucket.count])).toEqual([
      [iso(T), iso(T + M), 2],
      [iso(T + M), iso(T + 2 * M), 1],
      [iso(T + 30 * M), iso(T + 31 * M), 1],
      [iso(T + 65 * M), iso(T + 66 * M), 1],
    ]);
    expect(bucketIds(buckets)).toEqual([[ids.a, ids.b], [ids.c], [ids.d], [ids.e]]);
  });

  it('the counts agree with the records’ own created_at for every granularity', async () => {
    const wide = { start: iso(T - DAY), end: iso(T + DAY) };
    for (const granularity of ['minute', 'hour', 'day', 'week', 'month']) {
      const buckets = await timeline(space, { range: wide, granularity });
      expectWellFormed(buckets);
      const all = buckets.flatMap((bucket) => bucket.memories);
      expect(all.map((memory: any) => memory.record.id).sort(), granularity).toEqual([ids.before, ids.a, ids.b, ids.c, ids.d, ids.e, ids.after].sort());
    }
  });

  it('day, week and month buckets are aligned to the epoch day, the Thursday week and the calendar month', async () => {
    const wide = { start: iso(T - DAY), end: iso(T + DAY) };
    const [day] = await timeline(space, { range: wide, granularity: 'day' });
    expect([day.start, day.end]).toEqual(['2026-03-10T00:00:00.000Z', '2026-03-11T00:00:00.000Z']);
    const [week] = await timeline(space, { range: wide, granularity: 'week' });
    expect([week.start, week.end]).toEqual(['2026-03-05T00:00:00.000Z', '2026-03-12T00:00:00.000Z']);
    expect(new Date(week.start).getUTCDay()).toBe(4);
    const [month] = await timeline(space, { range: wide, granularity: 'month' });
    expect([month.start, month.end]).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(month.count).toBe(7);
  });

  // Open question (see the report): every store is read over [start, end] inclusive, so an episodic
  // record created exactly at `end` comes back, in a bucket that starts at `end` — outside the range
  // asked for. The reference read episodic over [start, end) (the primary timeline source) and the other
  // stores over [start, end]; a half-open range for all would be the consistent choice.
  it.todo('a record created exactly at range.end is not in the timeline of [start, end)');

  it('an empty range yields no buckets', async () => {
    expect(await timeline(space, { range: { start: iso(T + 20 * H), end: iso(T + 21 * H) } })).toEqual([]);
    expect(await timeline('tl-nothing-here', { range })).toEqual([]);
  });

  it('min_fidelity keeps what is still vivid now (per-store decay)', async () => {
    // 60 days on: episodic (d 0.3, S0 1 d) ≈ 0.29, emotional (d 0.2, S0 3 d) ≈ 0.54,
    // semantic (d 0.15, S0 30 d) ≈ 0.85, procedural (d 0.1, S0 90 d) ≈ 0.95.
    clock.set(T + 60 * DAY);
    const buckets = await timeline(space, { range, granularity: 'hour', min_fidelity: 0.6 });
    expectWellFormed(buckets);
    const kept = buckets.flatMap((bucket) => bucket.memories);
    expect(kept.map((memory: any) => memory.record.id).sort()).toEqual([ids.b, ids.c].sort());
    for (const memory of kept) expect(memory.relevance_score).toBeGreaterThanOrEqual(0.6);
  });
});

describe('emotion filter (P4-3)', () => {
  const space = 'tl-emotion';
  const range = { start: iso(T), end: iso(T + H) };
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    ids.joy = await at(T + 1 * M, space, 'won the race', { store: 'emotional', emotion: 'joy' });
    ids.fear = await at(T + 2 * M, space, 'heard a noise downstairs', { store: 'emotional', emotion: 'fear' });
    // cosine with pure joy over the Plutchik axes: 0.6/√0.72 ≈ 0.71 (kept), 0.4/√0.97 ≈ 0.41 (not).
    ids.joyTrust = await at(T + 3 * M, space, 'dinner with old friends', { store: 'episodic', emotion: { joy: 0.6, trust: 0.6, intensity: 0.5 } });
    ids.bittersweet = await at(T + 4 * M, space, 'farewell party', { store: 'semantic', emotion: { joy: 0.4, sadness: 0.9, intensity: 0.6 } });
    ids.neutral = await at(T + 5 * M, space, 'bought stamps', { store: 'episodic' });
  });

  it('joy keeps only joy-aligned records (cosine > 0.5), across stores', async () => {
    const buckets = await timeline(space, { range, granularity: 'hour', emotion_filter: 'joy' });
    expectWellFormed(buckets);
    const kept = buckets.flatMap((bucket) => bucket.memories);
    expect(kept.map((memory: any) => memory.record.id)).toEqual([ids.joy, ids.joyTrust]);
    expect(kept.map((memory: any) => textOfRecord(memory.record))).toEqual(['won the race', 'dinner with old friends']);
  });

  it('an emotion vector works like its label; without a filter everything comes back', async () => {
    const byVector = await timeline(space, { range, emotion_filter: { fear: 1, intensity: 1 } });
    expect(byVector.flatMap((bucket) => bucket.memories.map((memory: any) => memory.record.id))).toEqual([ids.fear]);
    const all = await timeline(space, { range });
    expect(all.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(5);
  });

  it('a neutral filter matches nothing (no direction to compare)', async () => {
    expect(await timeline(space, { range, emotion_filter: { intensity: 1 } })).toEqual([]);
  });
});

describe('bad input', () => {
  it.each([
    ['no range', {}, 'range'],
    ['a range without an end', { range: { start: iso(T) } }, 'range.end'],
    ['a malformed start', { range: { start: 'noon', end: iso(T) } }, 'range.start'],
    ['an unknown granularity', { range: { start: iso(T), end: iso(T + H) }, granularity: 'fortnight' }, 'granularity'],
    ['min_fidelity over 1', { range: { start: iso(T), end: iso(T + H) }, min_fidelity: 2 }, 'min_fidelity'],
    ['an unknown emotion label', { range: { start: iso(T), end: iso(T + H) }, emotion_filter: 'ennui' }, 'emotion_filter'],
  ])('%s → 400 VALIDATION_ERROR naming the field', async (_name, body, field) => {
    const bad = await server.call('POST', '/v1/recall/timeline', body);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
  });
});
