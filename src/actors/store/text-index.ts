import { CmpError } from '../../cmp/errors.js';
import { parseQuery } from './text-query.js';
import { Scratch } from './text-scratch.js';
import { SpaceIndex, type SpaceSnapshot, type TextContext, type TextHit, type TextIndexOptions } from './text-space.js';

export type { FieldSnapshot, SpaceSnapshot, TextContext, TextHit, TextIndexOptions } from './text-space.js';
import { TOKENIZER_VERSION, tokenize } from './tokenize.js';

// A store's full-text index (reference spec §5.1): BM25+ over the fields `body` (searchableText in
// src/cmp/content.ts) and `summary` (content.summary), one independent index per memory space, so spaces
// never share documents, document counts or term statistics. Documents and queries go through the same
// tokenize(). Snapshots (toJSON/fromJSON) let a store load its index at start instead of re-tokenising
// every record; a snapshot this build cannot read is refused and the store rebuilds from its partition.
//
// Why not MiniSearch: on 100,000 ~100-character records in one space, MiniSearch 7.2 took 8–9 ms CPU
// p50 and ~95 ms p99 per 2–3 word query (it builds, scores and sorts a result object for every matching
// document, thousands for common words) against a 5 ms recall target, held ~80 MB of heap and wrote a
// 15 MB snapshot. This index keeps one plain integer array of postings per term and field, scores into
// reused typed arrays and keeps only the best `limit` hits: on the same corpus 0.2–0.45 ms p50 and
// 1.4–2.2 ms p99 CPU, ~26 MB of heap, a 6.7 MB snapshot loaded in ~0.2 s of CPU.
//
// Layout, per space and field: `terms` maps a term to its postings, each posting one small integer
// `slot << TF_BITS | tf` — the document's slot number and its term frequency in that field, capped at
// TF_MAX (BM25 has long saturated by then). Slots are handed out in increasing order, so postings stay
// sorted by slot. Deletes are tombstones (`alive[slot] = 0`), skipped at once by every search and
// excluded from document frequencies; compaction drops their postings and renumbers slots once they
// are a large enough share (options.compaction), costing O(postings) now and then instead of on every
// delete. An update is a delete plus an add under a new slot.
//
// Turn context (issue 17). A document may name the document before it in its session (`before`, a
// conversation turn's `temporal` link; turn-links.ts). A search with `context` reads each body as
// one document with the words of its neighbours added at a share: `near` × their term frequencies
// for the turns just before and after, `far` × for those two away, document length likewise. The
// postings hold each document's own words only, so the neighbourhood is applied at search time:
// a forgotten turn leaves its neighbours' contexts at once, and phrase and exclusion clauses judge a
// document by its own words. On the LoCoMo dev conversations this document expansion did what
// spreading neighbours' scores did, better (R@10 +0.03 in the offline probe): BM25 saturates per term
// over the whole window instead of summing the turns' separate scores.

export const defaultTextIndexOptions: TextIndexOptions = {
  bm25: { k1: 1.2, b: 0.75, delta: 0.5 },
  compaction: { minDeleted: 256, minDeletedFraction: 0.2 },
};

/** What a record contributes to the index; see `searchableText` in src/cmp/content.ts. */
export interface TextDocument {
  body: string;
  summary: string | null;
}

/**
 * The persisted form, version 2 (version 1, still read, had no `before`). Per space: `ids` in slot order, then per field the token count of each
 * document (aligned with `ids`) and `[term, postings]` pairs. Postings are gaps between slot numbers
 * (the first counted from -1, so every gap is ≥ 1), each optionally followed by a negative number -tf
 * when the document holds the term tf > 1 times.
 */
export interface TextIndexSnapshot {
  serializationVersion: 1 | 2;
  /** TOKENIZER_VERSION of the build that wrote it: the terms inside are that tokenizer's output. */
  tokenizerVersion: number;
  spaces: Record<string, SpaceSnapshot>;
}

export const TEXT_INDEX_SERIALIZATION_VERSION = 2;

export class TextIndex {
  readonly #options: TextIndexOptions;
  readonly #spaces = new Map<string, SpaceIndex>();
  // Searches run one at a time (synchronously), so every space shares one scratch, sized to the largest.
  #scratch: Scratch | null = null;

  constructor(options: Partial<TextIndexOptions> = {}) {
    this.#options = { ...defaultTextIndexOptions, ...options };
  }

