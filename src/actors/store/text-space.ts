import { CmpError } from '../../cmp/errors.js';
import type { ParsedQuery } from './text-query.js';
import { Accumulator, Scratch, type SlotSet } from './text-scratch.js';
import { forEachInContext, TurnLinks } from './turn-links.js';

// One memory space's part of a text index (text-index.ts, whose header describes the layout and the
// scoring): its documents by slot, tombstones, per-field postings and lengths, and its turn links.

/** BM25+ and compaction knobs, in one place (STYLE §6.7). */
export interface TextIndexOptions {
  bm25: {
    /** Term-frequency saturation. Unitless, ≥ 0; 1.2 as in Lucene and Tantivy. Useful range 1.2–2. */
    k1: number;
    /** Length normalisation: 0 ignores field length, 1 normalises fully. 0–1; 0.75 as in Lucene and Tantivy. */
    b: number;
    /**
     * BM25+ floor added per matching term and field, so a long document holding the term still outranks
     * one that lacks it. Unitless, ≥ 0; 0.5 (MiniSearch's default); 0 gives classic BM25.
     */
    delta: number;
  };
  compaction: {
    /** Compact a space only once it holds at least this many deleted or replaced documents. Count, ≥ 1. */
    minDeleted: number;
    /** …and they make up at least this fraction of its slots. 0–1. */
    minDeletedFraction: number;
  };
}

/** Turn context of a search (see the header): shares of the neighbours' words, 0 for none. */
export interface TextContext {
  /** Share of the words of the turns just before and after. 0–1. */
  near: number;
  /** Share of the words of the turns two away. 0–1. */
  far: number;
}

export interface TextHit {
  id: string;
  score: number;
}

export interface SpaceSnapshot {
  ids: string[];
  /** Version 2: per id, the index in `ids` of the document before it in its session, or -1. */
  before?: number[];
  body: FieldSnapshot;
  summary: FieldSnapshot;
}

export interface FieldSnapshot {
  lengths: number[];
  postings: [term: string, postings: number[]][];
}

const FIELD_NAMES = ['body', 'summary'] as const;
const TF_BITS = 6;
const TF_MAX = (1 << TF_BITS) - 1;
/** Slots stay below 2^25 so `slot << TF_BITS` is a small integer (V8 Smi); compaction renumbers first. */
const MAX_SLOTS = 2 ** (31 - TF_BITS);
/** Up to this limit the best hits are kept by insertion as candidates stream by; above it, all are sorted. */
const TOP_BY_INSERTION = 128;

class FieldIndex {
  readonly terms = new Map<string, number[]>();
  /** Token count of each slot's text in this field. */
  lengths = new Uint32Array(16);
  /** Sum of `lengths` over live documents. */
  totalLength = 0;
  /** Live documents with at least one token here: the average length is over these (as Lucene does). */
  documents = 0;
}

/** One space's documents: ids by slot, tombstones, and per-field postings and lengths. */
export class SpaceIndex {
  ids: (string | undefined)[] = [];
  readonly #slotOf = new Map<string, number>();
  alive = new Uint8Array(16);
  fields: FieldIndex[] = [new FieldIndex(), new FieldIndex()];
  live = 0;
  deleted = 0;
  readonly links = new TurnLinks();
  /** Body lengths with turn context, for the `context` they were computed with; dropped on any change. */
  #contextLengths: { near: number; far: number; lengths: Float64Array; average: number } | null = null;
  readonly #slotOfLive = (id: string): number | undefined => this.#slotOf.get(id);

  /** Slots in use, live or tombstoned. */
  get slots(): number {
    return this.ids.length;
  }

  /** Slots allocated (grows by doubling), so a search after each add does not reallocate scratch. */
  get capacity(): number {
    return this.alive.length;
  }

  has(id: string): boolean {
    return this.#slotOf.has(id);
  }

  add(id: string, fieldTokens: string[][], before?: string): void {
    if (this.ids.length >= MAX_SLOTS) this.compact();
    if (this.ids.length >= MAX_SLOTS) {
      throw new CmpError('INTERNAL_ERROR', `text index space holds ${MAX_SLOTS} documents, the most one space can`);
    }
    const slot = this.ids.length;
    this.ids.push(id);
    this.#slotOf.set(id, slot);
    if (slot >= this.alive.length) this.#grow(slot + 1);
    this.alive[slot] = 1;
    this.live += 1;
    this.#contextLengths = null;
    this.links.added(id, slot, before, this.#slotOfLive);
    for (let f = 0; f < this.fields.length; f++) {
      const field = this.fields[f];
      const tokens = fieldTokens[f];
      field.lengths[slot] = tokens.length;
      if (tokens.length === 0) continue;
      field.totalLength += tokens.length;
      field.documents += 1;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        const posting = (slot << TF_BITS) | Math.min(tf, TF_MAX);
        const postings = field.terms.get(term);
        if (postings === undefined) field.terms.set(term, [posting]);
        else postings.push(posting);
      }
    }
  }

