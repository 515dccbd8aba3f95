import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/recall.js';
import { ManualScheduler } from '../../helpers/scheduler.js';
import { removeDir, sharedServer, startTestServer, textContent, textOfRecord } from '../../helpers/server.js';

// Dream ticks and consolidation through a real server: the planners decide (their own tests cover
// the rules); here the writes land, link up, and a second run finds nothing left to do.

const server = sharedServer();

const stats = async (space: string) => (await server.call('GET', `/v1/introspect/stats?space=${space}`)).body;
const raw = (space: string, text: string, extra: Record<string, unknown> = {}) =>
  server.call('POST', '/v1/encode/raw', {
    space,
    session_id: 'session-1',
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    content: textContent(text),
    ...extra,
  });

describe('lifecycle.dream_tick', () => {
  it('turns two raw records into a summary and a semantic node, linked both ways, once', async () => {
    const a = (await raw('dream', 'We chose LevelDB for the store partitions because it is embedded')).body.record_id;
    const b = (await raw('dream', 'LevelDB partitions keep each store isolated and embedded')).body.record_id;
    const first = await server.call('POST', '/v1/lifecycle/dream-tick', { space: 'dream' });
    expect(first.body).toEqual({ groups_processed: 1, raw_records_processed: 2, episodic_summaries_created: 1, semantic_nodes_created: 1 });

    const totals = await stats('dream');
    expect(totals.records_by_store).toMatchObject({ episodic: 1, semantic: 1 });
    expect(totals.raw_journal_pending_dream).toBe(0);
    expect(totals.dream_episodic_summaries).toBe(1);
    expect(totals.dream_semantic_nodes).toBe(1);

    const journal = await server.call('POST', '/v1/recall/raw', { space: 'dream', session_id: 'session-1' });
    for (const record of journal.body.records) {
      expect([a, b]).toContain(record.id);
      expect(record.derived_memory_ids).toHaveLength(2);
      expect(typeof record.metadata._dream.processed_at).toBe('string');
    }
    const [summaryId] = journal.body.records[0].derived_memory_ids;
    const summary = (await server.call('GET', `/v1/introspect/record/${summaryId}?space=dream`)).body;
    expect(summary.meta).toMatchObject({ capture_status: 'inferred', trigger: 'lifecycle.dream_tick', source_record_ids: [a, b] });
    expect(summary.metadata._origin).toMatchObject({ raw_session_id: 'session-1', raw_record_count: 2, raw_record_ids: [a, b] });
    expect(summary.associations.map((edge: { association_type: string }) => edge.association_type)).toContain('semantic');
    expect(textOfRecord(summary)).toContain('LevelDB');

    const second = await server.call('POST', '/v1/lifecycle/dream-tick', { space: 'dream' });
    expect(second.body).toMatchObject({ groups_processed: 0, episodic_summaries_created: 0 });
    expect((await stats('dream')).records_by_store.episodic).toBe(1);
  });

  it('counts without writing on a dry run, and never quotes secret or sealed records', async () => {
    await raw('dream-redact', 'the public plan is to ship on Monday');
    await raw('dream-redact', 'the root password is hunter2', { secrecy_level: 'secret' });
    await raw('dream-redact', 'sealed note about the merger', { visibility: 'sealed' });
    const dry = await server.call('POST', '/v1/lifecycle/dream-tick', { space: 'dream-redact', dry_run: true, include_sealed: true, secrecy_levels: ['public', 'sensitive', 'secret'] });
    expect(dry.body).toMatchObject({ groups_processed: 1, raw_records_processed: 3, episodic_summaries_created: 1 });
    expect((await stats('dream-redact')).total_records).toBe(0);

    await server.call('POST', '/v1/lifecycle/dream-tick', { space: 'dream-redact', include_sealed: true, secrecy_levels: ['public', 'sensitive', 'secret'] });
    const recalled = await server.call('POST', '/v1/recall/query', { space: 'dream-redact', cue: {}, recall_mode: 'perfect', reconsolidate: false });
    const text = textOfRecord(recalled.body.memories[0].record);
    expect(text).toContain('ship on Monday');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('merger');
    expect(text).toContain('Redacted raw records: 2');
  });
});

