import { CmpError } from '../../cmp/errors.js';
import { textOf } from '../../cmp/content.js';
import type { MemoryRecord, PartitionName, StoredRecord } from '../../cmp/types.js';
import { countRecord, emptyAggregates, type SpaceAggregates } from './aggregates.js';
import type { ApplyOptions, OnUnreadable, StoreBackend } from './backend.js';
import { fidelityHistogram } from './decay.js';
import { derivedStateToJSON, type DerivedStateSnapshot, type Registry } from './derived-state.js';
import type { EventEnvelope } from './events.js';
import type { AllWords, StoreIndexes } from './indexes.js';
import { phraseMatch, wordsOf } from './phrase.js';
import {
  inIntensityRange,
  registryEntryOf,
  type ApplyReply,
  type CrashPoint,
  type DecayJob,
  type DecayOutcome,
  type RegistryEntry,
  type SpaceStats,
  type StoreApi,
  type StoreSearchQuery,
  type StoreSearchResult,
} from './protocol.js';

// The store logic, once, over any backend (backend.ts): what a store worker (worker.ts, LevelDB) and
// working memory (working-store.ts, RAM) used to write each for itself. Applying an event moves the
// per-space aggregates and the association registry by the difference it made and keeps the indexes
// with it; the queries (search, recent, createdBetween, stats…) are answered from the indexes and the
// backend. The core has no life cycle: `storeApiOf` puts a store's guard (waits while starting, refuses
// once stopping) in front of it, like abstract-level's public methods in front of its `_put`.

export interface StoreCoreOptions<R extends StoredRecord> {
  backend: StoreBackend<R>;
  indexes: StoreIndexes;
  /** Keep the association registry (curated stores); the raw journal's records have no associations. */
  registry: boolean;
  /**
   * Run an event's index work after its reply is sent (a worker: it overlaps with the hippocampus's next
   * step instead of adding to the write's latency, and reads wait for it), not before (working memory,
   * in process: there is nothing to overlap with).
   */
  deferIndexing: boolean;
  log: (line: string) => void;
  /** Passes over every record (byIntensity) report a damaged one here and go on. */
  onUnreadable?: OnUnreadable;
  /** Called at each named step of an apply (a worker's fault drills, protocol.ts `CRASH_POINTS`). */
  onStep?: (point: CrashPoint) => void;
  /** Called after each applied event or tick (the life-cycle machine counts them towards compaction). */
  onApplied?: () => void;
}

const present = <T>(value: T | undefined): value is T => value !== undefined;

export class StoreCore<R extends StoredRecord = StoredRecord> {
  readonly backend: StoreBackend<R>;
  readonly indexes: StoreIndexes;
  readonly #options: StoreCoreOptions<R>;
  readonly #totals = new Map<string, SpaceAggregates>();
  /**
   * Kept current by every applied event, so the hippocampus gets it without a pass over the records
   * (at start, after a restart) and index snapshots carry it. Undefined for the raw journal.
   */
  readonly #registry: Registry | undefined;
  /** Writes (events, ticks, compaction) one at a time: each is a read-compute-write of the backend. */
  #writeQueue: Promise<unknown> = Promise.resolve();
  /**
   * Index work of the last applied event while it runs (`deferIndexing`). Reads of the indexes and the
   * next write wait for it, so at most one event's index work is pending and a read sees every
   * acknowledged write. The indexes are views: a worker that dies before this ran replays the event
   * from the log at its next start.
   */
  #indexing: Promise<void> = Promise.resolve();
  /** Set when deferred index work failed: the indexes miss something, so no snapshot may claim otherwise. */
  #indexesStale = false;

  constructor(options: StoreCoreOptions<R>) {
    this.backend = options.backend;
    this.indexes = options.indexes;
    this.indexes.readRecordsWith((space, ids) => this.backend.getMany(space, ids));
    this.#options = options;
    this.#registry = options.registry ? new Map() : undefined;
  }

