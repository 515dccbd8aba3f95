import { toTimestamp } from '../../cmp/ids.js';
import type { PartitionName, PersistentStore } from '../../cmp/types.js';
import type { IdempotencyEntry } from '../store/backend.js';
import type { EventEnvelope, MutationEvent } from '../store/events.js';
import type { ApplyReply, DecayJob, DecayOutcome, Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';

// The ledger: the one way a change reaches a store (issue 18, move 1). It owns the per-space sequence
// numbers, wraps each mutation in its envelope, finds the first attempt of an idempotent request, keeps
// the association graph in step with what a store acknowledged, and strips the links left pointing at
// records that are gone. Everything that writes (encode, forget, recall's write-back, digestion,
// import, the similar-memory linker, decay) goes through it, so the three write paths there once were
// are one. It is also the seam cluster mode replaces: a replicated log satisfies the same `Ledger`
// (sequences agreed instead of counted here), and nothing above it changes.

/** How one event is applied; absent fields mean "now" and "not idempotent". */
export interface ApplyOptions {
  /** The event's time; default now. An idempotent retry passes its first attempt's time. */
  at?: string;
  /** The request's idempotency key: a store that applied it before answers `replayed`, writing nothing. */
  idempotencyKey?: string;
  /** Embedder vectors of the records written, already at hand (the store need not embed again). */
  vectors?: Record<string, number[]>;
}

export interface Ledger {
  /** Reads one partition's sequences and its part of the graph: at start, and after its actor restarted. */
  resync(partition: PartitionName): Promise<void>;
  /** Every space with at least one event (what background jobs walk over). */
  spaces(): string[];
  /** Where each of `partitions` already applied the request `key`, if any (a retry reuses its time and ids). */
  firstAttempt(space: string, key: string | undefined, partitions: Iterable<PartitionName>): Promise<Map<PartitionName, IdempotencyEntry>>;
  /**
   * Applies one event to one partition in sequence and brings the graph up to date with the reply,
   * including the clean-up after working memory evicted records to make room. Resolves once the store
   * acknowledged: an acknowledged event is durable as the store is configured.
   */
  apply(space: string, partition: PartitionName, event: MutationEvent, options?: ApplyOptions): Promise<ApplyReply>;
  /** One decay tick of one persistent store, in sequence; the pruned records leave the graph. */
  decay(space: string, store: PersistentStore, job: Omit<DecayJob, 'seq'>): Promise<DecayOutcome>;
  /** After records left (forget, eviction, pruning, digestion): strip the links that pointed at them. */
  cleanUpAfterRemoval(space: string, removed: string[], at: string): Promise<void>;
}

/** The ledger of one process: sequences counted in memory, recovered from the stores at start. */
export class LocalLedger implements Ledger {
  readonly #stores: Stores;
  readonly #graph: AssociationGraph;
  readonly #now: () => number;
  readonly #sequences = new Map<string, number>();

  constructor(options: { stores: Stores; graph: AssociationGraph; now: () => number }) {
    this.#stores = options.stores;
    this.#graph = options.graph;
    this.#now = options.now;
  }

  /** Every partition's `resync`, together: what the hippocampus does before it serves. */
  async load(): Promise<void> {
    await Promise.all((Object.keys(this.#stores) as PartitionName[]).map((name) => this.resync(name)));
  }

  async resync(partition: PartitionName): Promise<void> {
    const { sequences } = await this.#stores[partition].whenReady();
    // Never backwards: events numbered while this store was away keep their numbers.
    for (const [space, seq] of Object.entries(sequences)) this.#sequences.set(space, Math.max(seq, this.#sequences.get(space) ?? 0));
    if (partition !== 'raw_journal') this.#graph.load(partition, await this.#stores[partition].registry());
  }

  spaces(): string[] {
    return [...this.#sequences.keys()];
  }

  async firstAttempt(space: string, key: string | undefined, partitions: Iterable<PartitionName>): Promise<Map<PartitionName, IdempotencyEntry>> {
    return firstAttempts(this.#stores, space, key, partitions);
  }

  async apply(space: string, partition: PartitionName, event: MutationEvent, options: ApplyOptions = {}): Promise<ApplyReply> {
    const at = options.at ?? toTimestamp(this.#now());
    // The envelope is built before the first await, so events take their numbers in call order.
    const reply = await this.#stores[partition].apply(this.#envelope(space, at, event, options.idempotencyKey), options.vectors);
    // The raw journal's records are not memories: the graph does not hold them.
    if (partition !== 'raw_journal') this.#absorb(space, partition, reply);
    if (reply.evicted?.length) await this.cleanUpAfterRemoval(space, reply.evicted, at);
    return reply;
  }

  async decay(space: string, store: PersistentStore, job: Omit<DecayJob, 'seq'>): Promise<DecayOutcome> {
    // A decay tick is one event of the space's sequence, evaluated by the store from its decay table.
    const outcome = await this.#stores[store].decay(space, { ...job, seq: this.#next(space) });
    for (const id of outcome.pruned) this.#graph.remove(space, id);
    return outcome;
  }

  async cleanUpAfterRemoval(space: string, removed: string[], at: string): Promise<void> {
    const sources = this.#graph.sourcesOf(space, removed);
    await Promise.all(
      [...sources].map(async ([store, sourceIds]) => {
        const event: MutationEvent = { type: 'associations.stripped', source_ids: sourceIds, target_ids: removed };
        this.#absorb(space, store, await this.#stores[store].apply(this.#envelope(space, at, event)));
      }),
    );
  }

  #next(space: string): number {
    const seq = (this.#sequences.get(space) ?? 0) + 1;
    this.#sequences.set(space, seq);
    return seq;
  }

  #envelope(space: string, at: string, event: MutationEvent, idempotencyKey?: string): EventEnvelope {
    return { space, seq: this.#next(space), at, event, ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }) };
  }

  /**
   * Brings the graph up to date with what a store acknowledged. A removal unmaps a record only from the
   * store it left: a record that moved (import, keep_imported) is already mapped to its new store.
   */
  #absorb(space: string, store: Exclude<PartitionName, 'raw_journal'>, reply: ApplyReply): void {
    for (const id of reply.removed) if (this.#graph.storeOf(space, id) === store) this.#graph.remove(space, id);
    for (const entry of reply.written) this.#graph.upsert(space, store, entry);
  }
}

/** Where each of `partitions` already applied the request `key` (Ledger.firstAttempt, for every ledger). */
export async function firstAttempts(stores: Stores, space: string, key: string | undefined, partitions: Iterable<PartitionName>): Promise<Map<PartitionName, IdempotencyEntry>> {
  const found = new Map<PartitionName, IdempotencyEntry>();
  if (key === undefined) return found;
  await Promise.all(
    [...new Set(partitions)].map(async (name) => {
      const entry = await stores[name].findIdempotent(space, key);
      if (entry) found.set(name, entry);
    }),
  );
  return found;
}
