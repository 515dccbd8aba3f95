import { ClassicLevel } from 'classic-level';
import { CmpError } from '../../cmp/errors.js';
import { toTimestamp } from '../../cmp/ids.js';
import type { MemoryRecord, PartitionName, StoredRecord } from '../../cmp/types.js';
import { DecayTable, decodeCheckpoint, fingerprint, STEP } from './decay-table.js';
import type { AppliedEvent, ApplyOptions, DecayTickJob, DecayTickResult, IdempotencyEntry, OnUnreadable, StoreBackend } from './backend.js';
import { applyEvent, decayedRecord, touchedIds, type EventEnvelope } from './events.js';
import { createdMs, EMPTY, end, idempotencyKeyPart, keys, lastSegment, pad, plain, sameIndexKeys, serialiseEnvelope, sessionKeyPart, type BatchOp } from './partition-layout.js';
import { migrateToSealed, type MigrationCount } from './partition-migration.js';
import { ValueCipher } from './value-cipher.js';

// A store actor's LevelDB partition: the only file that imports classic-level at run time. One
// directory per store, owned by exactly one worker thread; a store backend (backend.ts) for the store
// core. Its keys and value layout are in partition-layout.ts; the one-off encryption pass in
// partition-migration.ts.

export const PARTITION_FORMAT = '1';

export type { AppliedEvent, ApplyOptions, DecayTickJob, DecayTickResult, IdempotencyEntry } from './backend.js';
export type { MigrationCount } from './partition-migration.js';

export interface PartitionOptions {
  /** fsync every write batch, so an acknowledged write survives power loss and not only a crash. */
  syncWrites: boolean;
  /** Parsed records kept in memory (least recently stored or read leave first); 0 disables. Default 20,000. */
  cacheSize?: number;
  /** Seals and opens values; without one (or with one without a key) values are plain UTF-8 JSON. */
  cipher?: ValueCipher;
}

export const DEFAULT_RECORD_CACHE = 20_000;
const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

/** getMany reads up to this many uncached records synchronously, more through LevelDB's async getMany. */
const SYNC_READS = 64;

export class Partition implements StoreBackend {
  readonly #db: ClassicLevel<string, Buffer>;
  readonly #options: PartitionOptions;
  readonly #cipher: ValueCipher;
  /** Records as stored (decay overlays are applied on every read, `#view`). */
  readonly #cache = new Map<string, StoredRecord>();
  readonly #tables = new Map<string, Promise<DecayTable>>();
  /** Passes filling a space's decay table (`fillDecayTable`), one at a time per space. */
  readonly #filling = new Map<string, Promise<void>>();

  private constructor(db: ClassicLevel<string, Buffer>, options: PartitionOptions) {
    this.#db = db;
    this.#options = options;
    this.#cipher = options.cipher ?? new ValueCipher();
  }

