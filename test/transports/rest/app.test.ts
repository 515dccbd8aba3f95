import { describe, expect, it } from 'vitest';
import { sharedRuntime } from '../../helpers/front-doors.js';
import { textContent, textOfRecord } from '../../helpers/server.js';

// The CMP operations of the runtime issue through the REST binding, in process (Hono app.request).
// Each describe uses its own memory space, so the tests share one runtime without seeing each other.

const server = sharedRuntime();

const store = (space: string, text: string, extra: Record<string, unknown> = {}) => server.call('POST', '/v1/encode', { space, content: textContent(text), ...extra });
const inspect = (space: string, id: string) => server.call('GET', `/v1/introspect/record/${id}?space=${space}`);
const stats = async (space: string) => (await server.call('GET', `/v1/introspect/stats?space=${space}`)).body;

describe('encode.store', () => {
  it('stores a record with the defaults of its store and returns it on introspect', async () => {
    const stored = await store('enc', 'The cat sat on the mat');
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ store: 'episodic', initial_fidelity: 1, associations_created: 0 });
    const { body: record } = await inspect('enc', stored.body.record_id);
    expect(textOfRecord(record)).toBe('The cat sat on the mat');
    expect(record).toMatchObject({ id: stored.body.record_id, space: 'enc', store: 'episodic', version: 1, access_count: 0 });
    // DESIGN §2.1: episodic records start with d = 0.3 and S0 = one day.
    expect(record.fidelity).toMatchObject({ score: 1, noise_level: 0, decay_rate: 0.3, stability: 86_400 });
    expect(record.meta).toMatchObject({ capture_status: 'unavailable', trigger: 'encode.store' });
  });

  it('keeps metadata and puts the context under metadata._context', async () => {
    const stored = await store('enc', 'with context', {
      metadata: { tag: 'important' },
      context: { source: 'chat', session_id: 'sess-1' },
    });
    const { body: record } = await inspect('enc', stored.body.record_id);
    expect(record.metadata).toEqual({
      tag: 'important',
      _context: { source: 'chat', session_id: 'sess-1', spatial: null, temporal: null },
    });
  });

  it('stores manual associations and counts them', async () => {
    const target = await store('enc', 'target');
    const source = await store('enc', 'source', {
      associations: [{ target_id: target.body.record_id, association_type: 'causal', weight: 0.9 }],
    });
    expect(source.body.associations_created).toBe(1);
    const { body: record } = await inspect('enc', source.body.record_id);
    expect(record.associations).toEqual([expect.objectContaining({ target_id: target.body.record_id, association_type: 'causal', weight: 0.9 })]);
  });

  it('keeps caller-provided meta as provided', async () => {
    const stored = await store('enc', 'decided', { meta: { intent: 'remember the choice', decision: 'use LevelDB', confidence: 0.8 } });
    const { body: record } = await inspect('enc', stored.body.record_id);
    expect(record.meta).toMatchObject({ capture_status: 'provided', intent: 'remember the choice', decision: 'use LevelDB', confidence: 0.8, trigger: 'encode.store' });
  });

  describe('routes to a store when none is named', () => {
    it.each([
      ['a summary → semantic', { content: textContent('Paris is the capital of France', 'capital of France') }, 'semantic'],
      ['a how-to → procedural', { content: textContent('How to deploy: build, then push the image') }, 'procedural'],
      ['numbered steps → procedural', { content: textContent('1. open the valve\n2. wait ten minutes\n3. close it') }, 'procedural'],
      ['strong emotion → emotional', { content: textContent('I passed the exam!'), emotion: 'joy' }, 'emotional'],
      ['intensity 0.69 → episodic', { content: textContent('a mild day'), emotion: { joy: 0.5, intensity: 0.69 } }, 'episodic'],
      ['plain text → episodic', { content: textContent('We met at the station') }, 'episodic'],
    ])('%s', async (_rule, body, expected) => {
      const stored = await server.call('POST', '/v1/encode', { space: 'route', ...body });
      expect(stored.status).toBe(200);
      expect(stored.body.store).toBe(expected);
    });

    it('an explicit store wins over the classifier', async () => {
      const stored = await store('route', 'How to tie a knot', { store: 'episodic' });
      expect(stored.body.store).toBe('episodic');
    });
  });
});

