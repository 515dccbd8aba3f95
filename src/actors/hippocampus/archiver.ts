import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { deriveArchiveKey, openArchive, stageArchive, type ArchiveEntry, type OpenedArchive, type StagedArchive } from '../../archive/index.js';
import { CmpError, isCmpError } from '../../cmp/errors.js';
import { newId, toTimestamp } from '../../cmp/ids.js';
import type { ConflictResolution, ExportRequest, ExportResponse, ImportRequest, ImportResponse } from '../../cmp/operations.js';
import { STORE_TYPES, type MemoryRecord, type PartitionName, type RawJournalRecord, type StoreType, type StoredRecord } from '../../cmp/types.js';
import type { MutationEvent } from '../store/events.js';
import type { ApplyReply, Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';
import type { Ledger } from './ledger.js';
import { groupBy } from './group-by.js';

// lifecycle.export / lifecycle.import (reference spec §3.16, §3.17, §7). Export pages every selected
// store through the streaming CMA writer. Import verifies the whole archive before it touches anything
// (src/archive/reader.ts), then applies it in batches: each batch is planned from the records that
// exist (a pure decision, `planMerge`) and written as events through the hippocampus, which keeps the
// association graph in step. `replace` first saves what it is about to delete as a plain archive of its
// own, so a failure part-way restores the previous data.

export interface ArchiverOptions {
  stores: Stores;
  graph: AssociationGraph;
  now: () => number;
  /** Where archives are staged while written or verified; default the system's temporary directory. */
  tempDir?: string;
  /** Where imported records are written (sequence numbers, graph upkeep, eviction clean-up). */
  ledger: Pick<Ledger, 'apply'>;
  log: (line: string) => void;
}

/** An export whose archive is staged: its metadata is final; the bytes go out with `writeTo`. */
export interface PreparedExport {
  response: ExportResponse;
  /** Writes the archive into `out` and ends it. */
  writeTo(out: Writable): Promise<void>;
  /** Removes the staged archive and forgets the key; call once done, written or not. */
  discard(): Promise<void>;
}

/** A failure while writing an archive: CMP errors as they are, anything else sanitised (§3.22). */
function exportFailed(error: unknown): CmpError {
  if (isCmpError(error)) return error;
  return new CmpError('EXPORT_FAILED', 'An internal error occurred during export', { cause: error });
}

/** Records read from a store per call, and entries applied per batch. */
const PAGE = 500;

/** What to do with one archived record, given the copy that exists (if any). */
export type MergeDecision = { write: false } | { write: true; removeFrom?: PartitionName };

/**
 * The §3.17 merge rule for one record: a new id is written; an existing one is skipped
 * (`keep_existing`), overwritten (`keep_imported`) or overwritten only when the archived copy was
 * updated later (`keep_newer`). A curated record that lives in another store moves: written to the
 * new store, then removed from the old one.
 */
export function planMerge(incoming: { updated_at: string; store: PartitionName }, existing: { updated_at: string; store: PartitionName } | undefined, resolution: ConflictResolution): MergeDecision {
  if (existing === undefined) return { write: true };
  const overwrite = resolution === 'keep_imported' || (resolution === 'keep_newer' && Date.parse(incoming.updated_at) > Date.parse(existing.updated_at));
  if (!overwrite) return { write: false };
  return existing.store === incoming.store ? { write: true } : { write: true, removeFrom: existing.store };
}

const ALL_PARTITIONS: readonly PartitionName[] = [...STORE_TYPES, 'raw_journal'];

/** Waits between restore attempts, ms: ~25 s in all, longer than a supervised store takes to restart. */
const RESTORE_BACKOFF_MS = [100, 200, 400, 800, 1600, 3200, 6400, 12_800];

/**
 * Runs `work`, again after a pause while a store answers STORE_UNAVAILABLE: the likeliest reason a
 * replace fails is a crashed store worker, and the restore must wait for it to come back. `work`
 * must be safe to repeat (the restore empties the scope before it writes).
 */
async function untilStoresServe(work: () => Promise<void>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(isCmpError(error) && error.code === 'STORE_UNAVAILABLE') || attempt >= RESTORE_BACKOFF_MS.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, RESTORE_BACKOFF_MS[attempt]));
    }
  }
}

export class Archiver {
  readonly #o: ArchiverOptions;

  constructor(options: ArchiverOptions) {
    this.#o = options;
  }

  async #tempDir(): Promise<string> {
    const dir = this.#o.tempDir ?? tmpdir();
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Every space any of `partitions` holds. */
  async #spacesOf(partitions: readonly PartitionName[]): Promise<string[]> {
    const found = new Set<string>();
    for (const name of partitions) for (const space of await this.#o.stores[name].spaces()) found.add(space);
    return [...found].sort();
  }

