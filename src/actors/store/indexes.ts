import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstEmbedding, searchableText, textOf } from '../../cmp/content.js';
import type { StoredRecord } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import { sessionOf, type StoreSearchQuery } from './protocol.js';
import { TextIndex } from './text-index.js';
import { ValueCipher } from './value-cipher.js';
import { VectorIndex } from './vector-index.js';
import type { VectorIndexOptions } from './vector-options.js';

// A store actor's derived indexes over its records: BM25 text (text-index.ts) and HNSW vectors
// (vector-index.ts), both per memory space. They are views of the partition: rebuilt from it when a
// snapshot is missing, stale beyond the event log, corrupt, or made by another embedder.
//
// What gets indexed (DESIGN §2 items 2–3):
//   curated records  text: searchable text (text blocks, structured `key: value`, provided/inferred
//                          meta, spec §5.1) + summary; vectors: the caller's embedding (first block
//                          that has one, any length) and the embedder's vector of summary + text
//                          (one vector if the caller's has the embedder's length: the caller's)
//   raw journal      text: the first text block (spec §5.2); no vectors (raw recall is by text)
//
// The vector backlog (issue 17). With a costly embedder (the semantic model, a remote provider:
// `deferVectors`), `index()` updates the text index and only queues the record's text for its
// vector; a background loop embeds the queue in batches and inserts the vectors as they come. A write
// is therefore acknowledged once durable and text-indexed, and recall finds the record by BM25 until
// its vector follows (seconds at most under interactive load). The queue is part of the snapshot (by
// record id): a vector not yet computed when the process stops or crashes is computed after the next
// start, from the record (vectors are derived state). The cheap lexical embedder runs inline as before.
//
// Session context (`sessionContext`, config embedding.session_context): a memory with a session link
// (its `temporal` association to the memory before it in the same session, set by the hippocampus) is
// embedded as that memory's text followed by its own. In a conversation a turn is often a reply whose
// subject sits in the turn before ("Yes, twice a week!"); a two-turn window lets the vector carry it.
// The memory before must be in this store (read through `readRecordsWith`); otherwise, or without a
// session, the memory is embedded alone. The BM25 index holds the memory's own text, with the session
// link as its `before` (text-index.ts: a search may read a turn with its neighbours, turn context).

export type IndexKind = 'curated' | 'raw';

export interface IndexSnapshotMeta {
  embedder: string;
  dimension: number;
  /** Per space: the last event sequence the snapshot includes. */
  sequences: Record<string, number>;
  /** Per space: records whose embedder vector was still waiting (the backlog) when it was taken. */
  pending?: Record<string, string[]>;
  /** Whether vectors were made with session context (absent in older snapshots: they were not). */
  session_context?: boolean;
}

export interface StoreIndexesOptions {
  /** Queue embedder vectors and compute them in the background (see the header). Default false. */
  deferVectors?: boolean;
  /** Texts handed to the embedder per call from the backlog. Default 64. */
  vectorBatch?: number;
  /** Embed a memory with the one before it in its session (see the header). Default false. */
  sessionContext?: boolean;
  /** Progress lines of a large backlog (a re-embedding, an import). */
  log?: (line: string) => void;
}

/** Backlogs at least this large report their progress. */
const PROGRESS_EVERY = 1000;
/** After a failed embedding call the backlog waits this long, doubling up to the maximum. ms. */
const RETRY_INITIAL_MS = 500;
const RETRY_MAX_MS = 30_000;

/** What search() reports of a cue's all-words hits: see search(). */
export interface AllWords {
  hits: { id: string; score: number }[];
  keep: ReadonlySet<string>;
}

export class StoreIndexes {
  text: TextIndex;
  vectors: VectorIndex;
  readonly #kind: IndexKind;
  readonly #embedder: Embedder;
  readonly #vectorOptions: Partial<VectorIndexOptions>;
  /** Seals text.json (it holds every indexed term) and the vector graphs when encryption at rest is on. */
  readonly #cipher: ValueCipher;
  readonly #options: Required<Omit<StoreIndexesOptions, 'log'>> & Pick<StoreIndexesOptions, 'log'>;
  /** The backlog: per space, record id → the text its vector is to be computed from (FIFO). */
  #pending = new Map<string, Map<string, string>>();
  #backlog = 0;
  #draining: Promise<void> | undefined;
  #retryMs = RETRY_INITIAL_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** Progress of the current run of the backlog loop. */
  #progress = { embedded: 0, startedAt: 0, reported: 0 };
  /** Reads this store's records by id (session context); set by the store core over its backend. */
  #readRecords: (space: string, ids: string[]) => Promise<(StoredRecord | undefined)[]> = async (_, ids) => ids.map(() => undefined);

