// Dream and consolidation with an LLM provider configured, through the real server and a loopback fake
// provider speaking the OpenAI chat wire format: the LLM's summaries and relations land in the records;
// when the provider fails, the built-in summaries are used and the failure is logged (without the key).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asksForRelations, json, promptOf, replyBody, startFakeProvider, type FakeProvider } from '../../helpers/fake-provider.js';
import { removeDir, startTestServer, textContent, textOfRecord, type TestServer } from '../../helpers/server.js';

const API_KEY = 'sk-llm-SECRET-5150';
let llm: FakeProvider;
let server: TestServer;
/** When set, the fake provider answers every request with this status. */
let failWith: number | null = null;

beforeAll(async () => {
  llm = await startFakeProvider((request, res) => {
    if (failWith !== null) return json(res, failWith, { error: { message: `no (key ${String(request.headers.authorization)})` } });
    if (asksForRelations(request.body)) {
      return json(res, 200, replyBody.openai_compatible(JSON.stringify([{ subject: 'Alice', predicate: 'moved to', object: 'Berlin', confidence: 0.8 }])));
    }
    const notes = (promptOf(request.body).user.match(/<note /g) ?? []).length;
    return json(res, 200, replyBody.openai_compatible(`LLM SUMMARY of ${notes} note(s)`));
  });
  server = await startTestServer({
    flags: {
      llm: { provider: 'openai_compatible', base_url: `${llm.origin}/v1`, model: 'fake-model', api_key: API_KEY, timeout_ms: 2000, max_retries: 0 },
    },
  });
});

afterAll(async () => {
  await server?.close();
  if (server) removeDir(server.dataDir);
  await llm?.close();
});

beforeEach(() => {
  failWith = null;
});

const raw = (space: string, text: string) =>
  server.call('POST', '/v1/encode/raw', {
    space,
    session_id: 'session-1',
    topic_id: 'moving',
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    content: textContent(text),
  });

async function dreamSummary(space: string) {
  const tick = await server.call('POST', '/v1/lifecycle/dream-tick', { space });
  expect(tick.body).toMatchObject({ groups_processed: 1, episodic_summaries_created: 1 });
  const journal = await server.call('POST', '/v1/recall/raw', { space, session_id: 'session-1' });
  const [summaryId] = journal.body.records[0].derived_memory_ids;
  return (await server.call('GET', `/v1/introspect/record/${summaryId}?space=${space}`)).body;
}

async function consolidatedCopy(space: string, text: string) {
  await server.call('POST', '/v1/encode', { space, content: textContent(text), store: 'episodic' });
  const run = await server.call('POST', '/v1/lifecycle/consolidate', { space });
  expect(run.body.semantic_nodes_created).toBe(1);
  const recalled = await server.call('POST', '/v1/recall/query', { space, cue: {}, stores: ['semantic'], recall_mode: 'perfect', reconsolidate: false });
  return recalled.body.memories[0].record;
}

describe('with an LLM provider configured', () => {
  it('dream writes the LLM summary of the raw texts', async () => {
    await raw('llm-dream', 'Alice is moving to Berlin next month');
    await raw('llm-dream', 'Alice found a flat in Kreuzberg');
    const before = llm.requests.length;
    const summary = await dreamSummary('llm-dream');
    expect(textOfRecord(summary)).toBe('LLM SUMMARY of 2 note(s)');
    expect(summary.metadata._dream.summarized_by).toBe('openai_compatible:fake-model');
    const sent = llm.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0].url).toBe('/v1/chat/completions');
    expect(promptOf(sent[0].body).user).toContain('Alice found a flat in Kreuzberg');
  });

  it('consolidation stores the LLM summary and the extracted relations', async () => {
    const copy = await consolidatedCopy('llm-consolidate', 'Alice moved to Berlin in 2024 and works at a bakery');
    expect(copy.content.summary).toBe('LLM SUMMARY of 1 note(s)');
    expect(copy.metadata.extracted_relations).toEqual([{ subject: 'Alice', predicate: 'moved to', object: 'Berlin', confidence: 0.8 }]);
    expect(copy.metadata._consolidation).toEqual({ summarized_by: 'openai_compatible:fake-model' });
  });

  it('smart consolidation: migrated ≤ processed, and every new semantic record has a summary (P4-9)', async () => {
    const texts = ['Alice moved to Berlin in 2024', 'Bob started at the bakery on Monday', 'the bakery opens at six'];
    for (const text of texts) await server.call('POST', '/v1/encode', { space: 'p4-9', content: textContent(text), store: 'episodic' });
    const run = await server.call('POST', '/v1/lifecycle/consolidate', { space: 'p4-9', strategy: 'full' });
    expect(run.body.records_processed).toBe(texts.length);
    expect(run.body.records_migrated).toBeLessThanOrEqual(run.body.records_processed);
    expect(run.body.semantic_nodes_created).toBeGreaterThan(0);
    const recalled = await server.call('POST', '/v1/recall/query', { space: 'p4-9', cue: {}, stores: ['semantic'], recall_mode: 'perfect', reconsolidate: false, limit: 10 });
    expect(recalled.body.memories).toHaveLength(run.body.semantic_nodes_created);
    for (const { record } of recalled.body.memories) expect(record.content.summary).toBe('LLM SUMMARY of 1 note(s)');
  });

  it('falls back to the built-in summaries when the provider fails, logging it without the key', async () => {
    failWith = 401;
    await raw('llm-down', 'Alice is moving to Berlin next month');
    await raw('llm-down', 'Alice found a flat in Kreuzberg');
    const summary = await dreamSummary('llm-down');
    expect(textOfRecord(summary)).toMatch(/^Dream summary for session session-1 \/ topic moving: Alice is moving/);
    expect(summary.metadata._dream.summarized_by).toBeUndefined();

    const copy = await consolidatedCopy('llm-down-c', 'Bob prefers green tea in the morning, every single day');
    expect(copy.content.summary).toBe('Bob prefers green tea in the morning, every single day'.slice(0, 100));
    expect(copy.metadata.extracted_relations).toBeUndefined();

    const failures = server.logs.filter((line) => line.includes('openai_compatible:fake-model failed'));
    expect(failures.some((line) => line.startsWith('dream:'))).toBe(true);
    expect(failures.some((line) => line.startsWith('consolidate:') && line.includes('relations'))).toBe(true);
    expect(failures.every((line) => line.includes('answered 401'))).toBe(true);
    expect(server.logs.join('\n')).not.toContain(API_KEY);
  });
});
