import { expect } from 'vitest';
import { defaultRecallScoring } from '../../src/actors/hippocampus/recall.js';
import { embedText } from '../../src/embedding/local.js';
import { textOfRecord, type TestServer } from './server.js';

/** What the helpers call: a real server (`TestServer`) or the in-process REST door (`sharedRuntime`). */
type RestCaller = Pick<TestServer, 'call'>;

// Shared pieces of the REST recall end-to-end tests (test/transports/rest/recall-*.e2e.test.ts): thin wrappers
// over the REST routes that fail loudly on an unexpected status, and a clock the tests can move.

/** The spec §10 recall defaults for its scenarios: no side effects, no activation, exact rendering. */
export const EXACT = { reconsolidate: false, activation_depth: 0, recall_mode: 'perfect' } as const;

export interface Memory {
  record: any;
  relevance_score: number;
  activation_path: string[] | null;
  rendered_content: any;
}

/** A runtime clock: real time plus an offset, or a fixed instant. Hand `now` to startTestServer or sharedRuntime. */
export class TestClock {
  offsetMs = 0;
  fixedMs: number | null = null;
  readonly now = (): number => this.fixedMs ?? Date.now() + this.offsetMs;
  /** Pins the clock at `ms` (every encode after this is created at `ms`). */
  set(ms: number): void {
    this.fixedMs = ms;
  }
  reset(): void {
    this.offsetMs = 0;
    this.fixedMs = null;
  }
}

export async function encode(server: RestCaller, space: string, content: unknown, extra: Record<string, unknown> = {}): Promise<string> {
  const response = await server.call('POST', '/v1/encode', { space, content, ...extra });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.record_id as string;
}

export async function encodeBatch(server: RestCaller, space: string, records: unknown[], inferAssociations: boolean): Promise<string[]> {
  const response = await server.call('POST', '/v1/encode/batch', { space, records, infer_associations: inferAssociations });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.results.map((result: { record_id: string }) => result.record_id);
}

/** POST /v1/recall/query; expects 200 and returns the body. */
export async function recall(server: RestCaller, space: string, body: Record<string, unknown>): Promise<any> {
  const response = await server.call('POST', '/v1/recall/query', { space, ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

export const idsOf = (body: { memories: Memory[] }): string[] => body.memories.map((memory) => memory.record.id);
export const textsOf = (body: { memories: Memory[] }): string[] => body.memories.map((memory) => textOfRecord(memory.record));

/** A text content block list with its bytes as base64 (the other accepted binary form). */
export function bytesOf(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Cosine of two texts under the built-in embedder (dimension 256, the default). Some tests need two
 * texts to be unrelated for the embedder too, or a vector hit of chance similarity would blur what they
 * check; they assert it first with this, so a change of the embedder shows up as a clear precondition
 * failure instead of a puzzling one.
 */
export function localCosine(a: string, b: string): number {
  const x = embedText(a, 256);
  const y = embedText(b, 256);
  let dot = 0;
  for (let i = 0; i < x.length; i++) dot += x[i] * y[i];
  return dot;
}

/** The similarity below which recall.query drops a vector hit. */
export const VECTOR_FLOOR = defaultRecallScoring.minVectorSimilarity;

export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