describe('lifecycle.consolidate', () => {
  it('migrates episodic memories to semantic ones once, and a second run copies nothing (P1-5)', async () => {
    for (const text of ['the sprint review moved to Thursday', 'Bob prefers tea over coffee', 'the staging cluster runs in Frankfurt']) {
      await server.call('POST', '/v1/encode', { space: 'consolidate', content: textContent(text), store: 'episodic' });
    }
    const first = await server.call('POST', '/v1/lifecycle/consolidate', { space: 'consolidate', strategy: 'full' });
    expect(first.body).toMatchObject({ records_processed: 3, records_migrated: 3, semantic_nodes_created: 3 });
    expect((await stats('consolidate')).records_by_store).toMatchObject({ episodic: 3, semantic: 3 });

    const second = await server.call('POST', '/v1/lifecycle/consolidate', { space: 'consolidate', strategy: 'full' });
    expect(second.body).toMatchObject({ records_migrated: 0, semantic_nodes_created: 0 });
    expect((await stats('consolidate')).records_by_store).toMatchObject({ episodic: 3, semantic: 3 });
  });

  it('merges near-duplicate episodic memories', async () => {
    const embedding = [0.1, 0.9, 0.2, 0.4];
    for (let index = 0; index < 2; index++) {
      await server.call('POST', '/v1/encode', {
        space: 'dupes',
        store: 'episodic',
        content: { blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from(`the same thing, said twice ${index}`)], embedding }] },
      });
    }
    const result = await server.call('POST', '/v1/lifecycle/consolidate', { space: 'dupes' });
    expect(result.body.records_compressed).toBe(1);
    expect((await stats('dupes')).records_by_store.episodic).toBe(1);
  });

  it('never deletes a semantic record as a duplicate of an episodic one with the same embedding; episodic count never increases (P4-10)', async () => {
    const embedding = [0.3, 0.1, 0.8, 0.5];
    const block = (text: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from(text)], embedding }] });
    const fact = (await server.call('POST', '/v1/encode', { space: 'p4-10', store: 'semantic', content: block('the office wifi is called lighthouse') })).body.record_id;
    for (let index = 0; index < 2; index++) {
      await server.call('POST', '/v1/encode', { space: 'p4-10', store: 'episodic', content: block(`the office wifi is called lighthouse (${index})`) });
    }
    let episodic = (await stats('p4-10')).records_by_store.episodic;
    expect(episodic).toBe(2);
    for (const strategy of ['full', 'incremental', 'full']) {
      await server.call('POST', '/v1/lifecycle/consolidate', { space: 'p4-10', strategy });
      expect((await server.call('GET', `/v1/introspect/record/${fact}?space=p4-10`)).status).toBe(200);
      const now = (await stats('p4-10')).records_by_store.episodic;
      expect(now).toBeLessThanOrEqual(episodic);
      episodic = now;
    }
  });

  it('reports on a dry run and changes nothing', async () => {
    await server.call('POST', '/v1/encode', { space: 'consolidate-dry', content: textContent('a fact worth keeping'), store: 'episodic' });
    const dry = await server.call('POST', '/v1/lifecycle/consolidate', { space: 'consolidate-dry', dry_run: true });
    expect(dry.body).toMatchObject({ records_processed: 1, records_migrated: 1 });
    expect((await stats('consolidate-dry')).records_by_store.semantic).toBe(0);
  });
});

describe('running alone', () => {
  it('refuses a second consolidation of the same space while one runs', async () => {
    for (let index = 0; index < 30; index++) {
      await server.call('POST', '/v1/encode', { space: 'busy', content: textContent(`busy record ${index}`), store: 'episodic' });
    }
    const [a, b] = await Promise.all([server.call('POST', '/v1/lifecycle/consolidate', { space: 'busy' }), server.call('POST', '/v1/lifecycle/consolidate', { space: 'busy' })]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 503]);
    const refused = a.status === 503 ? a : b;
    expect(refused.body).toMatchObject({ code: 'CONSOLIDATION_IN_PROGRESS' });
    expect(refused.headers.get('retry-after')).toBeTruthy();
  });
});

describe('background dream', () => {
  it('digests the raw journal when its interval passes and shows in stats', async () => {
    // The interval is fired by hand: no sleeping until a timer would have.
    const scheduler = new ManualScheduler();
    const background = await startTestServer({
      scheduler,
      flags: { dream: { background_enabled: true, background_interval_secs: 0.2 }, decay: { background_enabled: false } },
    });
    try {
      expect(scheduler.intervals).toEqual([200]);
      await background.call('POST', '/v1/encode/raw', {
        session_id: 's',
        source: 'conversation',
        speaker: 'user',
        visibility: 'normal',
        secrecy_level: 'public',
        content: textContent('remember the milk'),
      });
      const stats = async () => (await background.call('GET', '/v1/introspect/stats')).body;
      expect((await stats()).background_dream_enabled).toBe(true);
      expect((await stats()).raw_journal_pending_dream).toBe(1);
      scheduler.fire();
      // The run is started, not awaited, by the scheduler: wait for its effect (the deadline is a safety net).
      const pending = await waitFor(
        async () => {
          const left = (await stats()).raw_journal_pending_dream as number;
          return left === 0 ? left : undefined;
        },
        30_000,
        'the background dream',
      );
      expect(pending).toBe(0);
      expect((await background.call('GET', '/v1/introspect/stats')).body.dream_episodic_summaries).toBe(1);
    } finally {
      await background.close();
      removeDir(background.dataDir);
    }
  });
});
