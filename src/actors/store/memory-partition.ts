import type { StoredRecord } from '../../cmp/types.js';
import type { AppliedEvent, IdempotencyEntry, StoreBackend } from './backend.js';
import { applyEvent, touchedIds, type EventEnvelope } from './events.js';

// A store backend in RAM (backend.ts), never persisted: working memory's (spec §2.6). It keeps what
// the LevelDB partition keeps that a store reads back (records, sequences, idempotency entries) and
// no event log, since nothing replays it: working memory starts empty after a restart.
//
// Orders are the partition's, so the conformance suite holds for both: creation time then id (the
// partition's t! keys), id (its r! keys), both by UTF-16 code unit.

/**
 * A bound on the records of a space: when a new record arrives in a full space, `victim` names the one
 * that leaves (working memory: the least recently used, working/capacity.ts). `records` come in the
 * order they were stored, a rewrite counting as a new store.
 */
export interface Capacity<R extends StoredRecord> {
  /** Records per space, at least 1. */
  limit: number;
  victim(records: Iterable<R>): R;
}

interface Space<R extends StoredRecord> {
  /** By id, in the order stored (a rewrite moves a record to the end): `Capacity.victim` breaks ties by it. */
  records: Map<string, R>;
  idempotency: Map<string, IdempotencyEntry>;
  seq: number;
}

const byCreation = (a: StoredRecord, b: StoredRecord) => Date.parse(a.created_at) - Date.parse(b.created_at) || byId(a, b);
const byId = (a: StoredRecord, b: StoredRecord) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class MemoryPartition<R extends StoredRecord = StoredRecord> implements StoreBackend<R> {
  readonly #spaces = new Map<string, Space<R>>();
  readonly #capacity: Capacity<R> | undefined;

  constructor(options: { capacity?: Capacity<R> } = {}) {
    this.#capacity = options.capacity;
  }

  #space(name: string): Space<R> {
    let space = this.#spaces.get(name);
    if (!space) this.#spaces.set(name, (space = { records: new Map(), idempotency: new Map(), seq: 0 }));
    return space;
  }

  async getMany(space: string, ids: string[]): Promise<(R | undefined)[]> {
    const records = this.#spaces.get(space)?.records;
    return ids.map((id) => records?.get(id));
  }

  async findIdempotent(space: string, key: string): Promise<IdempotencyEntry | undefined> {
    return this.#spaces.get(space)?.idempotency.get(key);
  }

  async apply(envelope: EventEnvelope): Promise<AppliedEvent<R>> {
    const space = this.#space(envelope.space);
    const key = envelope.idempotency_key;
    const replayed = key === undefined ? undefined : space.idempotency.get(key);
    if (replayed) return { outcome: { writes: [], removed: [], missing: replayed.missing }, previous: new Map(), replayed, evicted: [] };

    const current = new Map(touchedIds(envelope.event).map((id) => [id, space.records.get(id)] as const));
    // Throws on an invalid event before anything changed: an event is applied whole or not at all.
    const outcome = applyEvent(envelope, current);
    const previous = new Map<string, StoredRecord | undefined>(current);
    for (const record of outcome.writes) if (!previous.has(record.id)) previous.set(record.id, space.records.get(record.id));

    const evicted: R[] = [];
    for (const record of outcome.removed) space.records.delete(record.id);
    // The events a store is sent carry its own kind of record (the hippocampus routes them): `R`.
    for (const record of outcome.writes as R[]) {
      if (this.#capacity && !space.records.has(record.id) && space.records.size >= this.#capacity.limit) {
        const victim = this.#capacity.victim(space.records.values());
        space.records.delete(victim.id);
        evicted.push(victim);
      }
      space.records.delete(record.id);
      space.records.set(record.id, record);
    }
    space.seq = Math.max(space.seq, envelope.seq);
    if (key !== undefined) {
      space.idempotency.set(key, {
        seq: envelope.seq,
        at: envelope.at,
        written: outcome.writes.map((record) => record.id),
        removed: outcome.removed.map((record) => record.id),
        missing: outcome.missing,
      });
    }
    return { outcome, previous, evicted };
  }

  async spaces(): Promise<string[]> {
    return [...this.#spaces.keys()];
  }

  async lastSequence(space: string): Promise<number> {
    return this.#spaces.get(space)?.seq ?? 0;
  }

  #byCreation(space: string): R[] {
    return [...(this.#spaces.get(space)?.records.values() ?? [])].sort(byCreation);
  }

  #byId(space: string): R[] {
    return [...(this.#spaces.get(space)?.records.values() ?? [])].sort(byId);
  }

  async idsCreatedBetween(space: string, startMs: number, endMs: number): Promise<string[]> {
    return this.#byCreation(space)
      .filter((record) => {
        const ms = Date.parse(record.created_at);
        return ms >= startMs && ms <= endMs;
      })
      .map((record) => record.id);
  }

  async idsByRecency(space: string, limit: number, newestFirst = true): Promise<string[]> {
    const sorted = this.#byCreation(space);
    return (newestFirst ? sorted.reverse() : sorted).slice(0, limit).map((record) => record.id);
  }

  async idsInSession(space: string, session: string): Promise<string[]> {
    return this.#byCreation(space)
      .filter((record) => 'session_id' in record && record.session_id === session)
      .map((record) => record.id);
  }

  async *records(space: string, chunk = 1000): AsyncGenerator<R[]> {
    const sorted = this.#byId(space);
    for (let start = 0; start < sorted.length; start += chunk) yield sorted.slice(start, start + chunk);
  }

  async recordsAfter(space: string, afterId: string | null, limit: number): Promise<R[]> {
    return this.#byId(space)
      .filter((record) => afterId === null || record.id > afterId)
      .slice(0, limit);
  }

  /** No event log to trim; idempotency entries past their time go. */
  async compact(space: string, _keepEvents: number, idempotencyCutoffMs: number): Promise<{ keys: number }> {
    const entries = this.#spaces.get(space)?.idempotency ?? new Map<string, IdempotencyEntry>();
    let dropped = 0;
    for (const [key, entry] of entries) {
      if (Date.parse(entry.at) >= idempotencyCutoffMs) continue;
      entries.delete(key);
      dropped++;
    }
    return { keys: dropped };
  }

  async close(): Promise<void> {
    this.#spaces.clear();
  }
}
