// `format` and `budget_tokens` on POST /v1/recall/query, through the REST route in process.
import { describe, expect, it } from 'vitest';
import { estimateTokens } from '../../src/adapters/index.js';
import { sharedRuntime } from '../helpers/front-doors.js';
import { textContent } from '../helpers/server.js';

const server = sharedRuntime();

async function seed(space: string, texts: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const text of texts) {
    const stored = await server.call('POST', '/v1/encode', { space, content: textContent(text), store: 'semantic' });
    expect(stored.status).toBe(200);
    ids.push(stored.body.record_id);
  }
  return ids;
}

const recall = (body: Record<string, unknown>) => server.call('POST', '/v1/recall/query', { recall_mode: 'perfect', reconsolidate: false, ...body });

describe('POST /v1/recall/query with format', () => {
  it('answers no context when no format is asked for', async () => {
    await seed('ctx-none', ['plain recall about tea']);
    const answer = await recall({ space: 'ctx-none', cue: { text: 'tea' } });
    expect(answer.status).toBe(200);
    expect(answer.body.memories).toHaveLength(1);
    expect(answer.body).not.toHaveProperty('context');
  });

  it('adds a Claude XML context with the recalled memories, escaped', async () => {
    const [id] = await seed('ctx-claude', ['Alice & Bob drink <green> "tea"']);
    const answer = await recall({ space: 'ctx-claude', cue: { text: 'tea' }, format: 'claude' });
    expect(answer.status).toBe(200);
    const { context } = answer.body;
    expect(context.format).toBe('claude');
    expect(context.included).toEqual([id]);
    expect(context.omitted).toEqual([]);
    expect(context.text).toContain(`<memory id="${id}" store="semantic" fidelity="1.00">`);
    expect(context.text).toContain('Alice &amp; Bob drink &lt;green&gt; &quot;tea&quot;');
    expect(context.token_estimate).toBe(estimateTokens(context.text));
  });

  it('keeps a GPT context within budget_tokens, as valid JSON, in relevance order', async () => {
    await seed('ctx-gpt', ['tea one tea tea tea', 'tea two', `tea three ${'filler '.repeat(50)}`]);
    const full = await recall({ space: 'ctx-gpt', cue: { text: 'tea' }, format: 'gpt' });
    const memoriesInOrder = full.body.memories.map((m: { record: { id: string } }) => m.record.id);
    expect(full.body.context.included).toEqual(memoriesInOrder);
    const budget = full.body.context.token_estimate - 1;

    const cut = await recall({ space: 'ctx-gpt', cue: { text: 'tea' }, format: 'gpt', budget_tokens: budget });
    const { context } = cut.body;
    expect(context.token_estimate).toBeLessThanOrEqual(budget);
    expect(context.omitted.length).toBeGreaterThan(0);
    expect(context.omitted.every((entry: { reason: string }) => entry.reason === 'budget')).toBe(true);
    const parsed = JSON.parse(context.text) as { memories: { id: string }[] };
    expect(parsed.memories.map((m) => m.id)).toEqual(context.included);
  });

  it('answers a Gemini context for an empty recall', async () => {
    const answer = await recall({ space: 'ctx-empty', cue: { text: 'nothing' }, format: 'gemini', budget_tokens: 50 });
    expect(answer.status).toBe(200);
    expect(answer.body.context).toEqual({ format: 'gemini', text: '', token_estimate: 0, included: [], omitted: [] });
  });

  it.each([
    [{ format: 'llama' }, 'format'],
    [{ format: 'gpt', budget_tokens: -1 }, 'budget_tokens'],
    [{ format: 'gpt', budget_tokens: 1.5 }, 'budget_tokens'],
    [{ format: 'gpt', budget_tokens: 'many' }, 'budget_tokens'],
    [{ budget_tokens: 100 }, 'budget_tokens'],
  ])('refuses %j with VALIDATION_ERROR naming the field', async (fields, field) => {
    const answer = await recall({ space: 'ctx-bad', ...fields });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('VALIDATION_ERROR');
    expect(answer.body.details.field).toBe(field);
    expect(answer.body.message).toContain(field);
  });
});