  #text(value: Buffer): string {
    return this.#cipher.openText(value);
  }

  #json<T>(value: Buffer): T {
    return JSON.parse(this.#cipher.openText(value)) as T;
  }

  static async open(location: string, name: PartitionName, options: PartitionOptions): Promise<Partition> {
    // LevelDB's default 4 MiB write buffer. 32 MiB made fewer, larger flushes (every memtable spans the
    // whole key range, so each flush overlaps level 1 and is merged again: 2–10 % less CPU per encoded
    // record), but a store being written holds up to two buffers: a 100,000-record import peaked 110 MiB
    // higher, for no measurable encode throughput (50,000 records alternating, issue 6).
    const db = new ClassicLevel<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer', writeBufferSize: WRITE_BUFFER_BYTES });
    try {
      await db.open();
    } catch (error) {
      throw translateOpenError(error, location);
    }
    const format = (await db.get('m!format'))?.toString('utf8');
    const owner = (await db.get('m!partition'))?.toString('utf8');
    if (format === undefined) {
      await db.batch(
        [
          { type: 'put', key: 'm!format', value: plain(PARTITION_FORMAT) },
          { type: 'put', key: 'm!partition', value: plain(name) },
        ],
        { sync: true },
      );
    } else if (format !== PARTITION_FORMAT) {
      await db.close();
      throw new CmpError('INTERNAL_ERROR', `partition ${location} has format ${format}; this build reads format ${PARTITION_FORMAT}`);
    } else if (owner !== name) {
      await db.close();
      throw new CmpError('INTERNAL_ERROR', `partition ${location} belongs to store ${owner}, not ${name}`);
    }
    return new Partition(db, options);
  }

  async close(): Promise<void> {
    await this.#db.close();
  }

  async get(space: string, id: string): Promise<StoredRecord | undefined> {
    return (await this.getMany(space, [id]))[0];
  }

  /**
   * Records by id (undefined where absent). Parsed records are kept in a bounded cache, filled by reads
   * (writes refresh what it holds), because recall reads the same hot records again and again and parsing JSON is
   * most of a read. Records are never mutated in place (events make new ones), so sharing is safe.
   */
  async getMany(space: string, ids: string[]): Promise<(StoredRecord | undefined)[]> {
    if (ids.length === 0) return [];
    const table = await this.#tableOf(space);
    const found: (StoredRecord | undefined)[] = ids.map((id) => {
      const cached = this.#cache.get(keys.record(space, id));
      return cached && this.#view(table, cached);
    });
    const missing = ids.flatMap((id, index) => (found[index] === undefined ? [index] : []));
    if (missing.length === 0) return found;
    const wanted = missing.map((index) => keys.record(space, ids[index]));
    // A few keys are read synchronously: the async getMany goes through libuv's thread pool, which every
    // store worker of the process shares, and for a recall's handful of records that trip cost more than
    // the reads (LevelDB serves them from its caches in microseconds).
    const values = wanted.length <= SYNC_READS ? wanted.map((key) => this.#db.getSync(key)) : await this.#db.getMany(wanted);
    values.forEach((value, position) => {
      if (value === undefined) return;
      const text = this.#text(value);
      const record = JSON.parse(text) as StoredRecord;
      found[missing[position]] = this.#view(table, record, text);
      // Until the opening pass has filled the table, a cached record could miss its checkpoint overlay.
      if (!table.hasPending) this.#remember(keys.record(space, record.id), record);
    });
    return found;
  }

  /**
   * The decay table of a space, its checkpoint read once (decay-table.ts). Every write awaits it before
   * writing, so a space found without records is complete from the start: all it will hold is written.
   */
  #tableOf(space: string): Promise<DecayTable> {
    let table = this.#tables.get(space);
    if (!table) {
      table = (async () => {
        const prefix = keys.recordPrefix(space);
        const checkpoint = await this.#db.get(keys.decayCheckpoint(space));
        const anyRecord = await this.#db.keys({ gte: prefix, lt: end(prefix), limit: 1 }).all();
        const created = new DecayTable(checkpoint === undefined ? new Map() : decodeCheckpoint(this.#cipher.open(checkpoint)));
        if (anyRecord.length === 0) created.markComplete();
        return created;
      })();
      // A failed read (a closing database) is not remembered: the next call tries again.
      table.catch(() => this.#tables.delete(space));
      this.#tables.set(space, table);
    }
    return table;
  }

  /**
   * A record as the rest of the system sees it: with the tick a decay overlay stands for (the same
   * `decayedRecord` a materialising tick writes). `text`: its stored JSON, to match checkpoint entries
   * before the opening pass is over.
   */
  #view(table: DecayTable, record: StoredRecord, text?: string): StoredRecord {
    if (!('store' in record)) return record;
    const overlay = table.overlayOf(record.id, text === undefined ? undefined : () => fingerprint(text));
    return overlay ? decayedRecord(record, overlay.lastTickMs, toTimestamp(overlay.tickAtMs)) : record;
  }

  #remember(key: string, record: StoredRecord | undefined, written = false): void {
    // A write refreshes a cached record but caches no new one: an import of 100,000 records otherwise
    // left 20,000 parsed records per store that nothing had asked for (issue 6).
    if (written && !this.#cache.has(key)) return;
    this.#cache.delete(key);
    const limit = this.#options.cacheSize ?? DEFAULT_RECORD_CACHE;
    if (record === undefined || limit <= 0) return;
    this.#cache.set(key, record);
    if (this.#cache.size > limit) this.#cache.delete(this.#cache.keys().next().value!);
  }

  async findIdempotent(space: string, key: string): Promise<IdempotencyEntry | undefined> {
    const value = await this.#db.get(keys.idempotency(space, idempotencyKeyPart(this.#cipher, key)));
    return value === undefined ? undefined : this.#json<IdempotencyEntry>(value);
  }

  /**
   * Applies one event: reads what it touches, computes the effect with `applyEvent`, and writes the
   * effect, the event, the space's sequence and the idempotency entry in one batch. Callers serialise
   * calls (the store worker's write queue), so the read-compute-write is not interleaved.
   */
  async apply(envelope: EventEnvelope, options: ApplyOptions = {}): Promise<AppliedEvent> {
    const { space } = envelope;
    const table = await this.#tableOf(space);
    if (envelope.idempotency_key !== undefined) {
      const replayed = await this.findIdempotent(space, envelope.idempotency_key);
      if (replayed) return { outcome: { writes: [], removed: [], missing: replayed.missing }, previous: new Map(), replayed };
    }
    const ids = touchedIds(envelope.event);
    const records = await this.getMany(space, ids);
    const current = new Map<string, StoredRecord | undefined>(ids.map((id, index) => [id, records[index]] as const));
    const outcome = applyEvent(envelope, current);

    const ops: BatchOp[] = [];
    for (const record of outcome.removed) ops.push(...this.#indexOps(space, record, 'del'));
    const serialised = new Map<StoredRecord, string>();
    for (const record of outcome.writes) {
      const previous = current.get(record.id);
      // Index keys depend only on creation time and session: most updates leave them as they are.
      const reindex = !previous || !sameIndexKeys(previous, record);
      if (previous && reindex) ops.push(...this.#indexOps(space, previous, 'del'));
      const json = options.json?.get(record) ?? JSON.stringify(record);
      serialised.set(record, json);
      ops.push({ type: 'put', key: keys.record(space, record.id), value: this.#cipher.seal(json) });
      if (reindex) ops.push(...this.#indexOps(space, record, 'put'));
    }
    ops.push({ type: 'put', key: keys.event(space, envelope.seq), value: this.#cipher.seal(serialiseEnvelope(envelope, serialised)) });
    ops.push({ type: 'put', key: keys.sequence(space), value: plain(String(envelope.seq)) });
    if (envelope.idempotency_key !== undefined) {
      const entry: IdempotencyEntry = {
        seq: envelope.seq,
        at: envelope.at,
        written: outcome.writes.map((record) => record.id),
        removed: outcome.removed.map((record) => record.id),
        missing: outcome.missing,
      };
      ops.push({ type: 'put', key: keys.idempotency(space, idempotencyKeyPart(this.#cipher, envelope.idempotency_key)), value: this.#cipher.seal(JSON.stringify(entry)) });
    }
    await this.#write(ops, options.sync ?? this.#options.syncWrites);
    for (const record of outcome.removed) {
      this.#remember(keys.record(space, record.id), undefined);
      table.remove(record.id);
    }
    for (const record of outcome.writes) {
      this.#remember(keys.record(space, record.id), record, true);
      // Written from the overlaid state, so the JSON is current: the overlay goes.
      if ('store' in record) table.set(record, fingerprint(serialised.get(record)!), false);
    }
    return { outcome, previous: current };
  }

  /**
   * A decay tick over every memory record of a space (spec §4.2, closed form): evaluates the decay
   * table, then writes in one batch the deletion of the records below the threshold, the new decay
   * checkpoint, the event (`records.ticked`, naming the records pruned) and the sequence. Records
   * kept are not rewritten: reads overlay the tick (`#view`). Callers serialise it with `apply`.
   * `pause` is awaited between steps, so reads are answered during a long tick.
   */
  async decay(space: string, job: DecayTickJob, pause: () => Promise<void>, options: { sync?: boolean } = {}): Promise<DecayTickResult> {
    await this.fillDecayTable(space, pause);
    const table = await this.#tableOf(space);
    const plan = await table.tick(Date.parse(job.at), job.tick_duration_secs, job.prune_threshold, pause);
    const removed = (await this.getMany(space, plan.pruned)).filter((record): record is MemoryRecord => record !== undefined && 'store' in record);
    const envelope: EventEnvelope = {
      space,
      seq: job.seq,
      at: job.at,
      event: { type: 'records.ticked', evaluated: plan.ids.length, pruned: plan.pruned, tick_duration_secs: job.tick_duration_secs, prune_threshold: job.prune_threshold },
    };
    const checkpoint = await table.checkpointAfter(plan, pause);
    // A tick of one step (a small store) goes straight on: pauses are for ticks long enough to hold reads.
    if (plan.ids.length > STEP) await pause();
    const ops: BatchOp[] = [];
    for (const record of removed) ops.push(...this.#indexOps(space, record, 'del'));
    ops.push({ type: 'put', key: keys.decayCheckpoint(space), value: this.#cipher.seal(checkpoint) });
    ops.push({ type: 'put', key: keys.event(space, envelope.seq), value: this.#cipher.seal(JSON.stringify(envelope)) });
    ops.push({ type: 'put', key: keys.sequence(space), value: plain(String(envelope.seq)) });
    await this.#write(ops, options.sync ?? this.#options.syncWrites);
    for (const record of removed) this.#remember(keys.record(space, record.id), undefined);
    const scoreDelta = table.commit(plan);
    return { evaluated: plan.ids.length, removed, scoreDelta, scores: plan.scores.filter((score) => !Number.isNaN(score)) };
  }

  /** Seals every plain value of the partition (encryption at rest turned on later): partition-migration.ts. */
  async migrateToSealed(batchSize = 500): Promise<MigrationCount & { other_values_migrated: number }> {
    const lent = { db: this.#db, cipher: this.#cipher, write: (ops: BatchOp[]) => this.#write(ops, true), forgetCached: () => this.#cache.clear() };
    return migrateToSealed(lent, batchSize);
  }

  /**
   * Writes `ops` as one atomic LevelDB batch. Through the chained batch API rather than
   * `db.batch(array)`: the array form clones every operation with the batch options spread into it and
   * the binding then reads each object's properties back, about 10 µs per operation, which was the
   * largest single cost of an encode; the chained form hands each key and value to the native batch
   * directly (measured 3.5–4 ms → 0.5–0.9 ms for a 100-record encode).
   */
  async #write(ops: BatchOp[], sync: boolean): Promise<void> {
    const batch = this.#db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
    } catch (error) {
      await batch.close();
      throw error;
    }
    await batch.write({ sync });
  }

  /** Secondary index entries of a record (the record key itself is written by the caller). */
  #indexOps(space: string, record: StoredRecord, type: 'put' | 'del'): BatchOp[] {
    const ms = createdMs(record);
    const ops: BatchOp[] = [];
    const op = (key: string): BatchOp => (type === 'put' ? { type, key, value: EMPTY } : { type, key });
    if (type === 'del') ops.push({ type: 'del', key: keys.record(space, record.id) });
    ops.push(op(keys.time(space, ms, record.id)));
    if ('session_id' in record) ops.push(op(keys.session(space, sessionKeyPart(this.#cipher, record.session_id), ms, record.id)));
    return ops;
  }

  /** Every space that holds records or events. */
  async spaces(): Promise<string[]> {
    const found: string[] = [];
    let from = 'q!';
    for (;;) {
      const [key] = await this.#db.keys({ gte: from, lt: 'q"', limit: 1 }).all();
      if (key === undefined) return found;
      found.push(key.slice(2));
      from = key + '\u0000';
    }
  }

  async lastSequence(space: string): Promise<number> {
    const value = await this.#db.get(keys.sequence(space));
    return value === undefined ? 0 : Number(value.toString('utf8'));
  }

  /**
   * All records of a space in key order, `chunk` at a time, so a large partition never sits whole in
   * memory. A record that cannot be read (a sealed value with a changed byte) throws, unless
   * `onUnreadable` is given: then it is reported there and skipped, so one damaged record does not keep
   * a whole store from opening (reading it by id still answers UNAUTHORIZED).
   */
  records(space: string, chunk = 1000, onUnreadable?: OnUnreadable): AsyncGenerator<StoredRecord[]> {
    return this.#records(space, chunk, onUnreadable, false);
  }

  /**
   * The opening pass: `records`, and puts every memory record in the space's decay table, which is then
   * complete and kept exact by every write (`fillDecayTable` does the same without the records).
   */
  scan(space: string, chunk = 1000, onUnreadable?: OnUnreadable): AsyncGenerator<StoredRecord[]> {
    return this.#records(space, chunk, onUnreadable, true);
  }

  /**
   * Puts every memory record of a space in its decay table, unless it is complete already (the store
   * actor's opening pass fills it; a start from an index snapshot reads no record, so the table is
   * filled after it, or by the first tick). Safe beside writes: the table keeps out what they remove.
   * Calls while a pass runs wait for that pass. `pause` is awaited between chunks.
   */
  fillDecayTable(space: string, pause: () => Promise<void>): Promise<void> {
    let filling = this.#filling.get(space);
    if (!filling) {
      filling = (async () => {
        if ((await this.#tableOf(space)).complete) return;
        // 100 records a step: about a millisecond of parsing, as a tick's steps, so a recall meanwhile waits little.
        for await (const _ of this.#records(space, 100, () => undefined, true)) await pause();
      })().finally(() => this.#filling.delete(space));
      this.#filling.set(space, filling);
    }
    return filling;
  }

  async *#records(space: string, chunk: number, onUnreadable: OnUnreadable | undefined, build: boolean): AsyncGenerator<StoredRecord[]> {
    const table = await this.#tableOf(space);
    const prefix = keys.recordPrefix(space);
    const iterator = this.#db.iterator({ gte: prefix, lt: end(prefix) });
    try {
      for (;;) {
        const entries = await iterator.nextv(chunk);
        if (entries.length === 0) {
          if (build) table.markComplete();
          return;
        }
        const records: StoredRecord[] = [];
        for (const [key, value] of entries) {
          try {
            const text = this.#text(value);
            const record = JSON.parse(text) as StoredRecord;
            if (build && 'store' in record) table.set(record, fingerprint(text), true);
            records.push(this.#view(table, record, text));
          } catch (error) {
            if (onUnreadable === undefined) throw error;
            onUnreadable(key, error);
          }
        }
        yield records;
      }
    } finally {
      await iterator.close();
    }
  }

  /**
   * Authenticates every sealed record of a space without parsing it (encryption at rest: a changed byte
   * fails its GCM tag), reporting each that fails to `onUnreadable`; plain values have nothing to check.
   * A start that reads its aggregates from the index snapshot passes over no record otherwise.
   */
  async checkSealedRecords(space: string, onUnreadable: OnUnreadable, chunk = 1000): Promise<void> {
    if (!this.#cipher.enabled) return;
    const prefix = keys.recordPrefix(space);
    const iterator = this.#db.iterator({ gte: prefix, lt: end(prefix) });
    try {
      for (let entries; (entries = await iterator.nextv(chunk)).length > 0; ) {
        for (const [key, value] of entries) {
          try {
            this.#cipher.open(value);
          } catch (error) {
            onUnreadable(key, error);
          }
        }
      }
    } finally {
      await iterator.close();
    }
  }

  /**
   * Up to `limit` records of a space in id order, starting after `afterId` (null: from the first): a
   * cursor that pages through a space across calls (export), whatever is written in between.
   */
  async recordsAfter(space: string, afterId: string | null, limit: number): Promise<StoredRecord[]> {
    const prefix = keys.recordPrefix(space);
    const range = afterId === null ? { gte: prefix } : { gt: keys.record(space, afterId) };
    const values = await this.#db.values({ ...range, lt: end(prefix), limit }).all();
    const table = await this.#tableOf(space);
    return values.map((value) => {
      const text = this.#text(value);
      return this.#view(table, JSON.parse(text) as StoredRecord, text);
    });
  }

  /** Ids created in [startMs, endMs] (inclusive), oldest first. */
  async idsCreatedBetween(space: string, startMs: number, endMs: number): Promise<string[]> {
    const prefix = keys.timePrefix(space);
    const found = await this.#db.keys({ gte: `${prefix}${pad(startMs, 15)}!`, lt: `${prefix}${pad(endMs, 15)}"` }).all();
    return found.map(lastSegment);
  }

  /** The newest (or oldest) ids of a space by creation time. */
  async idsByRecency(space: string, limit: number, newestFirst = true): Promise<string[]> {
    const prefix = keys.timePrefix(space);
    const found = await this.#db.keys({ gte: prefix, lt: end(prefix), reverse: newestFirst, limit }).all();
    return found.map(lastSegment);
  }

  /** Ids of one raw-journal session, oldest first. */
  async idsInSession(space: string, session: string): Promise<string[]> {
    const prefix = keys.sessionPrefix(space, sessionKeyPart(this.#cipher, session));
    const found = await this.#db.keys({ gte: prefix, lt: end(prefix) }).all();
    // encodeURIComponent keeps "!", so a longer session ("a!b") shares this prefix; its keys have more parts.
    return found.filter((key) => key.indexOf('!', prefix.length) === key.lastIndexOf('!')).map(lastSegment);
  }

  /** The highest sequence compaction removed from the log (0: none); events up to it cannot be replayed. */
  async compactedThrough(space: string): Promise<number> {
    const value = await this.#db.get(`c!${space}`);
    return value === undefined ? 0 : Number(value.toString('utf8'));
  }

  /** Applied events of a space with a sequence above `afterSeq`, oldest first (the replication seam). */
  async eventsAfter(space: string, afterSeq: number, limit = 1000): Promise<EventEnvelope[]> {
    const prefix = keys.eventPrefix(space);
    const values = await this.#db.values({ gt: keys.event(space, afterSeq), lt: end(prefix), limit }).all();
    return values.map((value) => this.#json<EventEnvelope>(value));
  }

  async eventCount(space: string): Promise<number> {
    const prefix = keys.eventPrefix(space);
    let count = 0;
    for await (const _ of this.#db.keys({ gte: prefix, lt: end(prefix) })) count++;
    return count;
  }

  /**
   * Drops applied events beyond the newest `keepEvents` and idempotency entries older than
   * `idempotencyCutoffMs` (ms since the epoch). Records are the snapshot; old events are history only.
   */
  async compact(space: string, keepEvents: number, idempotencyCutoffMs: number): Promise<{ events: number; keys: number }> {
    const eventPrefix = keys.eventPrefix(space);
    // Sequences are per space across all stores, so a store's own have gaps: count events, not numbers.
    const newest = keepEvents > 0 ? await this.#db.keys({ gte: eventPrefix, lt: end(eventPrefix), reverse: true, limit: keepEvents }).all() : [];
    const oldestKept = newest.length < keepEvents ? eventPrefix : (newest.at(-1) ?? end(eventPrefix));
    const staleEvents = await this.#db.keys({ gte: eventPrefix, lt: oldestKept }).all();
    const idemPrefix = keys.idempotencyPrefix(space);
    const staleKeys: string[] = [];
    for await (const [key, value] of this.#db.iterator({ gte: idemPrefix, lt: end(idemPrefix) })) {
      if (Date.parse(this.#json<IdempotencyEntry>(value).at) < idempotencyCutoffMs) staleKeys.push(key);
    }
    const ops: BatchOp[] = [...staleEvents, ...staleKeys].map((key) => ({ type: 'del', key }));
    const lastStale = staleEvents.at(-1);
    if (lastStale !== undefined) ops.push({ type: 'put', key: `c!${space}`, value: plain(String(Number(lastSegment(lastStale)))) });
    if (ops.length > 0) await this.#write(ops, this.#options.syncWrites);
    return { events: staleEvents.length, keys: staleKeys.length };
  }
}

function translateOpenError(error: unknown, location: string): CmpError {
  const cause = (error as { cause?: { code?: string } }).cause;
  if (cause?.code === 'LEVEL_LOCKED') {
    return new CmpError('INTERNAL_ERROR', `partition ${location} is locked by another process or thread`, { cause: error });
  }
  return new CmpError('INTERNAL_ERROR', `partition ${location} could not be opened`, { cause: error });
}
