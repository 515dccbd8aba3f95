import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EXACT, TestClock, recall } from '../../helpers/recall.js';
import { textContent, textOfRecord } from '../../helpers/server.js';
import { sharedRuntime } from '../../helpers/front-doors.js';

// recall.raw_query end to end (spec §3.7, §1.9, §5.2, §10.6 raw journal): the preservation plane is
// reachable only through this forensic recall; visibility and secrecy filter it, a query must appear
// in the text as a case-insensitive substring, and records come oldest first.

const clock = new TestClock();
const server = sharedRuntime({ now: clock.now });

afterEach(() => clock.reset());

const T = Date.parse('2026-04-01T09:00:00.000Z');

interface RawInput {
  session?: string;
  text: string;
  visibility?: 'normal' | 'private_scratch' | 'sealed';
  secrecy?: 'public' | 'sensitive' | 'secret';
  atMs?: number;
}

async function storeRaw(space: string, input: RawInput): Promise<string> {
  if (input.atMs !== undefined) clock.set(input.atMs);
  const response = await server.call('POST', '/v1/encode/raw', {
    space,
    session_id: input.session ?? 'session-a',
    source: 'conversation',
    speaker: 'user',
    visibility: input.visibility ?? 'normal',
    secrecy_level: input.secrecy ?? 'public',
    content: textContent(input.text),
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.record_id;
}

async function rawQuery(space: string, body: Record<string, unknown>): Promise<{ records: any[]; total_candidates: number }> {
  const response = await server.call('POST', '/v1/recall/raw', { space, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

const ids = (body: { records: { id: string }[] }) => body.records.map((record) => record.id);

describe('sessions and order', () => {
  const space = 'raw-sessions';
  let a1: string, a2: string, a3: string, b1: string;

  beforeAll(async () => {
    // Stored out of time order on purpose: the answer is sorted by created_at, not by arrival.
    a2 = await storeRaw(space, { session: 'session-a', text: 'second turn of A', atMs: T + 2_000 });
    b1 = await storeRaw(space, { session: 'session-b', text: 'only turn of B', atMs: T + 1_500 });
    a1 = await storeRaw(space, { session: 'session-a', text: 'first turn of A', atMs: T + 1_000 });
    a3 = await storeRaw(space, { session: 'session-a', text: 'third turn of A', atMs: T + 3_000 });
  });

  it('round-trips a raw record, and the journal count tracks the records', async () => {
    const body = await rawQuery(space, { session_id: 'session-b' });
    expect(ids(body)).toEqual([b1]);
    const [record] = body.records;
    expect(record).toMatchObject({
      id: b1,
      session_id: 'session-b',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      created_at: new Date(T + 1_500).toISOString(),
      derived_memory_ids: [],
      suppressed: false,
    });
    expect(textOfRecord(record)).toBe('only turn of B');
    const stats = (await server.call('GET', `/v1/introspect/stats?space=${space}`)).body;
    expect(stats.raw_journal_records).toBe(4);
    expect(stats.total_records).toBe(0);
  });

  it('a session query returns only that session, oldest first', async () => {
    const body = await rawQuery(space, { session_id: 'session-a' });
    expect(ids(body)).toEqual([a1, a2, a3]);
    expect(body.total_candidates).toBe(3);
  });

  it('a session id is trimmed; a blank one means no session filter', async () => {
    expect(ids(await rawQuery(space, { session_id: '  session-b ' }))).toEqual([b1]);
    expect(ids(await rawQuery(space, { session_id: '   ' }))).toEqual([a1, b1, a2, a3]);
  });

  it('no filter lists every visible record oldest first; limit truncates after counting', async () => {
    const all = await rawQuery(space, {});
    expect(ids(all)).toEqual([a1, b1, a2, a3]);
    const one = await rawQuery(space, { limit: 1 });
    expect(ids(one)).toEqual([a1]);
    expect(one.total_candidates).toBe(4);
  });

  it('limit 0 returns no records but the total (the recorder’s probe)', async () => {
    const body = await rawQuery(space, { limit: 0 });
    expect(body.records).toEqual([]);
    expect(body.total_candidates).toBe(4);
    const inSession = await rawQuery(space, { session_id: 'session-a', query: 'turn', limit: 0 });
    expect(inSession).toEqual({ records: [], total_candidates: 3 });
  });

  it('a temporal range bounds the records (inclusive), with or without a session and query', async () => {
    const temporal = { start: new Date(T + 1_500).toISOString(), end: new Date(T + 2_000).toISOString() };
    expect(ids(await rawQuery(space, { temporal }))).toEqual([b1, a2]);
    expect(ids(await rawQuery(space, { temporal, session_id: 'session-a' }))).toEqual([a2]);
    // The reference ignored the range when a session and a query were both given (§3.7 QUIRK); we apply it.
    expect(ids(await rawQuery(space, { temporal, session_id: 'session-a', query: 'turn of A' }))).toEqual([a2]);
  });
});

describe('the substring rule', () => {
  const space = 'raw-substring';
  let fox: string, other: string;

  beforeAll(async () => {
    fox = await storeRaw(space, { text: 'The Quick brown fox jumps over the lazy dog', atMs: T });
    other = await storeRaw(space, { session: 'session-z', text: 'A quick note about brown paper', atMs: T + 1_000 });
  });

  it('encode.store_raw then raw_query by session + query returns it', async () => {
    const body = await rawQuery(space, { session_id: 'session-a', query: 'brown fox' });
    expect(ids(body)).toEqual([fox]);
    expect(body.total_candidates).toBe(1);
  });

  it.each([
    ['case-insensitive whole phrase', 'quick BROWN fox', true],
    ['trimmed query', '   lazy dog  ', true],
    ['a phrase across a word boundary', 'own fox jum', true],
    ['words present but out of order', 'fox brown', false],
    ['words present but not adjacent', 'quick fox', false],
    ['a word that is absent', 'brown cat', false],
  ])('%s: %s', async (_rule, query, matches) => {
    const withSession = await rawQuery(space, { session_id: 'session-a', query });
    expect(ids(withSession)).toEqual(matches ? [fox] : []);
  });

  it.each([
    ['case-insensitive whole phrase', 'quick BROWN fox', true],
    ['words present but out of order', 'fox brown', false],
  ])('without a session, too — %s', async (_rule, query, matches) => {
    const body = await rawQuery(space, { query });
    expect(ids(body)).toEqual(matches ? [fox] : []);
  });

  // Open question (see the report): with a session the whole session is scanned, so a substring made of
  // word pieces ("uick bro") matches; without one the text index narrows first and, holding only whole
  // (stemmed) words, drops the record — the same query answers 1 with a session and 0 without.
  it.todo('a substring made of word pieces ("uick bro") matches without a session as it does with one');

  it('without a session a query searches every session, then filters by the substring', async () => {
    expect(ids(await rawQuery(space, { query: 'quick' }))).toEqual([fox, other]);
    expect(ids(await rawQuery(space, { query: 'brown paper' }))).toEqual([other]);
  });
});

describe('visibility and secrecy (§1.9)', () => {
  const space = 'raw-visibility';
  let normal: string, scratch: string, sealed: string, secret: string;

  beforeAll(async () => {
    normal = await storeRaw(space, { text: 'normal public note', visibility: 'normal', secrecy: 'public', atMs: T });
    scratch = await storeRaw(space, { text: 'scratch sensitive note', visibility: 'private_scratch', secrecy: 'sensitive', atMs: T + 1 });
    sealed = await storeRaw(space, { text: 'sealed secret note', visibility: 'sealed', secrecy: 'secret', atMs: T + 2 });
    secret = await storeRaw(space, { text: 'normal secret note', visibility: 'normal', secrecy: 'secret', atMs: T + 3 });
  });

  it('defaults: only normal records that are not secret (total 1)', async () => {
    const body = await rawQuery(space, { session_id: 'session-a' });
    expect(ids(body)).toEqual([normal]);
    expect(body.total_candidates).toBe(1);
    expect(ids(await rawQuery(space, { query: 'note' }))).toEqual([normal]);
  });

  it('include_private_scratch adds the scratch record (sensitive passes by default)', async () => {
    expect(ids(await rawQuery(space, { include_private_scratch: true }))).toEqual([normal, scratch]);
  });

  it('secret records need secrecy_levels to list "secret"; sealed ones need include_sealed', async () => {
    expect(ids(await rawQuery(space, { secrecy_levels: ['secret'] }))).toEqual([secret]);
    expect(ids(await rawQuery(space, { secrecy_levels: ['secret'], include_sealed: true }))).toEqual([sealed, secret]);
    expect(ids(await rawQuery(space, { secrecy_levels: ['public'] }))).toEqual([normal]);
    expect(
      ids(
        await rawQuery(space, {
          include_private_scratch: true,
          include_sealed: true,
          secrecy_levels: ['public', 'sensitive', 'secret'],
        }),
      ),
    ).toEqual([normal, scratch, sealed, secret]);
  });

  it('an empty secrecy_levels list lets nothing through', async () => {
    expect(ids(await rawQuery(space, { secrecy_levels: [] }))).toEqual([]);
  });
});

describe('the two planes stay apart', () => {
  it('raw records never appear in recall.query, and curated ones never in raw recall', async () => {
    const space = 'raw-planes';
    await storeRaw(space, { text: 'the raw journal mentions a turquoise kayak' });
    const curated = await server.call('POST', '/v1/encode', { space, content: textContent('a curated turquoise lantern'), store: 'episodic' });
    expect(curated.status).toBe(200);
    const body = await recall(server, space, { cue: { text: 'turquoise kayak' }, ...EXACT });
    expect(body.memories.map((memory: { record: { id: string } }) => memory.record.id)).toEqual([curated.body.record_id]);
    expect(body.total_candidates).toBe(1);
    const raw = await rawQuery(space, { query: 'turquoise' });
    expect(raw.records.map((record) => textOfRecord(record))).toEqual(['the raw journal mentions a turquoise kayak']);
  });
});

describe('bad input', () => {
  it.each([
    ['an unknown secrecy level', { secrecy_levels: ['top'] }, 'secrecy_levels.0'],
    ['a negative limit', { limit: -1 }, 'limit'],
    ['a non-boolean flag', { include_sealed: 'yes' }, 'include_sealed'],
    ['a malformed time range', { temporal: { start: 'yesterday', end: '2026-01-01T00:00:00Z' } }, 'temporal.start'],
  ])('%s → 400 VALIDATION_ERROR naming the field', async (_name, body, field) => {
    const bad = await server.call('POST', '/v1/recall/raw', body);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
  });
});
