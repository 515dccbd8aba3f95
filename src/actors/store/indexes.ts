import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { firstEmbedding, searchableText, textOf } from '../../cmp/content.js';
import type { StoredRecord } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import type { StoreSearchQuery } from './protocol.js';
import { TextIndex } from './text-index.js';
import { ValueCipher } from './value-cipher.js';
import { VectorIndex, type VectorIndexOptions } from './vector-index.js';

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

export type IndexKind = 'curated' | 'raw';

export interface IndexSnapshotMeta {
  embedder: string;
  dimension: number;
  /** Per space: the last event sequence the snapshot includes. */
  sequences: Record<string, number>;
}

export class StoreIndexes {
  text: TextIndex;
  vectors: VectorIndex;
  readonly #kind: IndexKind;
  readonly #embedder: Embedder;
  readonly #vectorOptions: Partial<VectorIndexOptions>;
  /** Seals text.json (it holds every indexed term) and the vector graphs when encryption at rest is on. */
  readonly #cipher: ValueCipher;

  constructor(kind: IndexKind, embedder: Embedder, vectorOptions: Partial<VectorIndexOptions> = {}, cipher = new ValueCipher()) {
    this.#kind = kind;
    this.#cipher = cipher;
    this.#embedder = embedder;
    this.#vectorOptions = vectorOptions;
    this.text = new TextIndex();
    this.vectors = new VectorIndex(vectorOptions);
  }

  get embedderName(): string {
    return `${this.#embedder.name}/${this.#embedder.dimension}`;
  }

  /** The text the embedder sees for a curated record: its summary and its text. */
  static embeddableText(record: StoredRecord): string {
    return [record.content.summary ?? '', textOf(record.content) ?? ''].filter((part) => part.trim() !== '').join('\n');
  }

  /**
   * Brings the indexes up to date with records' new states. `vectors` may hold embedder vectors the
   * hippocampus already computed; the rest are embedded here, in one call. Records whose indexed text
   * did not change (a reconsolidation, a link update) are not re-indexed.
   */
  async index(space: string, records: StoredRecord[], previous: Map<string, StoredRecord | undefined>, vectors: Record<string, number[]> = {}): Promise<void> {
    const toEmbed: StoredRecord[] = [];
    for (const record of records) {
      const before = previous.get(record.id);
      if (before && sameIndexedText(before, record)) continue;
      if (this.#kind === 'raw') {
        this.text.upsert(space, record.id, { body: textOf(record.content) ?? '', summary: null });
        continue;
      }
      this.text.upsert(space, record.id, { body: searchableText(record.content, record.meta), summary: record.content.summary ?? null });
      const own = firstEmbedding(record.content);
      const ownIsEmbedders = own !== null && own.length === this.#embedder.dimension;
      // The vector index holds one vector per key, so a caller's vector of another length lives beside
      // the embedder's under its own key; one of the embedder's length takes the record's key itself.
      if (own && !ownIsEmbedders) this.#upsertVector(space, callerVectorKey(record.id), own);
      else this.vectors.remove(space, callerVectorKey(record.id));
      // The caller's own vector of the embedder's length wins: it is honoured, never overwritten.
      if (ownIsEmbedders) this.#upsertVector(space, record.id, own);
      else if (vectors[record.id]) this.#upsertVector(space, record.id, vectors[record.id]);
      else if (this.#embedder.dimension > 0 && StoreIndexes.embeddableText(record) !== '') toEmbed.push(record);
      else this.vectors.remove(space, record.id);
    }
    if (toEmbed.length === 0) return;
    const embedded = await this.#embedder.embed(toEmbed.map(StoreIndexes.embeddableText));
    toEmbed.forEach((record, index) => this.#upsertVector(space, record.id, embedded[index]));
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
    this.text.remove(space, id);
    this.vectors.remove(space, id);
    this.vectors.remove(space, callerVectorKey(id));
  }

  search(space: string, query: StoreSearchQuery): { text_hits: { id: string; score: number }[]; vector_hits: { id: string; similarity: number }[] } {
    const text_hits = query.text === null ? [] : this.text.search(space, query.text, query.textK ?? query.k);
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
    for (const hit of text_hits) {
      if (best.has(hit.id)) continue;
      let similarity: number | undefined;
      for (const vector of query.vectors) {
        for (const key of [hit.id, callerVectorKey(hit.id)]) {
          const value = this.vectors.similarity(space, key, vector);
          if (value !== undefined) similarity = Math.max(similarity ?? -1, value);
        }
      }
      if (similarity !== undefined) best.set(hit.id, similarity);
    }
    const vector_hits = [...best].map(([id, similarity]) => ({ id, similarity })).sort((a, b) => b.similarity - a.similarity);
    return { text_hits, vector_hits };
  }

  // ── snapshots ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Writes both indexes under `dir` (text.json + the vector snapshot), each replaced atomically. `state`:
   * what the store derives from its records besides (derived-state.ts), saved in text.json as of the same
   * sequences and sealed like the index.
   */
  save(dir: string, sequences: Record<string, number>, state?: unknown): void {
    mkdirSync(dir, { recursive: true });
    const meta: IndexSnapshotMeta = { embedder: this.embedderName, dimension: this.#embedder.dimension, sequences };
    const textPath = join(dir, 'text.json');
    writeFileSync(`${textPath}.tmp`, this.#cipher.seal(JSON.stringify({ meta, index: this.text.toJSON(), state })));
    renameSync(`${textPath}.tmp`, textPath);
    this.vectors.save(join(dir, 'vectors'), { ...meta }, this.#cipher);
  }

  /**
   * Loads the snapshot under `dir`. Returns its sequences and the `state` saved with it, or a reason
   * when it cannot be used (then the indexes stay empty and the caller rebuilds).
   */
  load(dir: string): { sequences: Record<string, number>; state: unknown } | { reason: string } {
    let textSnapshot: { meta: IndexSnapshotMeta; index: unknown; state?: unknown };
    try {
      textSnapshot = JSON.parse(this.#cipher.openText(readFileSync(join(dir, 'text.json')))) as typeof textSnapshot;
    } catch (error) {
      return { reason: `no usable text index snapshot (${(error as Error).message.split('\n')[0]})` };
    }
    if (textSnapshot.meta?.embedder !== this.embedderName) {
      return { reason: `the snapshot was embedded by ${String(textSnapshot.meta?.embedder)}, now ${this.embedderName}: re-embedding` };
    }
    const loaded = VectorIndex.load(join(dir, 'vectors'), this.#vectorOptions, this.#cipher);
    if ('error' in loaded) return { reason: loaded.error };
    const vectorMeta = loaded.meta as unknown as IndexSnapshotMeta;
    if (JSON.stringify(vectorMeta.sequences) !== JSON.stringify(textSnapshot.meta.sequences)) {
      return { reason: 'the text and vector snapshots are of different moments' };
    }
    try {
      this.text = TextIndex.fromJSON(textSnapshot.index as never);
    } catch (error) {
      return { reason: (error as Error).message };
    }
    this.vectors = loaded.index;
    return { sequences: textSnapshot.meta.sequences, state: textSnapshot.state };
  }

  /** Empties both indexes (before a rebuild). */
  reset(): void {
    this.text = new TextIndex();
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

function sameIndexedText(a: StoredRecord, b: StoredRecord): boolean {
  const sameContent = a.content === b.content || JSON.stringify(a.content) === JSON.stringify(b.content);
  const sameMeta = a.meta === b.meta || JSON.stringify(a.meta) === JSON.stringify(b.meta);
  return sameContent && sameMeta;
}