describe('encode.batch', () => {
  it('links consecutive records both ways when infer_associations is set', async () => {
    const batch = await server.call('POST', '/v1/encode/batch', {
      space: 'batch',
      infer_associations: true,
      records: ['first', 'second', 'third'].map((text) => ({ content: textContent(text), store: 'episodic' })),
    });
    expect(batch.status).toBe(200);
    expect(batch.body.results).toHaveLength(3);
    expect(batch.body.associations_inferred).toBe(4);
    const [a, b, c] = batch.body.results.map((result: { record_id: string }) => result.record_id);
    const { body: middle } = await inspect('batch', b);
    expect(middle.associations.map((edge: { target_id: string }) => edge.target_id).sort()).toEqual([a, c].sort());
    expect(middle.associations.every((edge: { association_type: string; weight: number }) => edge.association_type === 'sequential' && edge.weight === 0.7)).toBe(true);
    expect((await stats('batch')).total_associations).toBe(4);
  });

  it('rejects more than 1000 records and stores none', async () => {
    const records = Array.from({ length: 1001 }, (_, index) => ({ content: textContent(`r${index}`) }));
    const batch = await server.call('POST', '/v1/encode/batch', { space: 'batch-big', records });
    expect(batch.status).toBe(400);
    expect(batch.body).toMatchObject({ code: 'VALIDATION_ERROR', message: expect.stringContaining('Batch size 1001 exceeds maximum of 1000') });
    expect((await stats('batch-big')).total_records).toBe(0);
  });

  it('rejects a batch with one bad record by naming it, and stores none of the batch', async () => {
    const records = [{ content: textContent('fine') }, { content: textContent('fine too') }, { content: { blocks: [{ modality: 'smell', format: 'x', data: [1] }] } }];
    const batch = await server.call('POST', '/v1/encode/batch', { space: 'batch-bad', records });
    expect(batch.status).toBe(400);
    expect(batch.body.code).toBe('VALIDATION_ERROR');
    expect(batch.body.details.field).toBe('records.2.content.blocks.0.modality');
    expect((await stats('batch-bad')).total_records).toBe(0);
  });
});