  #totalsOf(space: string): SpaceAggregates {
    let found = this.#totals.get(space);
    if (!found) this.#totals.set(space, (found = emptyAggregates()));
    return found;
  }

  #register(space: string, entry: RegistryEntry): void {
    if (!this.#registry) return;
    let entries = this.#registry.get(space);
    if (!entries) this.#registry.set(space, (entries = new Map()));
    entries.set(entry.id, entry);
  }

  #unregister(space: string, id: string): void {
    const entries = this.#registry?.get(space);
    if (!entries) return;
    entries.delete(id);
    if (entries.size === 0) this.#registry?.delete(space);
  }

  /** Whether the core keeps an association registry (a curated store). */
  get keepsRegistry(): boolean {
    return this.#registry !== undefined;
  }

  /** Runs `work` after every write queued before it. */
  serialised<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#writeQueue.then(work);
    this.#writeQueue = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every queued write is done (failed ones included). */
  async settled(): Promise<void> {
    await this.#writeQueue.catch(() => undefined);
  }

  /** The indexes, once the index work of every applied event is done. */
  async indexed(): Promise<StoreIndexes> {
    await this.#indexing;
    return this.indexes;
  }

  // --- derived state at start -------------------------------------------------------------------

  /** Counts a record found at start (a pass over the backend) into the aggregates and registry. */
  count(space: string, record: StoredRecord): void {
    countRecord(this.#totalsOf(space), record, 1);
    this.#register(space, registryEntryOf(record));
  }

  /** Takes the aggregates and registry from an index snapshot instead of counting (derived-state.ts). */
  restore(saved: { aggregates: Map<string, SpaceAggregates>; registry: Registry }): void {
    for (const [space, totals] of saved.aggregates) this.#totals.set(space, totals);
    for (const [space, entries] of saved.registry) this.#registry?.set(space, entries);
  }

  /** The aggregates and registry for an index snapshot; undefined while the indexes are stale. */
  async derivedState(): Promise<DerivedStateSnapshot | undefined> {
    await this.#indexing;
    return this.#indexesStale ? undefined : derivedStateToJSON(this.#totals, this.#registry ?? new Map());
  }

  async sequences(): Promise<Record<string, number>> {
    const result: Record<string, number> = {};
    for (const space of await this.backend.spaces()) result[space] = await this.backend.lastSequence(space);
    return result;
  }

  // --- writes ----------------------------------------------------------------------------------

  /** Applies one event, in turn with every other write. */
  apply(envelope: EventEnvelope, vectors?: Record<string, number[]>, options: ApplyOptions = {}): Promise<ApplyReply> {
    return this.serialised(() => this.#apply(envelope, vectors, options));
  }

  async #apply(envelope: EventEnvelope, vectors: Record<string, number[]> | undefined, options: ApplyOptions): Promise<ApplyReply> {
    const { space } = envelope;
    await this.#indexing;
    this.#options.onStep?.('apply:before-write');
    const { outcome, previous, replayed, evicted } = await this.backend.apply(envelope, options);
    this.#options.onStep?.('apply:after-write');
    if (replayed) return { written: [], removed: [], missing: replayed.missing, replayed };
    // Aggregates move by the difference: the old state out, the new state in.
    const totals = this.#totalsOf(space);
    for (const record of outcome.removed) {
      countRecord(totals, record, -1);
      this.#unregister(space, record.id);
    }
    const entries = outcome.writes.map(registryEntryOf);
    for (const [index, record] of outcome.writes.entries()) {
      const old = previous.get(record.id);
      if (old) countRecord(totals, old, -1);
      countRecord(totals, record, 1);
      this.#register(space, entries[index]);
    }
    // Evicted after the writes were counted: an evicted record may be one this very event wrote.
    for (const record of evicted ?? []) {
      countRecord(totals, record, -1);
      this.#unregister(space, record.id);
    }
    const gone = [...outcome.removed, ...(evicted ?? [])].map((record) => record.id);
    const goneIds = new Set(gone);
    const kept = goneIds.size === 0 ? outcome.writes : outcome.writes.filter((record) => !goneIds.has(record.id));
    const indexWork = async () => {
      for (const id of gone) this.indexes.unindex(space, id);
      await this.indexes.index(space, kept, previous, vectors);
    };
    if (this.#options.deferIndexing) this.#indexing = this.#deferred(envelope, indexWork);
    else await indexWork();
    this.#options.onApplied?.();
    const written = goneIds.size === 0 ? entries : entries.filter((entry) => !goneIds.has(entry.id));
    const reply: ApplyReply = { written, removed: gone, missing: outcome.missing };
    if (evicted) reply.evicted = evicted.map((record) => record.id);
    return reply;
  }

  #deferred(envelope: EventEnvelope, work: () => Promise<void>): Promise<void> {
    // setImmediate: comlink posts the reply a few microtasks after apply returns; the index work must
    // start after that, or it would still delay the reply.
    return new Promise<void>((resolve) => setImmediate(resolve)).then(work).catch((error: unknown) => {
      this.#indexesStale = true;
      this.#options.log(
        `index maintenance failed for event ${envelope.seq} of space ${envelope.space}; search may miss its records until the next start (${error instanceof Error ? error.message : String(error)})`,
      );
    });
  }

  /**
   * A decay tick over the space (one event). Readying the decay table goes outside the write queue:
   * after a start it reads every record, and writes go on meanwhile. A backend without decay has
   * nothing to tick (working memory fades by capacity instead, spec §2.6).
   */
  async decay(space: string, job: DecayJob, pause: () => Promise<void>): Promise<DecayOutcome> {
    const { backend } = this;
    if (!backend.decay) return { updated: 0, below_threshold: 0, pruned: [], fidelity_histogram: fidelityHistogram([]) };
    await backend.fillDecayTable?.(space, pause);
    const tick = await this.serialised(async () => {
      // The last write's index work first, so the pruned records' unindexing comes after it.
      await this.#indexing;
      // Materialised decay is derived state: fidelity is closed-form, so a tick lost to a power cut is
      // recomputed identically by the next one. It need not wait for fsync like a user's write.
      const result = await backend.decay!(space, job, pause, { sync: false });
      const totals = this.#totalsOf(space);
      totals.fidelity_sum += result.scoreDelta;
      for (const record of result.removed) {
        countRecord(totals, record, -1);
        this.indexes.unindex(space, record.id);
        this.#unregister(space, record.id);
      }
      this.#options.onApplied?.();
      return result;
    });
    const pruned = tick.removed.map((record) => record.id);
    return { updated: tick.evaluated, below_threshold: pruned.length, pruned, fidelity_histogram: fidelityHistogram(tick.scores) };
  }

  /** Trims every space's history; `before` runs first, in the write queue (a worker saves its snapshot). */
  compact(keepEvents: number, idempotencyCutoffMs: number, before: () => Promise<void> = async () => {}): Promise<void> {
    return this.serialised(async () => {
      await before();
      for (const space of await this.backend.spaces()) await this.backend.compact(space, keepEvents, idempotencyCutoffMs);
    });
  }

  // --- reads -----------------------------------------------------------------------------------

  async #load(space: string, ids: string[]): Promise<R[]> {
    return (await this.backend.getMany(space, ids)).filter(present);
  }

  async search(space: string, query: StoreSearchQuery): Promise<StoreSearchResult<R>> {
    const indexes = await this.indexed();
    let allWords: AllWords | undefined;
    let phrases = {};
    if (query.phraseCandidates && query.text !== null && wordsOf(query.text).length >= 2) {
      // The memories holding every cue word, read for their word order: one holding the cue word for word
      // is reported (and kept among the text hits) however far down BM25 ranks it among them.
      const hits = indexes.holdingAll(space, query.text, Math.max(query.k, query.phraseCandidates));
      const phrase_hits = await this.#phraseHits(
        space,
        query.text,
        hits.slice(0, query.phraseCandidates).map((hit) => hit.id),
      );
      allWords = { hits, keep: new Set(phrase_hits.map((hit) => hit.id)) };
      phrases = { phrase_hits };
    }
    const { text_hits, vector_hits } = indexes.search(space, query, allWords);
    if (query.withRecords === false) return { text_hits, vector_hits, records: [], ...phrases };
    const ids = [...new Set([...text_hits.map((hit) => hit.id), ...vector_hits.map((hit) => hit.id)])];
    return { text_hits, vector_hits, records: await this.#load(space, ids), ...phrases };
  }

  /** Of `ids` (memories holding every cue word), those holding them in the cue's order (phrase.ts). */
  async #phraseHits(space: string, cue: string, ids: string[]): Promise<{ id: string; match: number }[]> {
    if (ids.length === 0) return [];
    const hits: { id: string; match: number }[] = [];
    for (const record of await this.#load(space, ids)) {
      const { content } = record as Partial<MemoryRecord>;
      const match = content ? phraseMatch(cue, textOf(content)) : 0;
      if (match > 0) hits.push({ id: record.id, match });
    }
    return hits;
  }

  async similar(space: string, vectors: number[][], k: number, minSimilarity: number) {
    const indexes = await this.indexed();
    return vectors.map((vector) => indexes.search(space, { text: null, vectors: [vector], k, minSimilarity }).vector_hits);
  }

  async similarOf(space: string, ids: string[], k: number, minSimilarity: number) {
    const indexes = await this.indexed();
    return ids.map((id) => {
      const vector = indexes.vectorOf(space, id);
      if (!vector) return indexes.isPending(space, id) ? null : [];
      return indexes
        .search(space, { text: null, vectors: [vector], k: k + 1, minSimilarity })
        .vector_hits.filter((hit) => hit.id !== id)
        .slice(0, k);
    });
  }

  async recent(space: string, limit: number): Promise<R[]> {
    return this.#load(space, await this.backend.idsByRecency(space, limit));
  }

  async createdBetween(space: string, startMs: number, endMs: number, limit: number): Promise<R[]> {
    return this.#load(space, (await this.backend.idsCreatedBetween(space, startMs, endMs)).slice(0, limit));
  }

  async inSession(space: string, session: string): Promise<R[]> {
    return this.#load(space, await this.backend.idsInSession(space, session));
  }

  /** A pass over the space's records: an occasional query, so no intensity index is kept up to date. */
  async byIntensity(space: string, min: number, max: number, limit: number): Promise<R[]> {
    const found: R[] = [];
    if (limit <= 0) return found;
    for await (const chunk of this.backend.records(space, 1000, this.#options.onUnreadable)) {
      for (const record of chunk) {
        if ('store' in record && inIntensityRange(record, min, max)) found.push(record);
        if (found.length === limit) return found;
      }
    }
    return found;
  }

  registry(): Record<string, RegistryEntry[]> {
    return Object.fromEntries([...(this.#registry ?? [])].map(([space, entries]) => [space, [...entries.values()]]));
  }

  async stats(space: string): Promise<SpaceStats> {
    const indexes = await this.indexed();
    const [oldest] = await this.backend.idsByRecency(space, 1, false);
    const [newest] = await this.backend.idsByRecency(space, 1, true);
    const [oldestRecord, newestRecord] = await this.backend.getMany(space, [oldest, newest].filter(present));
    return {
      ...(this.#totals.get(space) ?? emptyAggregates()),
      indexed_vectors: indexes.vectors.count(space),
      vector_backlog: indexes.backlogOf(space),
      oldest_created_at: oldestRecord?.created_at ?? null,
      newest_created_at: (newestRecord ?? oldestRecord)?.created_at ?? null,
    };
  }
}

/** What stands in front of a store core: its name and life cycle (the store machine's guard and effects). */
export interface StoreLifecycle<R extends StoredRecord> {
  name: PartitionName;
  /** The open core: waits while the store starts, throws a retryable CmpError once it stops. */
  ready(): Promise<StoreCore<R>>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** The store API over a core: every call passes the store's guard, then the core does the work. */
export function storeApiOf<R extends StoredRecord>(store: StoreLifecycle<R>): StoreApi<R> {
  const { ready } = store;
  return {
    whenReady: async () => ({ name: store.name, sequences: await (await ready()).sequences() }),
    apply: async (envelope, vectors) => (await ready()).apply(envelope, vectors),
    get: async (space, id) => (await (await ready()).backend.getMany(space, [id]))[0],
    getMany: async (space, ids) => (await ready()).backend.getMany(space, ids),
    findIdempotent: async (space, key) => (await ready()).backend.findIdempotent(space, key),
    idsCreatedBetween: async (space, startMs, endMs) => (await ready()).backend.idsCreatedBetween(space, startMs, endMs),
    registry: async () => (await ready()).registry(),
    stats: async (space) => (await ready()).stats(space),
    search: async (space, query) => (await ready()).search(space, query),
    similar: async (space, vectors, k, minSimilarity) => (await ready()).similar(space, vectors, k, minSimilarity),
    similarOf: async (space, ids, k, minSimilarity) => (await ready()).similarOf(space, ids, k, minSimilarity),
    vectorBacklog: async () => (await ready()).indexes.backlog,
    decay: async (space, job) => (await ready()).decay(space, job, breathe),
    recent: async (space, limit) => (await ready()).recent(space, limit),
    inSession: async (space, session) => (await ready()).inSession(space, session),
    byIntensity: async (space, min, max, limit) => (await ready()).byIntensity(space, min, max, limit),
    createdBetween: async (space, startMs, endMs, limit) => (await ready()).createdBetween(space, startMs, endMs, limit),
    spaces: async () => (await ready()).backend.spaces(),
    page: async (space, afterId, limit) => (await ready()).backend.recordsAfter(space, afterId, limit),
    compact: async () => {
      await ready();
      await store.compact();
    },
    close: () => store.close(),
  };
}

/**
 * Awaited between the steps of background work (a tick, filling a decay table): reads and writes that
 * came meanwhile are served, and the core is left free for a millisecond. Recall fans out to every
 * store, so a worker that went straight on to its next step slowed every recall on two cores (100,000
 * records, recalls back to back during ticks: p50/p99 12.5/37 ms with setImmediate, 10/25 ms with this;
 * a tick then takes 0.4 s instead of 0.2 s).
 */
export const breathe = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** The refusal of a store that is stopping (or stopped): retryable, another worker will take over. */
export function stoppingError(name: string): CmpError {
  return new CmpError('STORE_UNAVAILABLE', `${name} store is stopping`, { retryAfter: 1 });
}
