import type { AssociationType, MemoryRecord, PartitionName, RawJournalRecord, StoredRecord } from '../../cmp/types.js';
import type { SpaceAggregates } from './aggregates.js';
import type { EventEnvelope, MutationEvent } from './events.js';
import type { EmbedderConfig } from '../../embedding/embedder.js';
import type { DecayTickJob, IdempotencyEntry } from './backend.js';
import type { MessagePort } from 'node:worker_threads';
import type { TextContext } from './text-index.js';
import type { VectorIndexOptions } from './vector-options.js';

// What crosses between the hippocampus and a store actor: the worker's start parameters and the API
// it serves. Plain data only (comlink structured-clones every argument and result).

export interface StoreWorkerData {
  name: PartitionName;
  /** The partition's LevelDB directory. */
  location: string;
  syncWrites: boolean;
  /** Compact after this many applied events (0: never). */
  compactEvery: number;
  /** Applied events kept per space after compaction. */
  keepEvents: number;
  idempotencyTtlMs: number;
  /** Where the store keeps its index snapshots (beside the partition, never inside it). */
  indexDir: string;
  embedding: EmbedderConfig;
  /**
   * With `embedding.provider = "local"`: this worker's port to the process's embedding worker
   * (src/embedding/embed-worker.ts), which then embeds for it; the store queues vectors (indexes.ts).
   */
  embedPort?: MessagePort;
  vectorIndex: Partial<VectorIndexOptions>;
  /**
   * The data directory's 32-byte store encryption key (src/runtime/store-key.ts), when encryption at
   * rest is on: values and the text index snapshot are sealed with it. Never the passphrase.
   */
  storeKey?: Uint8Array;
}

/** A record's outgoing edges: what the hippocampus's association graph holds of it. */
export interface RegistryEntry {
  id: string;
  associations: { target_id: string; association_type: AssociationType; weight: number }[];
  /** `metadata._context.session_id`, for linking a session's memories in time. */
  session?: string;
  created_at: string;
}

export interface ApplyReply {
  written: RegistryEntry[];
  removed: string[];
  missing: string[];
  /** Present when the event's idempotency key had been applied before: nothing was written now. */
  replayed?: IdempotencyEntry;
  /** Working memory: ids evicted to make room (spec §2.6). */
  evicted?: string[];
}

/** One decay tick over a store's share of a space (spec §4.2); see backend.ts `DecayTickJob`. */
export type DecayJob = DecayTickJob;

export interface DecayOutcome {
  updated: number;
  below_threshold: number;
  pruned: string[];
  /** `fidelityHistogram` of the records kept, for the evolution engine. */
  fidelity_histogram: number[];
}

/** What a store searches for one recall (the hippocampus fans one of these out to each store). */
export interface StoreSearchQuery {
  /** Cue text for BM25; null when the cue has none. */
  text: string | null;
  /** Query vectors: the embedder's vector of the cue text and/or the caller's own embedding. */
  vectors: number[][];
  /** Hits per signal, before fusion. */
  k: number;
  /** Text hits, when recall needs more of them than `k` (session neighbours lend their scores). Default k. */
  textK?: number;
  /** Turn context of the text search (text-index.ts): shares of session neighbours' words. Default none. */
  context?: TextContext;
  /** Nearest-neighbour hits below this cosine similarity are dropped (a text hit's cosine is always reported). */
  minSimilarity: number;
  /** Also return every hit's record (default true); recall asks for ids first and loads the best. */
  withRecords?: boolean;
  /**
   * Read up to this many memories holding every word of the cue (best by BM25 first) and report those
   * holding the cue word for word (phraseMatch, store/phrase.ts) as `phrase_hits`. Default 0: none.
   */
  phraseCandidates?: number;
}

export interface StoreSearchResult<R extends StoredRecord = StoredRecord> {
  text_hits: { id: string; score: number }[];
  vector_hits: { id: string; similarity: number }[];
  /** Every hit's record, so the hippocampus need not ask again. */
  records: R[];
  /** With `phraseCandidates`: memories holding the cue's words in order, and how much (phraseMatch > 0). */
  phrase_hits?: { id: string; match: number }[];
}

export interface SpaceStats extends SpaceAggregates {
  /** Live vectors in the store's HNSW indexes for the space (all dimensions). */
  indexed_vectors: number;
  /** Records of the space waiting for their embedder vector (issue 17: vectors follow the write). */
  vector_backlog: number;
  oldest_created_at: string | null;
  newest_created_at: string | null;
}

/**
 * The store API, served by every store actor (a worker's, or working memory's in-process one), over the
 * records `R` it holds (working memory: memory records only). Built once, by `storeApiOf` (store-core.ts).
 */
