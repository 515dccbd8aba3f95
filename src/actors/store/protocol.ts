import type { AssociationType, PartitionName, StoredRecord } from '../../cmp/types.js';
import type { SpaceAggregates } from './aggregates.js';
import type { EventEnvelope } from './events.js';
import type { IdempotencyEntry } from './partition.js';

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
}

/** A record's outgoing edges: what the hippocampus's association graph holds of it. */
export interface RegistryEntry {
  id: string;
  associations: { target_id: string; association_type: AssociationType; weight: number }[];
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

export interface SpaceStats extends SpaceAggregates {
  oldest_created_at: string | null;
  newest_created_at: string | null;
}

/** The store API, served by every store actor (a worker's, or working memory's in-process one). */
export interface StoreApi {
  whenReady(): Promise<{ name: PartitionName; sequences: Record<string, number> }>;
  apply(envelope: EventEnvelope): Promise<ApplyReply>;
  get(space: string, id: string): Promise<StoredRecord | undefined>;
  getMany(space: string, ids: string[]): Promise<(StoredRecord | undefined)[]>;
  findIdempotent(space: string, key: string): Promise<IdempotencyEntry | undefined>;
  idsCreatedBetween(space: string, startMs: number, endMs: number): Promise<string[]>;
  idsByRecency(space: string, limit: number): Promise<string[]>;
  idsInSession(space: string, session: string): Promise<string[]>;
  registry(): Promise<Record<string, RegistryEntry[]>>;
  stats(space: string): Promise<SpaceStats>;
  compact(): Promise<void>;
  close(): Promise<void>;
}

export type StoreWorkerApi = StoreApi;

export function registryEntryOf(record: StoredRecord): RegistryEntry {
  return {
    id: record.id,
    associations: 'associations' in record
      ? record.associations.map(({ target_id, association_type, weight }) => ({ target_id, association_type, weight }))
      : [],
  };
}