  /** Tombstones `id`; false if absent. */
  remove(id: string): boolean {
    const slot = this.#slotOf.get(id);
    if (slot === undefined) return false;
    this.#slotOf.delete(id);
    this.ids[slot] = undefined;
    this.alive[slot] = 0;
    this.live -= 1;
    this.deleted += 1;
    this.#contextLengths = null;
    this.links.removed(id, slot);
    for (const field of this.fields) {
      const length = field.lengths[slot];
      if (length === 0) continue;
      field.totalLength -= length;
      field.documents -= 1;
    }
    return true;
  }

  maybeCompact({ minDeleted, minDeletedFraction }: TextIndexOptions['compaction']): void {
    if (this.deleted >= minDeleted && this.deleted >= minDeletedFraction * this.ids.length) this.compact();
  }

  /** Drops tombstoned postings and renumbers live slots densely, keeping their order. */
  compact(): void {
    const remap = this.#remap();
    const ids: string[] = [];
    for (const id of this.ids) if (id !== undefined) ids.push(id);
    for (const field of this.fields) {
      const lengths = new Uint32Array(Math.max(16, ids.length));
      for (let slot = 0; slot < this.ids.length; slot++) if (remap[slot] >= 0) lengths[remap[slot]] = field.lengths[slot];
      field.lengths = lengths;
      for (const [term, postings] of field.terms) {
        let kept = 0;
        for (const posting of postings) {
          const slot = remap[posting >>> TF_BITS];
          if (slot >= 0) postings[kept++] = (slot << TF_BITS) | (posting & TF_MAX);
        }
        if (kept === 0) field.terms.delete(term);
        else postings.length = kept;
      }
    }
    this.ids = ids;
    ids.forEach((id, slot) => this.#slotOf.set(id, slot));
    this.alive = new Uint8Array(Math.max(16, ids.length)).fill(1, 0, ids.length);
    this.deleted = 0;
    this.#contextLengths = null;
    this.links.relink(this.ids, this.#slotOfLive);
  }

  search(query: ParsedQuery, limit: number, bm25: TextIndexOptions['bm25'], scratch: Scratch, context: TextContext | null): TextHit[] {
    const total = scratch.total.reset();
    const inContext = context !== null && !this.links.empty ? context : null;
    for (const terms of query.should) {
      if (terms.length === 1) {
        if (inContext) this.#scoreTermInContext(terms[0], bm25, inContext, total, scratch);
        else this.#scoreTerm(terms[0], bm25, total, null);
        continue;
      }
      const group = this.#matchAll(terms, bm25, scratch);
      for (let i = 0; i < group.count; i++) {
        const slot = group.touched[i];
        if (group.hits[slot] === terms.length) total.add(slot, group.score[slot]);
      }
    }
    const excluded = scratch.excluded.reset();
    for (const terms of query.mustNot) {
      const group = this.#matchAll(terms, null, scratch);
      for (let i = 0; i < group.count; i++) {
        const slot = group.touched[i];
        if (group.hits[slot] === terms.length) excluded.touch(slot);
      }
    }
    return this.#top(total, excluded, limit);
  }

  /**
   * Adds every live document holding `term` into `into`: its BM25+ score when `bm25` is given, else 0.
   * With `seen`, also records each such document once in `seen` (it may hold the term in two fields).
   */
  #scoreTerm(term: string, bm25: TextIndexOptions['bm25'] | null, into: Accumulator, seen: SlotSet | null): void {
    for (const field of this.fields) this.#scoreField(field, term, bm25, into, seen);
  }

  #scoreField(field: FieldIndex, term: string, bm25: TextIndexOptions['bm25'] | null, into: Accumulator, seen: SlotSet | null): void {
    const alive = this.alive;
    const postings = field.terms.get(term);
    if (postings === undefined) return;
    const df = this.deleted === 0 ? postings.length : countAlive(postings, alive);
    if (df === 0) return;
    const idf = bm25 === null ? 0 : this.#idf(df);
    // BM25+ per posting: idf · (delta + tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen))), constants hoisted.
    const k1 = bm25?.k1 ?? 0;
    const b = bm25?.b ?? 0;
    const delta = bm25?.delta ?? 0;
    const base = k1 * (1 - b);
    const perLength = (k1 * b * field.documents) / field.totalLength;
    const lengths = field.lengths;
    for (const posting of postings) {
      const slot = posting >>> TF_BITS;
      if (alive[slot] === 0) continue;
      const tf = posting & TF_MAX;
      into.add(slot, idf * (delta + (tf * (k1 + 1)) / (tf + base + perLength * lengths[slot])));
      if (seen !== null) seen.touch(slot);
    }
  }

