import { createActor, fromPromise, waitFor } from 'xstate';
import { CmpError } from '../../cmp/errors.js';
import type { MemoryRecord, StoredRecord } from '../../cmp/types.js';
import { countRecord, emptyAggregates, type SpaceAggregates } from '../store/aggregates.js';
import { applyEvent, touchedIds, type EventEnvelope } from '../store/events.js';
import { fidelityHistogram } from '../store/decay.js';
import { storeMachine } from '../store/machine.js';
import type { IdempotencyEntry } from '../store/partition.js';
import type { Embedder } from '../../embedding/embedder.js';
import { StoreIndexes } from '../store/indexes.js';
import { defersVectors } from '../../embedding/factory.js';
import {
  inIntensityRange, registryEntryOf, type ApplyReply, type DecayOutcome, type RegistryEntry, type SpaceStats, type StoreApi, type StoreSearchQuery,
  type StoreSearchResult,
} from '../store/protocol.js';

// Working memory (spec §2.6): the same store actor — same machine, same events, same `applyEvent` —
// kept in RAM on the main thread and never persisted. What is its own: the capacity (Miller's 7 by
// default) and LRU eviction by last access when a new record arrives in a full space.

interface Space {
  records: Map<string, MemoryRecord>;
  idempotency: Map<string, IdempotencyEntry>;
  totals: SpaceAggregates;
  seq: number;
}

export interface WorkingStoreOptions {
  /** Records per space, at least 1. */
  capacity: number;
  idempotencyTtlMs: number;
  embedder: Embedder;
}

export class WorkingStore implements StoreApi {
  readonly #options: WorkingStoreOptions;
  readonly #spaces = new Map<string, Space>();
  readonly #actor;
  readonly #indexes: StoreIndexes;

  constructor(options: WorkingStoreOptions) {
    this.#options = options;
    // Working memory runs on the main thread: a costly embedder (the model, in its own worker) is
    // awaited in the background there too, so a write never waits for a vector.
    this.#indexes = new StoreIndexes('curated', options.embedder, { initialCapacity: 16 }, undefined, { deferVectors: defersVectors(options.embedder) });
    this.#actor = createActor(
      storeMachine.provide({
        actors: {
          open: fromPromise<void>(async () => {}),
          compact: fromPromise<void>(async () => this.#compact()),
          close: fromPromise<void>(async () => {
            this.#indexes.close();
            this.#spaces.clear();
          }),
        },
      }),
      { input: { compactEvery: 1000 } },
    );
    this.#actor.start();
  }