  constructor(kind: IndexKind, embedder: Embedder, vectorOptions: Partial<VectorIndexOptions> = {}, cipher = new ValueCipher(), options: StoreIndexesOptions = {}) {
    this.#kind = kind;
    this.#cipher = cipher;
    this.#embedder = embedder;
    this.#vectorOptions = vectorOptions;
    this.#options = { deferVectors: false, vectorBatch: 64, sessionContext: false, ...options };
    this.text = new TextIndex();
    this.vectors = new VectorIndex(vectorOptions);
  }

  /** Records waiting for their embedder vector. */
  get backlog(): number {
    return this.#backlog;
  }

  /** Records of `space` waiting for their embedder vector. */
  backlogOf(space: string): number {
    return this.#pending.get(space)?.size ?? 0;
  }

  get embedderName(): string {
    return `${this.#embedder.name}/${this.#embedder.dimension}`;
  }

  /** The text the embedder sees for a curated record: its summary and its text. */
  static embeddableText(record: StoredRecord): string {
    return [record.content.summary ?? '', textOf(record.content) ?? ''].filter((part) => part.trim() !== '').join('\n');
  }

  /** Where the session context of a memory is read from: the store's own records. */
  readRecordsWith(read: (space: string, ids: string[]) => Promise<(StoredRecord | undefined)[]>): void {
    this.#readRecords = read;
  }

  /**
   * What the embedder sees for each of `records` (of one space): its embeddable text, after the text of
   * the memory before it in its session when session context is on (see the header). Memories before
   * that are among `records` are taken from there, the rest read from the store.
   */
  async #vectorTexts(space: string, records: StoredRecord[], known?: Map<string, StoredRecord>): Promise<string[]> {
    const own = records.map(StoreIndexes.embeddableText);
    if (!this.#options.sessionContext) return own;
    const before = known ?? (await this.#memoriesBefore(space, records));
    return records.map((record, index) => {
      const previous = before.get(record.id);
      if (!previous) return own[index];
      const context = StoreIndexes.embeddableText(previous);
      return context === '' ? own[index] : `${context}\n${own[index]}`;
    });
  }

  /**
   * The memory before each of `records` (of one space) in its session: the target of its session
   * link, when it is in this store and of the same session. Those among `records` are taken from
   * there, the rest read from the store.
   */
  async #memoriesBefore(space: string, records: StoredRecord[]): Promise<Map<string, StoredRecord>> {
    const found = new Map<string, StoredRecord>();
    const links = records.map(sessionLinkOf);
    if (links.every((link) => link === undefined)) return found;
    const inHand = new Map(records.map((record) => [record.id, record]));
    const missing = [...new Set(links.filter((id): id is string => id !== undefined && !inHand.has(id)))];
    const read = missing.length > 0 ? await this.#readRecords(space, missing) : [];
    missing.forEach((id, index) => {
      const record = read[index];
      if (record) inHand.set(id, record);
    });
    records.forEach((record, index) => {
      const previous = links[index] === undefined ? undefined : inHand.get(links[index]);
      if (previous && previous.id !== record.id && sessionOf(previous) === sessionOf(record)) found.set(record.id, previous);
    });
    return found;
  }

