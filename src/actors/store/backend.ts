import type { MemoryRecord, StoredRecord } from '../../cmp/types.js';
import type { ApplyOutcome, EventEnvelope } from './events.js';

// What a store core (store-core.ts) needs of the place its records live: the abstract-level seam
// (STYLE §3). Two implementations: `Partition` (LevelDB, partition.ts), the persistent stores', and
// `MemoryPartition` (memory-partition.ts), working memory's. Everything above this interface (apply
// bookkeeping, aggregates, registry, indexes, queries) is written once, in the core, and one
// conformance suite (test/actors/store/conformance.ts) runs against both.
//
// `R` is the record type the backend holds: working memory holds memory records only, so its reads are
// typed as such without a cast.

export interface IdempotencyEntry {
  seq: number;
  at: string;
  written: string[];
  removed: string[];
  missing: string[];
}

export interface AppliedEvent<R extends StoredRecord = StoredRecord> {
  outcome: ApplyOutcome;
  /** The state before the event of every id it touched. */
  previous: Map<string, StoredRecord | undefined>;
  /** Set when the envelope's idempotency key had been applied before; nothing was written. */
  replayed?: IdempotencyEntry;
  /**
   * Records a bounded backend removed to make room for the event's new ones, in their last state (the
   * working memory's capacity, spec §2.6). Absent for a backend without a bound.
   */
  evicted?: R[];
}

export interface ApplyOptions {
  /** fsync this batch; default the backend's own setting (a memory backend has nothing to sync). */
  sync?: boolean;
  /** JSON text of records of the event, when the caller has it already (see WireEnvelope): stored as is. */
  json?: ReadonlyMap<StoredRecord, string>;
}

/** One decay tick over a space (spec §4.2), as the store actor runs it (`StoreBackend.decay`). */
export interface DecayTickJob {
  /** The sequence number of the tick's event. */
  seq: number;
  at: string;
  tick_duration_secs: number;
  prune_threshold: number;
}

export interface DecayTickResult {
  /** Records evaluated. */
  evaluated: number;
  /** Records pruned, in their last state. */
  removed: MemoryRecord[];
  /** Sum of the score changes of the records kept. */
  scoreDelta: number;
  /** The score of every record kept. */
  scores: Float64Array;
}

/** Called with the key of a record that cannot be read (a damaged sealed value): it is passed over. */
export type OnUnreadable = (key: string, error: unknown) => void;

export interface StoreBackend<R extends StoredRecord = StoredRecord> {
  /** Records by id, undefined where absent. */
  getMany(space: string, ids: string[]): Promise<(R | undefined)[]>;
  findIdempotent(space: string, key: string): Promise<IdempotencyEntry | undefined>;
  /**
   * Applies one event atomically: reads what it touches, computes the effect with `applyEvent`, writes
   * the effect, the sequence and the idempotency entry together (all or nothing). An envelope whose
   * idempotency key was applied before writes nothing and says so (`replayed`). Callers serialise.
   */
  apply(envelope: EventEnvelope, options?: ApplyOptions): Promise<AppliedEvent<R>>;
  /** Every space holding records or applied events. */
  spaces(): Promise<string[]>;
  /** The sequence of the space's last applied event (0: none). */
  lastSequence(space: string): Promise<number>;
  /** Ids created in [startMs, endMs] (inclusive), oldest first (ties: id order). */
  idsCreatedBetween(space: string, startMs: number, endMs: number): Promise<string[]>;
  /** The newest (or oldest) ids of a space by creation time. */
  idsByRecency(space: string, limit: number, newestFirst?: boolean): Promise<string[]>;
  /** Ids of one raw-journal session, oldest first. */
  idsInSession(space: string, session: string): Promise<string[]>;
  /** All records of a space in id order, `chunk` at a time. */
  records(space: string, chunk?: number, onUnreadable?: OnUnreadable): AsyncGenerator<R[]>;
  /** Up to `limit` records of a space in id order after `afterId` (null: from the first). */
  recordsAfter(space: string, afterId: string | null, limit: number): Promise<R[]>;
  /** Drops history: applied events beyond the newest `keepEvents`, idempotency entries older than the cutoff. */
  compact(space: string, keepEvents: number, idempotencyCutoffMs: number): Promise<unknown>;
  close(): Promise<void>;
  /**
   * A decay tick over the space's memory records (spec §4.2), as one event; `pause` is awaited between
   * its steps. Absent for a backend whose records do not decay (working memory, spec §2.6).
   */
  decay?(space: string, job: DecayTickJob, pause: () => Promise<void>, options?: { sync?: boolean }): Promise<DecayTickResult>;
  /** Readies what `decay` reads, without holding writes (a pass over the records after a start). */
  fillDecayTable?(space: string, pause: () => Promise<void>): Promise<void>;
}