export interface StoreApi<R extends StoredRecord = StoredRecord> {
  whenReady(): Promise<{ name: PartitionName; sequences: Record<string, number> }>;
  /**
   * Applies one event. `vectors` may carry the embedder's vectors of records the event writes (the
   * hippocampus already computed them for association inference), saving the store a second pass.
   */
  apply(envelope: EventEnvelope, vectors?: Record<string, number[]>): Promise<ApplyReply>;
  get(space: string, id: string): Promise<R | undefined>;
  getMany(space: string, ids: string[]): Promise<(R | undefined)[]>;
  findIdempotent(space: string, key: string): Promise<IdempotencyEntry | undefined>;
  idsCreatedBetween(space: string, startMs: number, endMs: number): Promise<string[]>;
  registry(): Promise<Record<string, RegistryEntry[]>>;
  stats(space: string): Promise<SpaceStats>;
  /** Text and vector candidates of one recall. */
  search(space: string, query: StoreSearchQuery): Promise<StoreSearchResult<R>>;
  /** For each vector, this store's records at least `minSimilarity` alike (association inference). */
  similar(space: string, vectors: number[][], k: number, minSimilarity: number): Promise<{ id: string; similarity: number }[][]>;
  /**
   * For each of `ids` (records of this store), the other records at least `minSimilarity` alike by the
   * vector indexed for it (association inference after an encode): null while its vector is still in
   * the backlog, [] for a record with no vector.
   */
  similarOf(space: string, ids: string[], k: number, minSimilarity: number): Promise<({ id: string; similarity: number }[] | null)[]>;
  /** Records waiting for their embedder vector, over every space. */
  vectorBacklog(): Promise<number>;
  /** Runs a decay tick over the space's records (one event; reads are served while it runs). */
  decay(space: string, job: DecayJob): Promise<DecayOutcome>;
  /** The newest records, newest first. */
  recent(space: string, limit: number): Promise<R[]>;
  /** The records of one raw-journal session, oldest first. */
  inSession(space: string, session: string): Promise<R[]>;
  /**
   * Memory records whose emotion intensity lies in [min, max] (inclusive), in id order, at most `limit`
   * (0: none). The reference's emotional-store query (spec §2.5), here on every store.
   */
  byIntensity(space: string, min: number, max: number, limit: number): Promise<R[]>;
  /** Records created in [startMs, endMs], oldest first, at most `limit`. */
  createdBetween(space: string, startMs: number, endMs: number, limit: number): Promise<R[]>;
  /** Every space the store holds records or events of. */
  spaces(): Promise<string[]>;
  /** Up to `limit` records of a space in id order after `afterId` (null: from the first); export pages with it. */
  page(space: string, afterId: string | null, limit: number): Promise<R[]>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

/** The records a store holds: the raw journal its raw records, every other store memory records. */
export type RecordOf<P extends PartitionName> = P extends 'raw_journal' ? RawJournalRecord : MemoryRecord;

/** Every store by name, each typed by the records it holds, so a read needs no cast. */
export type Stores = { [P in PartitionName]: StoreApi<RecordOf<P>> };

/**
 * An event as it crosses to a store worker: a `records.put` carries each record as its JSON text, the
 * very text the partition stores. The hippocampus serialises each record once, the worker parses it
 * and writes the text as it came, where structured cloning would copy the objects across and the
 * worker would still have to serialise them again (encode bench: ~8 % less CPU per record).
 */
export type WireEnvelope = Omit<EventEnvelope, 'event'> & {
  event: Exclude<MutationEvent, { type: 'records.put' }> | { type: 'records.put'; records_json: string[]; fresh?: boolean };
};

export function toWireEnvelope(envelope: EventEnvelope): WireEnvelope {
  const { event } = envelope;
  if (event.type !== 'records.put') return envelope as WireEnvelope;
  const { records, ...rest } = event;
  return { ...envelope, event: { ...rest, records_json: records.map((record) => JSON.stringify(record)) } };
}

/** The envelope again, and the JSON text each of its put records came as (for the partition to store). */
export function fromWireEnvelope(wire: WireEnvelope): { envelope: EventEnvelope; json: Map<StoredRecord, string> } {
  const json = new Map<StoredRecord, string>();
  const { event } = wire;
  if (event.type !== 'records.put') return { envelope: wire as EventEnvelope, json };
  const { records_json, ...rest } = event;
  const records = records_json.map((text) => {
    const record = JSON.parse(text) as StoredRecord;
    json.set(record, text);
    return record;
  });
  return { envelope: { ...wire, event: { ...rest, records } }, json };
}

/**
 * The named steps of an apply where a fault drill can crash a store worker (issue 18, move 5): a crash
 * at a known step instead of a kill racing the work in flight.
 * - `apply:before-write`: the event reached the worker, nothing of it is written;
 * - `apply:after-write`: the event is written (durable as configured), its reply is not sent and its
 *   index work not started (the restarted worker replays it from the event log).
 */
export const CRASH_POINTS = ['apply:before-write', 'apply:after-write'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** The API a store worker serves: the store API, with events in their wire form. */
export type StoreWorkerApi = Omit<StoreApi, 'apply'> & {
  apply(envelope: WireEnvelope, vectors?: Record<string, number[]>): Promise<ApplyReply>;
  /** Ends the worker thread at once, as a crash would (fault drills); never answers. */
  crash(): void;
  /**
   * Arms a crash at `point` of a coming apply (fault drills): the worker passes `point` `skip` times,
   * then ends as `crash()` does. Answers once armed.
   */
  crashAt(point: CrashPoint, skip: number): void;
};

/** Whether a memory's emotion intensity lies in [min, max], both inclusive (spec §2.5). */
export function inIntensityRange(record: MemoryRecord, min: number, max: number): boolean {
  return record.emotion.intensity >= min && record.emotion.intensity <= max;
}

export function registryEntryOf(record: StoredRecord): RegistryEntry {
  const entry: RegistryEntry = {
    id: record.id,
    associations: 'associations' in record ? record.associations.map(({ target_id, association_type, weight }) => ({ target_id, association_type, weight })) : [],
    created_at: record.created_at,
  };
  const session = sessionOf(record);
  if (session !== undefined) entry.session = session;
  return entry;
}

/** The session a curated record was encoded in (`metadata._context.session_id`), if any. */
export function sessionOf(record: StoredRecord): string | undefined {
  const metadata = record.metadata;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return undefined;
  const context = metadata._context;
  if (context === null || typeof context !== 'object' || Array.isArray(context)) return undefined;
  return typeof context.session_id === 'string' && context.session_id !== '' ? context.session_id : undefined;
}