  /**
   * Brings the indexes up to date with records' new states. `vectors` may hold embedder vectors the
   * hippocampus already computed; the rest are embedded here, in one call. Records whose indexed text
   * did not change (a reconsolidation, a link update) are not re-indexed.
   */
  async index(space: string, records: StoredRecord[], previous: Map<string, StoredRecord | undefined>, vectors: Record<string, number[]> = {}): Promise<void> {
    const toEmbed: StoredRecord[] = [];
    const changed = records.filter((record) => {
      const before = previous.get(record.id);
      return !before || !sameIndexedText(before, record);
    });
    const memoriesBefore = this.#kind === 'curated' ? await this.#memoriesBefore(space, changed) : new Map<string, StoredRecord>();
    for (const record of changed) {
      if (this.#kind === 'raw') {
        this.text.upsert(space, record.id, { body: textOf(record.content) ?? '', summary: null });
        continue;
      }
      const doc = { body: searchableText(record.content, record.meta), summary: record.content.summary ?? null };
      this.text.upsert(space, record.id, doc, memoriesBefore.get(record.id)?.id);
      const own = firstEmbedding(record.content);
      const ownIsEmbedders = own !== null && own.length === this.#embedder.dimension;
      // The vector index holds one vector per key, so a caller's vector of another length lives beside
      // the embedder's under its own key; one of the embedder's length takes the record's key itself.
      if (own && !ownIsEmbedders) this.#upsertVector(space, callerVectorKey(record.id), own);
      else this.vectors.remove(space, callerVectorKey(record.id));
      // The caller's own vector of the embedder's length wins: it is honoured, never overwritten.
      if (ownIsEmbedders || vectors[record.id]) this.#dequeue(space, record.id);
      if (ownIsEmbedders) this.#upsertVector(space, record.id, own);
      else if (vectors[record.id]) this.#upsertVector(space, record.id, vectors[record.id]);
      else if (this.#embedder.dimension > 0 && StoreIndexes.embeddableText(record) !== '') toEmbed.push(record);
      else {
        this.#dequeue(space, record.id);
        this.vectors.remove(space, record.id);
      }
    }
    if (toEmbed.length === 0) return;
    const texts = await this.#vectorTexts(space, toEmbed, memoriesBefore);
    if (this.#options.deferVectors) {
      toEmbed.forEach((record, index) => this.#enqueue(space, record.id, texts[index]));
      this.#kick();
      return;
    }
    const embedded = await this.#embedder.embed(texts);
    toEmbed.forEach((record, index) => this.#upsertVector(space, record.id, embedded[index]));
  }

  /** Queues records for their embedder vector (a snapshot's backlog after a start). */
  async queueVectors(space: string, records: StoredRecord[]): Promise<void> {
    const waiting = records.filter((record) => StoreIndexes.embeddableText(record) !== '' && this.#embedder.dimension > 0 && !ownIsEmbedders(record, this.#embedder.dimension));
    const texts = await this.#vectorTexts(space, waiting);
    waiting.forEach((record, index) => this.#enqueue(space, record.id, texts[index]));
    this.#kick();
  }

  /** Whether a record still waits for its embedder vector. */
  isPending(space: string, id: string): boolean {
    return this.#pending.get(space)?.has(id) ?? false;
  }

  /** The vector indexed for a record under its own key (the embedder's, or the caller's of its length). */
  vectorOf(space: string, id: string): number[] | undefined {
    return this.vectors.vector(space, id);
  }

  /** Stops the backlog loop (the queue stays, for the snapshot). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.vectors.stopFilling();
  }

  #enqueue(space: string, id: string, text: string): void {
    let pending = this.#pending.get(space);
    if (!pending) this.#pending.set(space, (pending = new Map()));
    // A newer text of the same record replaces the queued one and goes to the back.
    if (pending.delete(id)) this.#backlog--;
    pending.set(id, text);
    this.#backlog++;
  }

  #dequeue(space: string, id: string): void {
    const pending = this.#pending.get(space);
    if (!pending?.delete(id)) return;
    this.#backlog--;
    if (pending.size === 0) this.#pending.delete(space);
  }

  #kick(): void {
    if (this.#draining || this.#retryTimer || this.#closed || this.#backlog === 0) return;
    this.#progress = { embedded: 0, startedAt: performance.now(), reported: 0 };
    if (this.#backlog >= PROGRESS_EVERY) this.#options.log?.(`vectors: ${this.#backlog} records waiting for their vector (${this.embedderName})`);
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (!this.#closed && this.#backlog > 0) {
      const batch: { space: string; id: string; text: string }[] = [];
      outer: for (const [space, pending] of this.#pending) {
        for (const [id, text] of pending) {
          batch.push({ space, id, text });
          if (batch.length === this.#options.vectorBatch) break outer;
        }
      }
      let embedded: Float32Array[];
      try {
        embedded = await this.#embedder.embed(batch.map((entry) => entry.text));
      } catch (error) {
        if (this.#closed) return;
        this.#options.log?.(`vectors: embedding ${batch.length} records failed; ${this.#backlog} wait, retrying in ${this.#retryMs} ms (${error instanceof Error ? error.message : String(error)})`);
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.#kick();
        }, this.#retryMs);
        this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
        return;
      }
      this.#retryMs = RETRY_INITIAL_MS;
      batch.forEach(({ space, id, text }, index) => {
        // The record may have changed (a newer text is queued) or left (unindexed) meanwhile.
        if (this.#pending.get(space)?.get(id) !== text) return;
        this.#dequeue(space, id);
        this.#upsertVector(space, id, embedded[index]);
      });
      this.#progress.embedded += batch.length;
      this.#report();
    }
  }

  #report(): void {
    const { embedded, startedAt, reported } = this.#progress;
    if (embedded + this.#backlog < PROGRESS_EVERY) return;
    const seconds = (performance.now() - startedAt) / 1000;
    if (this.#backlog === 0) {
      this.#options.log?.(`vectors: backlog done, ${embedded} records embedded in ${seconds.toFixed(1)} s`);
    } else if (Math.floor(embedded / PROGRESS_EVERY) > Math.floor(reported / PROGRESS_EVERY)) {
      this.#progress.reported = embedded;
      this.#options.log?.(`vectors: ${embedded} embedded, ${this.#backlog} waiting (${Math.round(embedded / Math.max(seconds, 0.001))} records/s)`);
    }
  }

  #upsertVector(space: string, key: string, vector: ArrayLike<number>): void {
    // A zero vector (text with no features) carries no direction: leave it out rather than fail (and
    // drop what the key held before, which no longer describes the record).
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
    if (!(norm > 0) || !Number.isFinite(norm)) {
      this.vectors.remove(space, key);
      return;
    }
    this.vectors.upsert(space, key, vector as number[]);
  }

  unindex(space: string, id: string): void {
    this.#dequeue(space, id);
    this.text.remove(space, id);
    this.vectors.remove(space, id);
    this.vectors.remove(space, callerVectorKey(id));
  }

  /**
   * `allWords`: the cue's holdingAll hits when the caller looked them up first (store-core.ts checks
   * their word order), and which of them to report beyond the first k.
   */
  search(space: string, query: StoreSearchQuery, allWords?: AllWords): { text_hits: { id: string; score: number }[]; vector_hits: { id: string; similarity: number }[] } {
    const text_hits = query.text === null ? [] : this.#textHits(space, query.text, query, allWords);
    const best = new Map<string, number>();
    for (const vector of query.vectors) {
      for (const hit of this.vectors.search(space, vector, query.k)) {
        if (hit.similarity < query.minSimilarity) continue;
        const id = recordIdOfVectorKey(hit.id);
        best.set(id, Math.max(best.get(id) ?? -1, hit.similarity));
      }
    }
    // A text hit the nearest-neighbour search did not reach still has a cosine: report it (whatever its
    // value), so that recall scores a memory both signals describe on both.
    const unreached = [...new Set(text_hits.map((hit) => hit.id).filter((id) => !best.has(id)))];
    const keys = unreached.flatMap((id) => [id, callerVectorKey(id)]);
    for (const vector of query.vectors) {
      this.vectors.similarities(space, keys, vector).forEach((value, index) => {
        if (value === undefined) return;
        const id = unreached[index >> 1];
        best.set(id, Math.max(best.get(id) ?? -1, value));
      });
    }
    const vector_hits = [...best].map(([id, similarity]) => ({ id, similarity })).sort((a, b) => b.similarity - a.similarity);
    return { text_hits, vector_hits };
  }

  /**
   * The text hits of a search: the best by BM25 (read with turn context when asked), then the memories
   * holding every word of the cue that are not among them. Among many memories sharing a cue's words,
   * BM25 may rank the one the cue was taken from below the cut (a longer memory, rarer words elsewhere);
   * holding them all, it is still a candidate, and recall's phrase boost can tell it apart.
   */
  #textHits(space: string, text: string, query: StoreSearchQuery, allWords?: AllWords): { id: string; score: number }[] {
    const hits = this.text.search(space, text, query.textK ?? query.k, query.context);
    const holding = allWords?.hits ?? this.holdingAll(space, text, query.k);
    const found = new Set(hits.map((hit) => hit.id));
    holding.forEach((hit, rank) => {
      if (!found.has(hit.id) && (rank < query.k || allWords?.keep.has(hit.id))) hits.push(hit);
    });
    return hits;
  }

  /**
   * The best `k` by BM25 of the memories holding every word of `text` (an all-words search); none for a
   * cue with its own query syntax (a quoted phrase, an exclusion), which says what it wants already.
   */
  holdingAll(space: string, text: string, k: number): { id: string; score: number }[] {
    if (text.includes('"') || /(^|\s)-\S/.test(text)) return [];
    return this.text.search(space, `"${text}"`, k);
  }

  // ── snapshots ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Writes both indexes under `dir` (text.json + the vector snapshot), each replaced atomically. `state`:
   * what the store derives from its records besides (derived-state.ts), saved in text.json as of the same
   * sequences and sealed like the index.
   */
  save(dir: string, sequences: Record<string, number>, state?: unknown): void {
    mkdirSync(dir, { recursive: true });
    const pending = Object.fromEntries([...this.#pending].map(([space, entries]) => [space, [...entries.keys()]]));
    const meta: IndexSnapshotMeta = { embedder: this.embedderName, dimension: this.#embedder.dimension, sequences, pending, session_context: this.#options.sessionContext };
    const textPath = join(dir, 'text.json');
    writeFileSync(`${textPath}.tmp`, this.#cipher.seal(JSON.stringify({ meta, index: this.text.toJSON(), state })));
    renameSync(`${textPath}.tmp`, textPath);
    this.vectors.save(join(dir, 'vectors'), { ...meta }, this.#cipher);
  }

  /**
   * Loads the snapshot under `dir`. Returns its sequences and the `state` saved with it, or a reason
   * when it cannot be used (then the indexes stay empty and the caller rebuilds).
   */
  load(dir: string): { sequences: Record<string, number>; state: unknown; pending: Record<string, string[]> } | { reason: string } {
    let textSnapshot: { meta: IndexSnapshotMeta; index: unknown; state?: unknown };
    try {
      textSnapshot = JSON.parse(this.#cipher.openText(readFileSync(join(dir, 'text.json')))) as typeof textSnapshot;
    } catch (error) {
      return { reason: `no usable text index snapshot (${(error as Error).message.split('\n')[0]})` };
    }
    if (textSnapshot.meta?.embedder !== this.embedderName) {
      return { reason: `the snapshot was embedded by ${String(textSnapshot.meta?.embedder)}, now ${this.embedderName}: re-embedding` };
    }
    if ((textSnapshot.meta.session_context ?? false) !== this.#options.sessionContext && this.#kind === 'curated' && this.#embedder.dimension > 0) {
      return { reason: `embedding.session_context is now ${this.#options.sessionContext}: re-embedding` };
    }
    const loaded = VectorIndex.load(join(dir, 'vectors'), this.#vectorOptions, this.#cipher);
    if ('error' in loaded) return { reason: loaded.error };
    const vectorMeta = loaded.meta as unknown as IndexSnapshotMeta;
    if (JSON.stringify(vectorMeta.sequences) !== JSON.stringify(textSnapshot.meta.sequences)) {
      return { reason: 'the text and vector snapshots are of different moments' };
    }
    if ((textSnapshot.index as { serializationVersion?: unknown } | null)?.serializationVersion === 1 && this.#kind === 'curated') {
      return { reason: 'the text index snapshot predates turn context (session links): rebuilding' };
    }
    try {
      this.text = TextIndex.fromJSON(textSnapshot.index as never);
    } catch (error) {
      return { reason: (error as Error).message };
    }
    this.vectors.stopFilling();
    this.vectors = loaded.index;
    return { sequences: textSnapshot.meta.sequences, state: textSnapshot.state, pending: textSnapshot.meta.pending ?? {} };
  }

  /** Empties both indexes and the backlog (before a rebuild). */
  reset(): void {
    this.#pending.clear();
    this.#backlog = 0;
    this.text = new TextIndex();
    this.vectors.stopFilling();
    this.vectors = new VectorIndex(this.#vectorOptions);
  }

  static discard(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Key of a caller's vector whose length differs from the embedder's (record ids are UUIDs: no clash).
const CALLER_VECTOR_PREFIX = 'caller:';
function callerVectorKey(id: string): string {
  return `${CALLER_VECTOR_PREFIX}${id}`;
}
function recordIdOfVectorKey(key: string): string {
  return key.startsWith(CALLER_VECTOR_PREFIX) ? key.slice(CALLER_VECTOR_PREFIX.length) : key;
}

function ownIsEmbedders(record: StoredRecord, dimension: number): boolean {
  const own = firstEmbedding(record.content);
  return own !== null && own.length === dimension;
}

/** The memory before `record` in its session: the target of its session link (a `temporal` association). */
function sessionLinkOf(record: StoredRecord): string | undefined {
  if (sessionOf(record) === undefined || !('associations' in record)) return undefined;
  return record.associations.find((edge) => edge.association_type === 'temporal')?.target_id;
}

function sameIndexedText(a: StoredRecord, b: StoredRecord): boolean {
  if (sessionLinkOf(a) !== sessionLinkOf(b)) return false;
  const sameContent = a.content === b.content || JSON.stringify(a.content) === JSON.stringify(b.content);
  const sameMeta = a.meta === b.meta || JSON.stringify(a.meta) === JSON.stringify(b.meta);
  return sameContent && sameMeta;
}
