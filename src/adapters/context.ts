// The shared core of the context adapters (reference docs inventory §6.3, "memory-context formatting per
// model"): the memories of a recall.query answer become one block of text to put into a model's prompt,
// within a token budget. Each format (claude.ts, gpt.ts, gemini.ts) only says how to open, separate,
// render and close entries; choosing entries and counting tokens happen here, once.
//
// Rules, all pure and deterministic:
// - Entries are ordered by relevance, highest first; ties by record id (byte order), so the same answer
//   always gives the same text.
// - The budget is filled in that order, whole entries only: an entry that does not fit is omitted and
//   smaller later ones may still be included (the reference stopped at the first misfit, leaving budget
//   unused). The estimate covers the whole text, wrapper included.
// - A memory without text (an image-only record, say) is omitted with reason "no_text".
// - When even the empty wrapper does not fit (a budget of 0), the text is empty and every entry omitted.

import { textOf } from '../cmp/content.js';
import type { ContextFormat, RecallContext, RecalledMemory } from '../cmp/operations.js';
import type { StoreType } from '../cmp/types.js';
import { tokenUnits, unitsToTokens } from './tokens.js';

// The format names and the answer's shape belong to the CMP (a recall.query field); defined there once.
export { CONTEXT_FORMATS, type ContextFormat } from '../cmp/operations.js';

/** One memory as every format shows it. */
export interface ContextEntry {
  id: string;
  store: StoreType;
  /** Fidelity score 0..1 at recall time. */
  fidelity: number;
  /** The text the model reads: the recall's rendered text (noise applied in human mode). */
  text: string;
}

/** How one format writes entries; `open + entry + separator + entry … + close` is the whole text. */
export interface ContextRenderer {
  readonly open: string;
  readonly separator: string;
  readonly close: string;
  entry(entry: ContextEntry): string;
}

export interface FormatContextOptions {
  model: ContextFormat;
  /** Most tokens the text may take, by `estimateTokens`. Tokens, default unlimited, range >= 0. */
  budgetTokens?: number;
}

export type OmittedReason = RecallContext['omitted'][number]['reason'];

/** `token_estimate` is `estimateTokens(text)`; `omitted` is in relevance order. */
export type FormattedContext = RecallContext;

/** Fidelity as every format prints it: two decimals, like the reference adapters. */
export function fidelityLabel(score: number): string {
  return (Number.isFinite(score) ? Math.min(1, Math.max(0, score)) : 0).toFixed(2);
}

/** The text a model should read for a recalled memory: rendered text, else its summary, else null. */
export function memoryText(memory: RecalledMemory): string | null {
  const text = textOf(memory.rendered_content) ?? memory.rendered_content.summary ?? memory.record.content.summary ?? null;
  return text === null || text.trim() === '' ? null : text;
}

/** Highest relevance first; ties (and NaN) by record id, so order never depends on input order. */
export function byRelevance(a: RecalledMemory, b: RecalledMemory): number {
  const ra = Number.isFinite(a.relevance_score) ? a.relevance_score : Number.NEGATIVE_INFINITY;
  const rb = Number.isFinite(b.relevance_score) ? b.relevance_score : Number.NEGATIVE_INFINITY;
  if (ra !== rb) return rb - ra;
  return a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0;
}

/** Renders `memories` with `renderer` within `budgetTokens` (see the rules in the file header). */
export function renderContext(format: ContextFormat, renderer: ContextRenderer, memories: readonly RecalledMemory[], budgetTokens = Number.POSITIVE_INFINITY): FormattedContext {
  if (!(budgetTokens >= 0)) throw new RangeError(`budgetTokens must be >= 0, got ${String(budgetTokens)}`);
  const budgetUnits = budgetTokens * 4;
  const ordered = [...memories].sort(byRelevance);
  const result: FormattedContext = { format, text: '', token_estimate: 0, included: [], omitted: [] };

  let units = tokenUnits(renderer.open) + tokenUnits(renderer.close);
  const wrapperFits = units <= budgetUnits;
  const separatorUnits = tokenUnits(renderer.separator);
  const parts: string[] = [];
  for (const memory of ordered) {
    const text = memoryText(memory);
    if (text === null) {
      result.omitted.push({ id: memory.record.id, reason: 'no_text' });
      continue;
    }
    const rendered = renderer.entry({
      id: memory.record.id,
      store: memory.record.store,
      fidelity: memory.record.fidelity.score,
      text,
    });
    const cost = tokenUnits(rendered) + (parts.length > 0 ? separatorUnits : 0);
    if (!wrapperFits || units + cost > budgetUnits) {
      result.omitted.push({ id: memory.record.id, reason: 'budget' });
      continue;
    }
    units += cost;
    parts.push(rendered);
    result.included.push(memory.record.id);
  }
  if (!wrapperFits) return result;
  result.text = renderer.open + parts.join(renderer.separator) + renderer.close;
  result.token_estimate = unitsToTokens(units);
  return result;
}