describe('encode.update', () => {
  it('replaces the given fields, bumps the version and keeps the rest', async () => {
    const stored = await store('upd', 'old text', { metadata: { keep: true } });
    const id = stored.body.record_id;
    const updated = await server.call('PATCH', `/v1/encode/${id}`, { space: 'upd', content: textContent('new text') });
    expect(updated.status).toBe(204);
    const { body: record } = await inspect('upd', id);
    expect(textOfRecord(record)).toBe('new text');
    expect(record.version).toBe(2);
    expect(record.metadata).toEqual({ keep: true });
  });

  it('answers RECORD_NOT_FOUND for an unknown id', async () => {
    const updated = await server.call('PATCH', '/v1/encode/0190a4b1-0000-7000-8000-000000000000', { space: 'upd', content: textContent('x') });
    expect(updated.status).toBe(404);
    expect(updated.body.code).toBe('RECORD_NOT_FOUND');
  });

  it('rejects invalid content naming the field and leaves the record as it was', async () => {
    const stored = await store('upd', 'intact');
    const id = stored.body.record_id;
    const bad = await server.call('PATCH', `/v1/encode/${id}`, { space: 'upd', content: { blocks: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toMatch(/^content/);
    const { body: record } = await inspect('upd', id);
    expect(textOfRecord(record)).toBe('intact');
    expect(record.version).toBe(1);
  });
});

describe('encode.store_raw and encode.batch_raw', () => {
  const raw = (text: string, extra: Record<string, unknown> = {}) => ({
    session_id: 'session-1',
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    content: textContent(text),
    ...extra,
  });

  it('journals raw records apart from curated memory', async () => {
    const one = await server.call('POST', '/v1/encode/raw', { space: 'raw', ...raw('hello there') });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ session_id: 'session-1', visibility: 'normal', secrecy_level: 'public' });
    const batch = await server.call('POST', '/v1/encode/raw/batch', { space: 'raw', records: [raw('a'), raw('b', { visibility: 'sealed' })] });
    expect(batch.body.results).toHaveLength(2);
    const totals = await stats('raw');
    expect(totals.raw_journal_records).toBe(3);
    expect(totals.raw_journal_pending_dream).toBe(3);
    expect(totals.total_records).toBe(0);
  });

  it('rejects a blank session id', async () => {
    const bad = await server.call('POST', '/v1/encode/raw', { space: 'raw-bad', ...raw('x', { session_id: '   ' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe('session_id');
    expect((await stats('raw-bad')).raw_journal_records).toBe(0);
  });
});

describe('lifecycle.forget', () => {
  it('requires confirm and deletes nothing without it', async () => {
    const stored = await store('forget', 'keep me');
    const refused = await server.call('DELETE', '/v1/lifecycle/forget', { space: 'forget', record_ids: [stored.body.record_id] });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('FORGET_UNCONFIRMED');
    expect((await inspect('forget', stored.body.record_id)).status).toBe(200);
  });

  it('cascades one level along outgoing associations (P1-6)', async () => {
    const b = await store('cascade', 'B');
    const a = await store('cascade', 'A', { associations: [{ target_id: b.body.record_id, association_type: 'semantic', weight: 0.9 }] });
    expect((await stats('cascade')).total_records).toBe(2);
    const forgot = await server.call('DELETE', '/v1/lifecycle/forget', { space: 'cascade', record_ids: [a.body.record_id], cascade: true, confirm: true });
    expect(forgot.body.records_deleted).toBe(2);
    expect((await inspect('cascade', a.body.record_id)).status).toBe(404);
    expect((await inspect('cascade', b.body.record_id)).status).toBe(404);
    expect((await stats('cascade')).total_records).toBe(0);
  });

  it('removes edges that pointed at a forgotten record', async () => {
    const target = await store('strip', 'target');
    const source = await store('strip', 'source', { associations: [{ target_id: target.body.record_id, association_type: 'semantic', weight: 0.5 }] });
    await server.call('DELETE', '/v1/lifecycle/forget', { space: 'strip', record_ids: [target.body.record_id], confirm: true });
    const { body: record } = await inspect('strip', source.body.record_id);
    expect(record.associations).toEqual([]);
    expect((await stats('strip')).total_associations).toBe(0);
  });

  it('forgets a whole store, and a temporal range across stores', async () => {
    await store('bulk', 'episodic one');
    await store('bulk', 'semantic one', { store: 'semantic' });
    const byStore = await server.call('DELETE', '/v1/lifecycle/forget', { space: 'bulk', store: 'semantic', confirm: true });
    expect(byStore.body.records_deleted).toBe(1);
    expect((await stats('bulk')).records_by_store).toMatchObject({ episodic: 1, semantic: 0 });
    const range = { start: new Date(Date.now() - 60_000).toISOString(), end: new Date(Date.now() + 60_000).toISOString() };
    const byTime = await server.call('DELETE', '/v1/lifecycle/forget', { space: 'bulk', temporal_range: range, confirm: true });
    expect(byTime.body.records_deleted).toBe(1);
    expect((await stats('bulk')).total_records).toBe(0);
  });
});

describe('working memory', () => {
  it('holds 7 records and evicts the least recently used for an eighth (P1-4)', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 7; index++) ids.push((await store('work', `item ${index}`, { store: 'working' })).body.record_id);
    expect((await stats('work')).records_by_store.working).toBe(7);
    await store('work', 'item 7', { store: 'working' });
    expect((await stats('work')).records_by_store.working).toBe(7);
    expect((await inspect('work', ids[0])).status).toBe(404);
    expect((await inspect('work', ids[1])).status).toBe(200);
  });
});

describe('introspect.stats', () => {
  it('reports every store, the time span and averages from the stored records', async () => {
    const first = await store('stats', 'one');
    await store('stats', 'two', { store: 'semantic' });
    const totals = await stats('stats');
    expect(totals).toMatchObject({
      space: 'stats',
      total_records: 2,
      records_by_store: { episodic: 1, semantic: 1, procedural: 0, emotional: 0, working: 0 },
      avg_fidelity: 1,
      avg_fidelity_by_store: { episodic: 1, semantic: 1 },
      total_recall_count: 0,
      raw_journal_records: 0,
    });
    const { body: record } = await inspect('stats', first.body.record_id);
    expect(totals.oldest_record).toBe(record.created_at);
    expect(Date.parse(totals.newest_record)).toBeGreaterThanOrEqual(Date.parse(totals.oldest_record));
  });
});

describe('memory spaces', () => {
  it('keep records apart: another space neither sees nor forgets them', async () => {
    const alice = await store('alice', 'alice secret');
    await store('bob', 'bob note');
    expect((await inspect('bob', alice.body.record_id)).status).toBe(404);
    expect((await stats('alice')).total_records).toBe(1);
    const forgot = await server.call('DELETE', '/v1/lifecycle/forget', { space: 'bob', store: 'episodic', record_ids: [alice.body.record_id], confirm: true });
    expect(forgot.body.records_deleted).toBe(1);
    expect((await inspect('alice', alice.body.record_id)).status).toBe(200);
    expect((await stats('bob')).total_records).toBe(0);
  });

  it('rejects a malformed space name', async () => {
    const bad = await store('no spaces allowed', 'x');
    expect(bad.status).toBe(400);
    expect(bad.body.details.field).toBe('space');
  });
});

describe('idempotency', () => {
  it('a retried batch with the same key returns the first result and is stored once', async () => {
    const body = { space: 'idem', records: [{ content: textContent('once') }, { content: textContent('only once') }] };
    const first = await server.call('POST', '/v1/encode/batch', body, { 'idempotency-key': 'req-42' });
    const second = await server.call('POST', '/v1/encode/batch', body, { 'idempotency-key': 'req-42' });
    expect(second.body).toEqual(first.body);
    expect((await stats('idem')).total_records).toBe(2);
    const third = await server.call('POST', '/v1/encode/batch', { ...body, header: { request_id: 'req-43' } });
    expect(third.body.results[0].record_id).not.toBe(first.body.results[0].record_id);
    expect((await stats('idem')).total_records).toBe(4);
  });

  it('a retried update with the same key bumps the version once', async () => {
    const stored = await store('idem-upd', 'v1');
    const id = stored.body.record_id;
    for (let attempt = 0; attempt < 2; attempt++) {
      await server.call('PATCH', `/v1/encode/${id}`, { space: 'idem-upd', content: textContent('v2') }, { 'idempotency-key': 'upd-1' });
    }
    expect((await inspect('idem-upd', id)).body.version).toBe(2);
  });
});

describe('wire errors', () => {
  it('answers malformed JSON with VALIDATION_ERROR, the request id, and keeps serving', async () => {
    const bad = await server.call('POST', '/v1/encode', '{"content": ');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'body' }, retry_after: null });
    expect(bad.body.request_id).toBe(bad.headers.get('x-request-id'));
    expect((await store('errors', 'still up')).status).toBe(200);
  });

  it('answers an oversize text block with CONTENT_TOO_LARGE naming the block', async () => {
    const data = Buffer.alloc(1024 * 1024 + 1, 97).toString('base64');
    const big = await server.call('POST', '/v1/encode', { space: 'errors-big', content: { blocks: [{ modality: 'text', format: 'text/plain', data }] } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ code: 'CONTENT_TOO_LARGE', details: { field: 'content.blocks.0.data' } });
    expect((await stats('errors-big')).total_records).toBe(0);
  });

  it('answers an invalid record id in the path with VALIDATION_ERROR', async () => {
    const bad = await server.call('GET', '/v1/introspect/record/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
  });

  it('puts X-Request-Id on every response, echoing the caller’s', async () => {
    const health = await server.call('GET', '/health', undefined, { 'x-request-id': 'trace-1' });
    expect(health.headers.get('x-request-id')).toBe('trace-1');
    const missing = await server.call('GET', '/nowhere');
    expect(missing.headers.get('x-request-id')).toBeTruthy();
  });

  it('reports readiness with every store actor', async () => {
    const ready = await server.call('GET', '/readiness');
    expect(ready.status).toBe(200);
    expect(ready.body.stores.map((entry: { name: string }) => entry.name).sort()).toEqual(['emotional', 'episodic', 'procedural', 'raw_journal', 'semantic']);
  });
});