  #space(name: string): Space {
    let space = this.#spaces.get(name);
    if (!space) this.#spaces.set(name, (space = { records: new Map(), idempotency: new Map(), totals: emptyAggregates(), seq: 0 }));
    return space;
  }

  /** Like a worker's store: calls made while starting wait; calls after stopping fail retryable. */
  async #ready(): Promise<void> {
    const snapshot = await waitFor(this.#actor, (state) => !state.matches('starting'));
    if (!snapshot.matches('ready') && !snapshot.matches('busy')) {
      throw new CmpError('STORE_UNAVAILABLE', 'working store is stopping', { retryAfter: 1 });
    }
  }

  #compact(): void {
    const cutoff = Date.now() - this.#options.idempotencyTtlMs;
    for (const space of this.#spaces.values()) {
      for (const [key, entry] of space.idempotency) if (Date.parse(entry.at) < cutoff) space.idempotency.delete(key);
    }
  }

  async whenReady() {
    await this.#ready();
    const sequences: Record<string, number> = {};
    for (const [name, space] of this.#spaces) sequences[name] = space.seq;
    return { name: 'working' as const, sequences };
  }

  async apply(envelope: EventEnvelope): Promise<ApplyReply> {
    await this.#ready();
    const space = this.#space(envelope.space);
    const key = envelope.idempotency_key;
    const replayed = key === undefined ? undefined : space.idempotency.get(key);
    if (replayed) return { written: [], removed: [], missing: replayed.missing, replayed };

    const current = new Map<string, StoredRecord | undefined>(touchedIds(envelope.event).map((id) => [id, space.records.get(id)]));
    const outcome = applyEvent(envelope, current);
    const evicted: string[] = [];
    const previous = new Map<string, StoredRecord | undefined>(outcome.writes.map((record) => [record.id, space.records.get(record.id)]));
    for (const record of outcome.removed) this.#remove(space, record.id);
    for (const record of outcome.writes as MemoryRecord[]) {
      if (!space.records.has(record.id) && space.records.size >= this.#options.capacity) {
        evicted.push(this.#evictLeastRecentlyUsed(space));
      }
      this.#remove(space, record.id);
      space.records.set(record.id, record);
      countRecord(space.totals, record, 1);
    }
    for (const id of [...outcome.removed.map((record) => record.id), ...evicted]) this.#indexes.unindex(envelope.space, id);
    await this.#indexes.index(envelope.space, outcome.writes.filter((record) => space.records.has(record.id)), previous);
    space.seq = Math.max(space.seq, envelope.seq);
    if (key !== undefined) {
      space.idempotency.set(key, {
        seq: envelope.seq, at: envelope.at,
        written: outcome.writes.map((record) => record.id), removed: outcome.removed.map((record) => record.id),
        missing: outcome.missing,
      });
    }
    this.#actor.send({ type: 'APPLIED', count: 1 });
    return {
      written: outcome.writes.map((record) => registryEntryOf(record)).filter((entry) => space.records.has(entry.id)),
      removed: [...outcome.removed.map((record) => record.id), ...evicted],
      missing: outcome.missing,
      evicted,
    };
  }

  #remove(space: Space, id: string): void {
    const old = space.records.get(id);
    if (!old) return;
    space.records.delete(id);
    countRecord(space.totals, old, -1);
  }

  /** Spec §2.6: the record with the oldest last_accessed_at leaves (ties: the oldest inserted). */
  #evictLeastRecentlyUsed(space: Space): string {
    let victim: MemoryRecord | undefined;
    for (const record of space.records.values()) {
      if (!victim || Date.parse(record.last_accessed_at) < Date.parse(victim.last_accessed_at)) victim = record;
    }
    this.#remove(space, victim!.id);
    return victim!.id;
  }

  async get(space: string, id: string) {
    await this.#ready();
    return this.#spaces.get(space)?.records.get(id);
  }

  async getMany(space: string, ids: string[]) {
    await this.#ready();
    const records = this.#spaces.get(space)?.records;
    return ids.map((id) => records?.get(id));
  }

  async findIdempotent(space: string, key: string) {
    await this.#ready();
    return this.#spaces.get(space)?.idempotency.get(key);
  }

  async idsCreatedBetween(space: string, startMs: number, endMs: number) {
    await this.#ready();
    return this.#sorted(space)
      .filter((record) => {
        const ms = Date.parse(record.created_at);
        return ms >= startMs && ms <= endMs;
      })
      .map((record) => record.id);
  }


  async search(space: string, query: StoreSearchQuery): Promise<StoreSearchResult> {
    await this.#ready();
    const hits = this.#indexes.search(space, query);
    if (query.withRecords === false) return { ...hits, records: [] };
    const records = this.#spaces.get(space)?.records;
    const ids = new Set([...hits.text_hits.map((hit) => hit.id), ...hits.vector_hits.map((hit) => hit.id)]);
    return { ...hits, records: [...ids].map((id) => records?.get(id)).filter((record): record is MemoryRecord => record !== undefined) };
  }

  async similar(space: string, vectors: number[][], k: number, minSimilarity: number) {
    await this.#ready();
    return vectors.map((vector) => this.#indexes.search(space, { text: null, vectors: [vector], k, minSimilarity }).vector_hits);
  }

  async similarOf(space: string, ids: string[], k: number, minSimilarity: number) {
    await this.#ready();
    return ids.map((id) => {
      const vector = this.#indexes.vectorOf(space, id);
      if (!vector) return this.#indexes.isPending(space, id) ? null : [];
      return this.#indexes.search(space, { text: null, vectors: [vector], k: k + 1, minSimilarity }).vector_hits.filter((hit) => hit.id !== id).slice(0, k);
    });
  }

  async vectorBacklog() {
    await this.#ready();
    return this.#indexes.backlog;
  }

  /** Working memory does not decay (spec §2.6): it is scratch space, bounded by capacity instead. */
  async decay(): Promise<DecayOutcome> {
    await this.#ready();
    return { updated: 0, below_threshold: 0, pruned: [], fidelity_histogram: fidelityHistogram([]) };
  }

  async recent(space: string, limit: number) {
    await this.#ready();
    return this.#sorted(space).reverse().slice(0, limit);
  }

  async byIntensity(space: string, min: number, max: number, limit: number) {
    await this.#ready();
    if (limit <= 0) return [];
    return this.#sorted(space)
      .filter((record) => inIntensityRange(record, min, max))
      .sort((a, b) => a.id.localeCompare(b.id))
      .slice(0, limit);
  }

  async createdBetween(space: string, startMs: number, endMs: number, limit: number) {
    await this.#ready();
    return this.#sorted(space)
      .filter((record) => {
        const ms = Date.parse(record.created_at);
        return ms >= startMs && ms <= endMs;
      })
      .slice(0, limit);
  }

  /** Working memory holds no raw journal sessions. */
  async inSession(): Promise<StoredRecord[]> {
    await this.#ready();
    return [];
  }

  #sorted(space: string): MemoryRecord[] {
    const records = [...(this.#spaces.get(space)?.records.values() ?? [])];
    return records.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.id.localeCompare(b.id));
  }

  async registry() {
    await this.#ready();
    const dump: Record<string, RegistryEntry[]> = {};
    for (const [name, space] of this.#spaces) dump[name] = [...space.records.values()].map(registryEntryOf);
    return dump;
  }

  async spaces() {
    await this.#ready();
    return [...this.#spaces.keys()];
  }

  async page(space: string, afterId: string | null, limit: number): Promise<StoredRecord[]> {
    await this.#ready();
    const ids = [...(this.#spaces.get(space)?.records.keys() ?? [])].filter((id) => afterId === null || id > afterId).sort();
    return ids.slice(0, limit).map((id) => this.#spaces.get(space)!.records.get(id)!);
  }

  async stats(space: string): Promise<SpaceStats> {
    await this.#ready();
    const sorted = this.#sorted(space);
    return {
      ...(this.#spaces.get(space)?.totals ?? emptyAggregates()),
      indexed_vectors: this.#indexes.vectors.count(space),
      vector_backlog: this.#indexes.backlogOf(space),
      oldest_created_at: sorted[0]?.created_at ?? null,
      newest_created_at: sorted.at(-1)?.created_at ?? null,
    };
  }

  async compact() {
    await this.#ready();
    this.#actor.send({ type: 'COMPACT' });
    await waitFor(this.#actor, (snapshot) => !snapshot.matches('busy'));
  }

  async close() {
    this.#actor.send({ type: 'STOP' });
    await waitFor(this.#actor, (snapshot) => snapshot.status === 'done');
  }
}