  #idf(df: number): number {
    return Math.log(1 + (this.live - df + 0.5) / (df + 0.5));
  }

  /**
   * `#scoreTerm` with turn context: the body field scored as if each body held its neighbours' words
   * at their share (the header), document frequency and lengths included; the summary as it is.
   */
  #scoreTermInContext(term: string, bm25: TextIndexOptions['bm25'], context: TextContext, into: Accumulator, scratch: Scratch): void {
    const [body, summary] = this.fields;
    const postings = body.terms.get(term);
    if (postings !== undefined) {
      const alive = this.alive;
      const frequencies = scratch.context.reset();
      for (const posting of postings) {
        const slot = posting >>> TF_BITS;
        if (alive[slot] === 0) continue;
        const tf = posting & TF_MAX;
        forEachInContext(this.links, slot, context.near, context.far, (holder, share) => frequencies.add(holder, share * tf));
      }
      if (frequencies.count > 0) {
        const idf = this.#idf(Math.min(frequencies.count, this.live));
        const { k1, b, delta } = bm25;
        const { lengths, average } = this.#lengthsInContext(context);
        const base = k1 * (1 - b);
        const perLength = (k1 * b) / average;
        for (let i = 0; i < frequencies.count; i++) {
          const slot = frequencies.touched[i];
          const tf = frequencies.score[slot];
          into.add(slot, idf * (delta + (tf * (k1 + 1)) / (tf + base + perLength * lengths[slot])));
        }
      }
    }
    this.#scoreField(summary, term, bm25, into, null);
  }

  /** Every body's length with its neighbours' at their share, and their average over non-empty ones. */
  #lengthsInContext(context: TextContext): { lengths: Float64Array; average: number } {
    const cached = this.#contextLengths;
    if (cached !== null && cached.near === context.near && cached.far === context.far) return cached;
    const own = this.fields[0].lengths;
    const lengths = new Float64Array(this.ids.length);
    for (let slot = 0; slot < this.ids.length; slot++) {
      if (this.alive[slot] === 0 || own[slot] === 0) continue;
      forEachInContext(this.links, slot, context.near, context.far, (holder, share) => {
        lengths[holder] += share * own[slot];
      });
    }
    let total = 0;
    let documents = 0;
    for (let slot = 0; slot < lengths.length; slot++) {
      if (lengths[slot] === 0) continue;
      total += lengths[slot];
      documents += 1;
    }
    const computed = { near: context.near, far: context.far, lengths, average: documents === 0 ? 1 : total / documents };
    this.#contextLengths = computed;
    return computed;
  }

  /**
   * The documents holding any of `terms`, with the sum of the terms' scores and, in `hits`, how many of
   * the terms each holds: those with `hits === terms.length` hold them all.
   */
  #matchAll(terms: string[], bm25: TextIndexOptions['bm25'] | null, scratch: Scratch): Accumulator {
    const group = scratch.group.reset();
    for (const term of terms) {
      const seen = scratch.seen.reset();
      this.#scoreTerm(term, bm25, group, seen);
      for (let i = 0; i < seen.count; i++) group.hits[seen.touched[i]] += 1;
    }
    return group;
  }

  #top(total: Accumulator, excluded: SlotSet, limit: number): TextHit[] {
    const hits: TextHit[] = [];
    if (limit > TOP_BY_INSERTION) {
      for (let i = 0; i < total.count; i++) {
        const slot = total.touched[i];
        if (!excluded.has(slot)) hits.push({ id: this.ids[slot] as string, score: total.score[slot] });
      }
      hits.sort(byScoreThenId);
      return hits.length > limit ? hits.slice(0, limit) : hits;
    }
    for (let i = 0; i < total.count; i++) {
      const slot = total.touched[i];
      if (excluded.has(slot)) continue;
      const score = total.score[slot];
      // Most candidates lose to the current worst kept hit; they cost one comparison.
      if (hits.length === limit && score < hits[limit - 1].score) continue;
      const hit: TextHit = { id: this.ids[slot] as string, score };
      if (hits.length === limit && byScoreThenId(hit, hits[limit - 1]) >= 0) continue;
      let at = hits.length;
      while (at > 0 && byScoreThenId(hit, hits[at - 1]) < 0) at--;
      hits.splice(at, 0, hit);
      if (hits.length > limit) hits.pop();
    }
    return hits;
  }

  toJSON(): SpaceSnapshot {
    // Written as if compacted, without compacting: a snapshot never carries tombstones.
    const remap = this.#remap();
    const ids = this.ids.filter((id): id is string => id !== undefined);
    const [body, summary] = this.fields.map((field): FieldSnapshot => {
      const lengths = new Array<number>(ids.length);
      for (let slot = 0; slot < this.ids.length; slot++) if (remap[slot] >= 0) lengths[remap[slot]] = field.lengths[slot];
      const postings: [string, number[]][] = [];
      for (const [term, list] of field.terms) {
        const encoded: number[] = [];
        let previous = -1;
        for (const posting of list) {
          const slot = remap[posting >>> TF_BITS];
          if (slot < 0) continue;
          encoded.push(slot - previous);
          previous = slot;
          const tf = posting & TF_MAX;
          if (tf > 1) encoded.push(-tf);
        }
        if (encoded.length > 0) postings.push([term, encoded]);
      }
      return { lengths, postings };
    });
    const slotOfDense = (id: string): number => {
      const slot = this.#slotOf.get(id);
      return slot === undefined ? -1 : remap[slot];
    };
    const before = ids.map((id) => {
      const previous = this.links.beforeId(id);
      return previous === undefined ? -1 : slotOfDense(previous);
    });
    return { ids, before, body, summary };
  }

  static fromJSON(plain: SpaceSnapshot): SpaceIndex {
    const index = new SpaceIndex();
    const { ids } = plain;
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) throw new Error('ids must be an array of strings');
    index.#grow(ids.length);
    ids.forEach((id, slot) => index.#slotOf.set(id, slot));
    if (index.#slotOf.size !== ids.length) throw new Error('ids must be unique');
    index.ids = [...ids];
    index.alive.fill(1, 0, ids.length);
    index.live = ids.length;
    FIELD_NAMES.forEach((name, f) => {
      const field = index.fields[f];
      const { lengths, postings }: Partial<FieldSnapshot> = plain[name] ?? {};
      if (!Array.isArray(lengths) || lengths.length !== ids.length) throw new Error(`${name}.lengths must have one entry per id`);
      for (let slot = 0; slot < ids.length; slot++) {
        const length = lengths[slot];
        if (!Number.isInteger(length) || length < 0) throw new Error(`${name}.lengths[${slot}] is not a token count`);
        field.lengths[slot] = length;
        field.totalLength += length;
        if (length > 0) field.documents += 1;
      }
      if (!Array.isArray(postings)) throw new Error(`${name}.postings must be an array`);
      for (const [term, encoded] of postings) {
        if (typeof term !== 'string' || !Array.isArray(encoded)) throw new Error(`${name}.postings holds a bad entry`);
        field.terms.set(term, decodePostings(encoded, ids.length, `${name} postings of "${term}"`));
      }
    });
    const { before } = plain;
    if (before !== undefined) {
      if (!Array.isArray(before) || before.length !== ids.length) throw new Error('before must have one entry per id');
      before.forEach((previous, slot) => {
        if (previous === -1) return;
        if (!Number.isInteger(previous) || previous < 0 || previous >= ids.length || previous === slot) throw new Error(`before[${slot}] is not a slot`);
        index.links.added(ids[slot], slot, ids[previous], index.#slotOfLive);
      });
    }
    return index;
  }

  /** Old slot → dense slot of live documents in order, -1 for tombstones. */
  #remap(): Int32Array {
    const remap = new Int32Array(this.ids.length);
    let next = 0;
    for (let slot = 0; slot < this.ids.length; slot++) remap[slot] = this.alive[slot] === 1 ? next++ : -1;
    return remap;
  }

  #grow(needed: number): void {
    let capacity = Math.max(16, this.alive.length);
    while (capacity < needed) capacity *= 2;
    if (capacity === this.alive.length) return;
    const alive = new Uint8Array(capacity);
    alive.set(this.alive);
    this.alive = alive;
    this.links.grow(capacity);
    for (const field of this.fields) {
      const lengths = new Uint32Array(capacity);
      lengths.set(field.lengths);
      field.lengths = lengths;
    }
  }
}

function decodePostings(encoded: number[], slots: number, what: string): number[] {
  const postings: number[] = [];
  let slot = -1;
  for (const value of encoded) {
    if (!Number.isInteger(value) || value === 0) throw new Error(`${what}: ${value} is not a gap or a frequency`);
    if (value > 0) {
      slot += value;
      if (slot >= slots) throw new Error(`${what}: slot ${slot} is past the last id`);
      postings.push((slot << TF_BITS) | 1);
    } else {
      if (postings.length === 0 || -value > TF_MAX) throw new Error(`${what}: frequency ${-value} is misplaced or too large`);
      postings[postings.length - 1] = (slot << TF_BITS) | -value;
    }
  }
  return postings;
}

function countAlive(postings: number[], alive: Uint8Array): number {
  let count = 0;
  for (const posting of postings) count += alive[posting >>> TF_BITS];
  return count;
}

function byScoreThenId(a: TextHit, b: TextHit): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