  /** A store's records in `spaces`, a page at a time. */
  async *#pages<T extends StoredRecord>(name: PartitionName, spaces: string[]): AsyncGenerator<T[]> {
    for (const space of spaces) {
      let after: string | null = null;
      for (;;) {
        const page = (await this.#o.stores[name].page(space, after, PAGE)) as T[];
        if (page.length === 0) break;
        yield page;
        after = page[page.length - 1].id;
      }
    }
  }

  /** Stages an archive of `stores` (and the raw journal) in `spaces`. */
  async #stage(stores: readonly StoreType[], spaces: string[], includeRaw: boolean, encryptionKey: Buffer | undefined): Promise<StagedArchive> {
    const self = this;
    async function* curated(): AsyncGenerator<MemoryRecord[]> {
      for (const store of stores) yield* self.#pages<MemoryRecord>(store, spaces);
    }
    return stageArchive(
      { curated: curated(), ...(includeRaw ? { raw: this.#pages<RawJournalRecord>('raw_journal', spaces) } : {}) },
      { timestamp: toTimestamp(this.#o.now()), tempDir: await this.#tempDir(), ...(encryptionKey ? { encryptionKey } : {}) },
    );
  }

  /**
   * lifecycle.export (§3.16), first step: the archive is staged and its metadata known before any
   * byte is sent (the gRPC export's first chunk carries it). Call `discard` when done.
   */
  async prepareExport(request: ExportRequest): Promise<PreparedExport> {
    if (request.encrypt && request.encryption_key === null) {
      throw new CmpError('VALIDATION_ERROR', 'encryption_key is required when encrypt=true', { field: 'encryption_key' });
    }
    const stores = request.stores === null ? STORE_TYPES : STORE_TYPES.filter((store) => request.stores!.includes(store));
    const partitions: PartitionName[] = request.include_raw_journal ? [...stores, 'raw_journal'] : [...stores];
    const spaces = request.all_spaces ? await this.#spacesOf(partitions) : [request.space];
    const key = request.encrypt ? await deriveArchiveKey(request.encryption_key!) : undefined;
    let staged: StagedArchive;
    try {
      staged = await this.#stage(stores, spaces, request.include_raw_journal, key);
    } catch (error) {
      key?.fill(0);
      throw exportFailed(error);
    }
    const { summary } = staged;
    return {
      response: {
        archive_id: newId(this.#o.now()),
        size_bytes: summary.size_bytes,
        record_count: summary.record_count,
        checksum: summary.checksum,
      },
      async writeTo(out) {
        try {
          await staged.writeTo(out);
        } catch (error) {
          throw exportFailed(error);
        }
      },
      async discard() {
        key?.fill(0);
        await staged.discard();
      },
    };
  }

  /** lifecycle.export (§3.16) into `out`: ended when the archive is complete, destroyed on failure. */
  async export(request: ExportRequest, out: Writable): Promise<ExportResponse> {
    let prepared: PreparedExport;
    try {
      prepared = await this.prepareExport(request);
    } catch (error) {
      out.destroy();
      throw error;
    }
    try {
      await prepared.writeTo(out);
      return prepared.response;
    } finally {
      await prepared.discard();
    }
  }

  /**
   * lifecycle.import (§3.17) from `source`. Nothing is written unless the whole archive verifies:
   * decryption, header, every entry, record count and checksum.
   */
  async import(request: ImportRequest, source: Readable | AsyncIterable<Uint8Array>): Promise<ImportResponse> {
    const now = toTimestamp(this.#o.now());
    const key = request.decryption_key === null ? undefined : await deriveArchiveKey(request.decryption_key);
    let archive: OpenedArchive;
    try {
      archive = await openArchive(source, { now, tempDir: await this.#tempDir(), ...(key ? { decryptionKey: key } : {}) });
    } finally {
      key?.fill(0);
    }
    try {
      const target = (entry: ArchiveEntry) => (request.all_spaces ? (entry.space ?? request.space) : request.space);
      if (request.strategy === 'merge') {
        return { records_imported: await this.#merge(archive, target, request.conflict_resolution) };
      }
      return { records_imported: await this.#replace(archive, target, request) };
    } finally {
      await archive.close();
    }
  }

  async #merge(archive: OpenedArchive, target: (entry: ArchiveEntry) => string, resolution: ConflictResolution): Promise<number> {
    let imported = 0;
    for await (const batch of archive.entries(PAGE)) imported += await this.#applyBatch(batch, target, resolution);
    return imported;
  }

  /**
   * `replace`: the scope (the request's space, or every space with `all_spaces`) is saved to a staged
   * archive, emptied, and filled from the import; if that fails, it is emptied again and restored from
   * the staged copy. The import was verified before, so only a store failure can get here.
   */
  async #replace(archive: OpenedArchive, target: (entry: ArchiveEntry) => string, request: ImportRequest): Promise<number> {
    const spaces = request.all_spaces ? await this.#spacesOf(ALL_PARTITIONS) : [request.space];
    const dir = await mkdtemp(join(await this.#tempDir(), 'cma-replace-'));
    const saved = join(dir, 'before.cma');
    try {
      const before = await this.#stage(STORE_TYPES, spaces, true, undefined);
      try {
        await before.writeTo(createWriteStream(saved));
      } finally {
        await before.discard();
      }
      try {
        await this.#clear(spaces);
        return await this.#merge(archive, target, 'keep_imported');
      } catch (failure) {
        this.#o.log(`import (replace) failed, restoring the previous data: ${String(failure)}`);
        const restore = async () => {
          await this.#clear(request.all_spaces ? await this.#spacesOf(ALL_PARTITIONS) : spaces);
          const before = await openArchive(createReadStream(saved), { now: toTimestamp(this.#o.now()), tempDir: dir });
          try {
            await this.#merge(before, (entry) => entry.space ?? request.space, 'keep_imported');
          } finally {
            await before.close();
          }
        };
        try {
          await untilStoresServe(restore);
        } catch (rollback) {
          throw new CmpError('IMPORT_CONFLICT', 'Import failed and rollback failed: the previous data could not be restored', {
            cause: new AggregateError([failure, rollback]),
          });
        }
        throw new CmpError('IMPORT_CONFLICT', 'Import failed; the previous data was restored', { cause: failure });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Deletes every record of `spaces` in every store and the raw journal. */
  async #clear(spaces: string[]): Promise<void> {
    for (const name of ALL_PARTITIONS) {
      for await (const page of this.#pages(name, spaces)) {
        for (const [space, records] of groupBy(page, (record) => record.space)) {
          await this.#o.ledger.apply(space, name, { type: 'records.deleted', ids: records.map((record) => record.id) });
        }
      }
    }
  }

  /** Plans and writes one batch of verified entries; returns how many records were written. */
  async #applyBatch(batch: ArchiveEntry[], target: (entry: ArchiveEntry) => string, resolution: ConflictResolution): Promise<number> {
    const placed = batch.map((entry) => {
      const space = target(entry);
      const record: StoredRecord = { ...entry.record, space } as StoredRecord;
      const store: PartitionName = entry.kind === 'memory_record' ? (record as MemoryRecord).store : 'raw_journal';
      return { space, store, record };
    });
    // Where each id lives now: curated ids through the association graph (it maps every curated
    // record), raw ids by asking the raw journal.
    const existingStore = new Map<string, PartitionName>();
    const key = (space: string, id: string) => `${space}\u0000${id}`;
    for (const { space, store, record } of placed) {
      if (store === 'raw_journal') continue;
      const found = this.#o.graph.storeOf(space, record.id);
      if (found !== undefined) existingStore.set(key(space, record.id), found);
    }
    const rawBySpace = groupBy(
      placed.filter((item) => item.store === 'raw_journal'),
      (item) => item.space,
    );
    for (const [space, items] of rawBySpace) {
      const found = await this.#o.stores.raw_journal.getMany(
        space,
        items.map((item) => item.record.id),
      );
      found.forEach((record, index) => {
        if (record) existingStore.set(key(space, items[index].record.id), 'raw_journal');
      });
    }
    // keep_newer compares update times, so the existing copies are read (keep_existing and
    // keep_imported decide on existence alone).
    const existingUpdatedAt = new Map<string, string>();
    if (resolution === 'keep_newer') {
      const lookups = groupBy(
        placed.filter(({ space, record }) => existingStore.has(key(space, record.id))),
        ({ space, record }) => `${space}\u0000${existingStore.get(key(space, record.id))}`,
      );
      for (const items of lookups.values()) {
        const { space } = items[0];
        const store = existingStore.get(key(space, items[0].record.id))!;
        const found = await this.#o.stores[store].getMany(
          space,
          items.map((item) => item.record.id),
        );
        found.forEach((record, index) => {
          if (record) existingUpdatedAt.set(key(space, items[index].record.id), record.updated_at);
        });
      }
    }

    const writes: typeof placed = [];
    const removals: { space: string; store: PartitionName; id: string }[] = [];
    for (const item of placed) {
      const k = key(item.space, item.record.id);
      const store = existingStore.get(k);
      const existing = store === undefined ? undefined : { store, updated_at: existingUpdatedAt.get(k) ?? '' };
      const decision = planMerge({ store: item.store, updated_at: item.record.updated_at }, existing, resolution);
      if (!decision.write) continue;
      writes.push(item);
      if (decision.removeFrom !== undefined) removals.push({ space: item.space, store: decision.removeFrom, id: item.record.id });
    }

    for (const [, items] of groupBy(writes, (item) => `${item.space}\u0000${item.store}`)) {
      const { space, store } = items[0];
      await this.#o.ledger.apply(space, store, { type: 'records.put', records: items.map((item) => item.record) });
    }
    for (const [, items] of groupBy(removals, (item) => `${item.space}\u0000${item.store}`)) {
      const { space, store } = items[0];
      await this.#o.ledger.apply(space, store, { type: 'records.deleted', ids: items.map((item) => item.id) });
    }
    return writes.length;
  }
}
