// The LLM provider seam (reference spec §4.11 "provider contract"): summarisation for dream and
// consolidation, relation extraction for consolidation. Embeddings are the Embedder's job
// (src/embedding), so a provider here only talks. Every provider is one `complete` call over its own wire
// format; the prompts and the reading of answers are shared, here, so all providers behave alike.

import { CmpError } from '../cmp/errors.js';

/** A subject–predicate–object triple, as stored in `metadata.extracted_relations` (spec §4.6). */
export interface ExtractedRelation {
  subject: string;
  predicate: string;
  object: string;
  /** 0..1; 1 when the model gives none. */
  confidence: number;
}

export interface LlmProvider {
  /** "<kind>:<model>", for logs and stats. */
  readonly name: string;
  /** A summary of `texts` in at most about `maxTokens` tokens; rejects with a CmpError (never blank). */
  summarize(texts: string[], maxTokens: number, signal?: AbortSignal): Promise<string>;
  /** The factual relations stated in `text`; rejects with a CmpError when the answer cannot be read. */
  extractRelations(text: string, signal?: AbortSignal): Promise<ExtractedRelation[]>;
}

/** One prompt: system instructions plus one user message. */
export interface Prompt {
  system: string;
  user: string;
  maxTokens: number;
}

/** One model call of a provider, over its own wire format: the reply's text. */
export type Complete = (prompt: Prompt, signal?: AbortSignal) => Promise<string>;

/** Tokens allowed for a relation list: enough for a few dozen triples. */
const RELATIONS_MAX_TOKENS = 1024;
/** Relations kept from one answer, at most: a bound on what one memory's metadata can grow by. */
export const MAX_RELATIONS = 50;

export function summarizePrompt(texts: string[], maxTokens: number): Prompt {
  return {
    system:
      'You summarise notes for a memory database. Write one plain-text summary that keeps names, numbers, ' +
      'decisions and facts; no preamble, no Markdown, no invented details. ' +
      `Stay under ${Math.max(1, Math.floor(maxTokens * 0.75))} words.`,
    user: texts.map((text, index) => `<note index="${index + 1}">\n${text}\n</note>`).join('\n'),
    maxTokens,
  };
}

export function relationsPrompt(text: string): Prompt {
  return {
    system:
      'Extract the factual relations stated in the text as subject-predicate-object triples. Answer with ' +
      'a JSON array only, no prose: [{"subject": "...", "predicate": "...", "object": "...", "confidence": 0.0-1.0}]. ' +
      'Answer [] when there are none.',
    user: text,
    maxTokens: RELATIONS_MAX_TOKENS,
  };
}

/**
 * An LlmProvider from one `complete` call. `fail` turns a problem with an answer into this provider's
 * CmpError (so the message names the provider and endpoint).
 */
export function llmProvider(name: string, complete: Complete, fail: (problem: string) => CmpError): LlmProvider {
  return {
    name,
    async summarize(texts, maxTokens, signal) {
      const reply = (await complete(summarizePrompt(texts, maxTokens), signal)).trim();
      if (reply === '') throw fail('answered an empty summary');
      return reply;
    },
    async extractRelations(text, signal) {
      const reply = await complete(relationsPrompt(text), signal);
      return parseRelations(reply, fail);
    },
  };
}

/**
 * The relations of a model's answer: a JSON array, possibly inside a ```json fence or after a sentence
 * (models add them despite instructions). Entries without the three strings are skipped; confidence is
 * clamped to 0..1 (1 when absent). An answer with no readable array is an error, so the caller can tell
 * "no relations" from "no answer".
 */
export function parseRelations(reply: string, fail: (problem: string) => CmpError): ExtractedRelation[] {
  const start = reply.indexOf('[');
  const end = reply.lastIndexOf(']');
  let parsed: unknown;
  try {
    parsed = start >= 0 && end > start ? JSON.parse(reply.slice(start, end + 1)) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!Array.isArray(parsed)) throw fail(`answered relations that are not a JSON array: ${JSON.stringify(reply.slice(0, 120))}`);
  const relations: ExtractedRelation[] = [];
  for (const item of parsed) {
    if (item === null || typeof item !== 'object') continue;
    const { subject, predicate, object, confidence } = item as Record<string, unknown>;
    if (![subject, predicate, object].every((part) => typeof part === 'string' && part.trim() !== '')) continue;
    const score = typeof confidence === 'number' && Number.isFinite(confidence) ? Math.min(1, Math.max(0, confidence)) : 1;
    relations.push({
      subject: (subject as string).trim(),
      predicate: (predicate as string).trim(),
      object: (object as string).trim(),
      confidence: score,
    });
    if (relations.length >= MAX_RELATIONS) break;
  }
  return relations;
}

/** A required string at `path` of a JSON answer, or the provider's error naming the path. */
export function stringAt(json: unknown, path: (string | number)[], fail: (problem: string) => CmpError): string {
  let node: unknown = json;
  for (const key of path) {
    node = node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  if (typeof node !== 'string')
    throw fail(
      `answered without ${path
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
        .join('')
        .slice(1)} as a string`,
    );
  return node;
}