  /**
   * Indexes `doc` under `id`, replacing any earlier version; `before` is the id of the document before
   * it in its session (turn context). A doc with only blank text is removed (§5.1).
   */
  upsert(space: string, id: string, doc: TextDocument, before?: string): void {
    if (doc.body.trim() === '' && (doc.summary === null || doc.summary.trim() === '')) {
      this.remove(space, id);
      return;
    }
    let index = this.#spaces.get(space);
    if (index === undefined) {
      index = new SpaceIndex();
      this.#spaces.set(space, index);
    }
    index.remove(id);
    index.add(id, [tokenize(doc.body), doc.summary === null ? [] : tokenize(doc.summary)], before);
    index.maybeCompact(this.#options.compaction);
  }

  /** Removes `id` from `space`; removing an absent id does nothing. */
  remove(space: string, id: string): void {
    const index = this.#spaces.get(space);
    if (index === undefined || !index.remove(id)) return;
    // An emptied space is dropped whole: its tombstones and postings go with it.
    if (index.live === 0) this.#spaces.delete(space);
    else index.maybeCompact(this.#options.compaction);
  }

  has(space: string, id: string): boolean {
    return this.#spaces.get(space)?.has(id) ?? false;
  }

  /** Documents indexed in `space`. */
  size(space: string): number {
    return this.#spaces.get(space)?.live ?? 0;
  }

  /**
   * The best `limit` documents of `space` for `query`, by BM25+ summed over body and summary, score
   * descending, ties by id. Query syntax: words are alternatives (OR); `"a quoted phrase"` is one
   * alternative that matches only documents holding every one of its terms (positions are not indexed,
   * so order and adjacency are not checked); `-word` or `-"phrase"` drops documents holding all of its
   * terms. A query with no positive term left after tokenising returns nothing. With `context`, a
   * word is scored over each body and its session neighbours' (see the header).
   */
  search(space: string, query: string, limit: number, context?: TextContext): TextHit[] {
    const index = this.#spaces.get(space);
    if (index === undefined || !(limit >= 1)) return [];
    const parsed = parseQuery(query);
    if (parsed.should.length === 0) return [];
    if (this.#scratch === null || this.#scratch.capacity < index.slots) this.#scratch = new Scratch(index.capacity);
    const withContext = context !== undefined && (context.near > 0 || context.far > 0) ? context : null;
    return index.search(parsed, Math.floor(limit), this.#options.bm25, this.#scratch, withContext);
  }

  toJSON(): TextIndexSnapshot {
    const spaces = Object.fromEntries([...this.#spaces].map(([space, index]) => [space, index.toJSON()]));
    return { serializationVersion: TEXT_INDEX_SERIALIZATION_VERSION, tokenizerVersion: TOKENIZER_VERSION, spaces };
  }

  /**
   * Loads a snapshot written by toJSON, as an object or its JSON text. Throws INTERNAL_ERROR for a
   * snapshot of another format or tokenizer version, or a malformed one: the caller rebuilds the index
   * from its records.
   */
  static fromJSON(json: string | TextIndexSnapshot, options: Partial<TextIndexOptions> = {}): TextIndex {
    const snapshot: unknown = typeof json === 'string' ? parseJson(json) : json;
    if (snapshot === null || typeof snapshot !== 'object') {
      throw new CmpError('INTERNAL_ERROR', 'text index snapshot is not a JSON object');
    }
    const { serializationVersion, tokenizerVersion, spaces } = snapshot as Partial<TextIndexSnapshot>;
    if (serializationVersion !== 1 && serializationVersion !== TEXT_INDEX_SERIALIZATION_VERSION) {
      throw new CmpError('INTERNAL_ERROR', `text index snapshot has serializationVersion ${String(serializationVersion)}; this build reads versions 1 and ${TEXT_INDEX_SERIALIZATION_VERSION}`);
    }
    if (tokenizerVersion !== TOKENIZER_VERSION) {
      throw new CmpError(
        'INTERNAL_ERROR',
        `text index snapshot was tokenized by tokenizer version ${String(tokenizerVersion)}; this build tokenizes with version ${TOKENIZER_VERSION}, so the index must be rebuilt`,
      );
    }
    if (spaces === null || typeof spaces !== 'object') {
      throw new CmpError('INTERNAL_ERROR', 'text index snapshot has no spaces object');
    }
    const index = new TextIndex(options);
    for (const [space, plain] of Object.entries(spaces)) {
      try {
        const loaded = SpaceIndex.fromJSON(plain);
        if (loaded.live > 0) index.#spaces.set(space, loaded);
      } catch (cause) {
        throw new CmpError('INTERNAL_ERROR', `text index snapshot space "${space}" is malformed`, { cause });
      }
    }
    return index;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new CmpError('INTERNAL_ERROR', 'text index snapshot is not valid JSON', { cause });
  }
}
