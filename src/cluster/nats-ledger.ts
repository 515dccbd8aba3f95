import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager, type MsgRequest, type PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { AssociationGraph } from '../actors/hippocampus/association-graph.js';
import { firstAttempts, type ApplyOptions, type Ledger } from '../actors/hippocampus/ledger.js';
import type { IdempotencyEntry } from '../actors/store/backend.js';
import type { EventEnvelope, MutationEvent } from '../actors/store/events.js';
import type { ApplyReply, DecayJob, DecayOutcome, Stores } from '../actors/store/protocol.js';
import { CmpError } from '../cmp/errors.js';
import { toTimestamp } from '../cmp/ids.js';
import type { PartitionName, PersistentStore } from '../cmp/types.js';
import { partitionOf, spaceToken } from './placement.js';

// The ledger of a cluster node (issue 16): the `Ledger` of hippocampus/ledger.ts over a replicated log.
// Each partition's log is one JetStream stream (`CMR_P<n>`, R<replicas>), each space one subject in it
// (`cmr.p<n>.<space token>`). An event reaches the local stores only after the stream acknowledged it,
// which it does once a quorum of servers stored it: "acknowledged" means "in the quorum log".
//
// A space's events are numbered by its writer (per-space, contiguous, as the stores expect) and appended
// one at a time with `Nats-Expected-Last-Subject-Sequence` = the stream sequence of the last entry this
// node knows of that space: a writer whose view is stale (another node appended since) is refused by the
// log itself, learns the log's position, replays what it missed into its stores, and the caller
// retries. An append whose outcome is unknown (a timeout during a leader election) is resolved the same
// way: the next append first reads the log, and applies the entry if it got there after all. The
// `Nats-Msg-Id` of an entry is minted once, so the client's own retries of a publish are deduplicated.

/** What one log message holds: one event of one store, or one decay tick (stores evaluate it). */
export type LogEntry = ApplyEntry | DecayEntry;
export interface ApplyEntry {
  v: 1;
  kind: 'apply';
  store: PartitionName;
  envelope: EventEnvelope;
  vectors?: Record<string, number[]>;
}
export interface DecayEntry {
  v: 1;
  kind: 'decay';
  store: PersistentStore;
  space: string;
  job: DecayJob;
}

export interface NatsLedgerOptions {
  stores: Stores;
  graph: AssociationGraph;
  now: () => number;
  nc: NatsConnection;
  /** Partitions the spaces hash into (`cluster.partitions`). */
  partitions: number;
  /** Copies of each partition's stream (`cluster.replicas`). */
  replicas: number;
  /** First subject token and stream/bucket prefix; default "cmr". Clusters (and tests) sharing a NATS use their own. */
  namespace?: string;
  /** When given, writes to a partition whose lease this node does not hold are refused (retryable). */
  leases?: { holds(partition: number): boolean };
}

/** A space's place in its log, as this node knows it. */
interface SpaceLog {
  /** The last event number of the space (in the log or in a local store, whichever is higher). */
  seq: number;
  /** The stream sequence of the space's last entry; undefined when it must be read from the log first. */
  subjectSeq: number | undefined;
  /** The space's appends, one at a time, in call order. */
  tail: Promise<unknown>;
}

/** The JetStream API error of a failed expected-sequence check ("wrong last sequence"). */
const WRONG_LAST_SEQUENCE = 10071;
const DUPLICATE_WINDOW_NS = 120_000 * 1e6;
/** Log entries a catch-up reads ahead of the one it applies. */
const READ_AHEAD = 32;
/** Seconds a client waits before retrying a write refused here. */
const RETRY_AFTER_SECS = 1;

export class NatsLedger implements Ledger {
  readonly #stores: Stores;
  readonly #graph: AssociationGraph;
  readonly #now: () => number;
  readonly #nc: NatsConnection;
  readonly #partitions: number;
  readonly #replicas: number;
  readonly #namespace: string;
  readonly #leases: NatsLedgerOptions['leases'];
  readonly #js: JetStreamClient;
  #jsm: Promise<JetStreamManager> | undefined;
  readonly #streams = new Map<number, Promise<void>>();
  readonly #spaces = new Map<string, SpaceLog>();
  /** What each store applied: store → space → last event number. */
  readonly #applied = new Map<PartitionName, Map<string, number>>();
  /** Per cluster partition, the stream sequence up to which this node applied the whole log (catch-up, then its appends). */
  readonly #position = new Map<number, number>();

  constructor(options: NatsLedgerOptions) {
    this.#stores = options.stores;
    this.#graph = options.graph;
    this.#now = options.now;
    this.#nc = options.nc;
    this.#partitions = options.partitions;
    this.#replicas = options.replicas;
    this.#namespace = options.namespace ?? 'cmr';
    this.#leases = options.leases;
    this.#js = jetstream(options.nc);
  }

  /** The stream of partition `p`. */
  streamName(partition: number): string {
    return `${this.#namespace.toUpperCase()}_P${partition}`;
  }

  /** The subject of a space's events. */
  subjectOf(space: string): string {
    return `${this.#namespace}.p${partitionOf(space, this.#partitions)}.${spaceToken(space)}`;
  }

  /** Every store's `resync`, together: what the hippocampus does before it serves. */
  async load(): Promise<void> {
    await Promise.all((Object.keys(this.#stores) as PartitionName[]).map((name) => this.resync(name)));
  }

  /**
   * Rebuilds the local view of one cluster partition from its log: every entry the stores lack is
   * applied, in log order (what a node does when it takes a partition over, before it serves it).
   */
  async catchUpPartition(partition: number): Promise<number> {
    await this.#ensureStream(partition);
    const jsm = await this.#manager();
    const stream = this.streamName(partition);
    const { state } = await jsm.streams.info(stream);
    let replayed = 0;
    // Reads run ahead of the applies (each read is a round trip to a server): the log is read in order
    // while the stores apply what came before.
    const reads = new Map<number, ReturnType<typeof jsm.streams.getMessage>>();
    const read = (seq: number) => {
      for (let ahead = seq; ahead < seq + READ_AHEAD && ahead <= state.last_seq; ahead++) {
        if (reads.has(ahead)) continue;
        const message = jsm.streams.getMessage(stream, { seq: ahead });
        // Read ahead and never awaited when an apply fails first: not an unhandled rejection.
        message.catch(() => undefined);
        reads.set(ahead, message);
      }
      const message = reads.get(seq)!;
      reads.delete(seq);
      return message;
    };
    for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
      const message = await read(seq);
      if (message === null) continue;
      const entry = message.json<LogEntry>();
      const space = entry.kind === 'decay' ? entry.space : entry.envelope.space;
      const log = this.#log(space);
      // Behind the space's queue: an append racing the rebuild waits for it.
      const step = log.tail.then(async () => {
        if (entrySeq(entry) > (this.#appliedBy(entry.store).get(space) ?? 0)) {
          await this.#applyLocally(entry);
          replayed++;
        }
        log.seq = Math.max(log.seq, entrySeq(entry));
        log.subjectSeq = message.seq;
      });
      log.tail = step.catch(() => undefined);
      await step;
    }
    this.#position.set(partition, Math.max(this.#position.get(partition) ?? 0, state.last_seq));
    return replayed;
  }

  /**
   * How far this node's view of a partition is behind its log: the stream's last sequence, and how
   * many entries past the position this node applied up to (catch-up, then its own appends). Lag is 0
   * on an owner that is caught up; it is what a node taking the partition over still has to replay.
   */
  async lag(partition: number): Promise<{ last: number; lag: number }> {
    const { state } = await (await this.#manager()).streams.info(this.streamName(partition));
    return { last: state.last_seq, lag: Math.max(0, state.last_seq - (this.#position.get(partition) ?? 0)) };
  }

  async resync(partition: PartitionName): Promise<void> {
    const { sequences } = await this.#stores[partition].whenReady();
    const applied = this.#appliedBy(partition);
    for (const [space, seq] of Object.entries(sequences)) {
      applied.set(space, seq);
      const log = this.#log(space);
      log.seq = Math.max(log.seq, seq);
      // A store that restarted may hold less than was appended: the next append reads the log first.
      log.subjectSeq = undefined;
    }
    if (partition !== 'raw_journal') this.#graph.load(partition, await this.#stores[partition].registry());
  }

  spaces(): string[] {
    return [...this.#spaces].filter(([, log]) => log.seq > 0).map(([space]) => space);
  }

  async firstAttempt(space: string, key: string | undefined, partitions: Iterable<PartitionName>): Promise<Map<PartitionName, IdempotencyEntry>> {
    return firstAttempts(this.#stores, space, key, partitions);
  }

  async apply(space: string, partition: PartitionName, event: MutationEvent, options: ApplyOptions = {}): Promise<ApplyReply> {
    const at = options.at ?? toTimestamp(this.#now());
    const reply = await this.#append(
      space,
      (seq): ApplyEntry => ({
        v: 1,
        kind: 'apply',
        store: partition,
        envelope: envelope(space, seq, at, event, options.idempotencyKey),
        ...(options.vectors === undefined ? {} : { vectors: options.vectors }),
      }),
    );
    if (reply.evicted?.length) await this.cleanUpAfterRemoval(space, reply.evicted, at);
    return reply;
  }

  async decay(space: string, store: PersistentStore, job: Omit<DecayJob, 'seq'>): Promise<DecayOutcome> {
    return this.#append(space, (seq): DecayEntry => ({ v: 1, kind: 'decay', store, space, job: { ...job, seq } }));
  }

  async cleanUpAfterRemoval(space: string, removed: string[], at: string): Promise<void> {
    const sources = this.#graph.sourcesOf(space, removed);
    await Promise.all(
      [...sources].map(([store, sourceIds]) =>
        this.#append(
          space,
          (seq): ApplyEntry => ({
            v: 1,
            kind: 'apply',
            store,
            envelope: envelope(space, seq, at, { type: 'associations.stripped', source_ids: sourceIds, target_ids: removed }),
          }),
        ),
      ),
    );
  }

  /**
   * Appends the entry `build` numbers to the space's log, then applies it to its store. Appends of one
   * space queue behind each other (the expected-sequence check allows one in flight), in call order.
   */
  #append(space: string, build: (seq: number) => ApplyEntry): Promise<ApplyReply>;
  #append(space: string, build: (seq: number) => DecayEntry): Promise<DecayOutcome>;
  #append(space: string, build: (seq: number) => LogEntry): Promise<ApplyReply | DecayOutcome> {
    const log = this.#log(space);
    const step = log.tail.then(async () => {
      const partition = partitionOf(space, this.#partitions);
      if (this.#leases && !this.#leases.holds(partition)) {
        throw new CmpError('STORE_UNAVAILABLE', `This node does not hold partition ${partition} of space "${space}" now; retry`, { retryAfter: RETRY_AFTER_SECS });
      }
      if (log.subjectSeq === undefined) {
        // While a stream elects a leader (~6 s on 2.9) reads time out or find no responders: retryable.
        await this.#catchUp(space, log).catch((error: unknown) => {
          throw error instanceof CmpError ? error : new CmpError('STORE_UNAVAILABLE', `The log of space "${space}" cannot be read now; retry`, { retryAfter: RETRY_AFTER_SECS, cause: error });
        });
      }
      const entry = build(log.seq + 1);
      await this.#publish(space, entry, log);
      return this.#applyLocally(entry);
    });
    log.tail = step.catch(() => undefined);
    return step;
  }

  async #publish(space: string, entry: LogEntry, log: SpaceLog): Promise<PubAck> {
    const partition = partitionOf(space, this.#partitions);
    const expected = log.subjectSeq ?? 0;
    // Until the log answers, where the space stands is unknown: the next append reads it again.
    log.subjectSeq = undefined;
    try {
      await this.#ensureStream(partition);
      const ack = await this.#js.publish(this.subjectOf(space), JSON.stringify(entry), {
        msgID: randomUUID(),
        expect: { lastSubjectSequence: expected },
        // A retry after a timeout carries the same Nats-Msg-Id: the stream keeps one copy.
        retries: 3,
      });
      log.seq = entrySeq(entry);
      log.subjectSeq = ack.seq;
      // Contiguous only: another node's append in between (a stale overlap) leaves a gap this one did not apply.
      if (this.#position.get(partition) === ack.seq - 1) this.#position.set(partition, ack.seq);
      return ack;
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === WRONG_LAST_SEQUENCE) {
        throw new CmpError('STORE_UNAVAILABLE', `Space "${space}" was written by another node since this one last did; retry`, { retryAfter: RETRY_AFTER_SECS, cause: error });
      }
      throw new CmpError('STORE_UNAVAILABLE', `The log of space "${space}" did not acknowledge the write; retry`, { retryAfter: RETRY_AFTER_SECS, cause: error });
    }
  }

  /** Reads the space's log from the start and applies, store by store, what the local stores lack. */
  async #catchUp(space: string, log: SpaceLog): Promise<void> {
    const partition = partitionOf(space, this.#partitions);
    await this.#ensureStream(partition);
    const jsm = await this.#manager();
    const stream = this.streamName(partition);
    const subject = this.subjectOf(space);
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    if (last === null) {
      log.subjectSeq = 0;
      return;
    }
    if (entrySeq(last.json<LogEntry>()) > this.#lowestApplied(space)) {
      for (let from = 1; from <= last.seq; ) {
        // `next_by_subj`: the first message of the subject at or after `seq` (server 2.9+).
        const message = await jsm.streams.getMessage(stream, { seq: from, next_by_subj: subject } as unknown as MsgRequest);
        if (message === null) break;
        const entry = message.json<LogEntry>();
        const applied = this.#appliedBy(entry.store).get(space) ?? 0;
        if (entrySeq(entry) > applied) await this.#applyLocally(entry);
        from = message.seq + 1;
      }
    }
    log.seq = Math.max(log.seq, entrySeq(last.json<LogEntry>()));
    log.subjectSeq = last.seq;
  }

  /** Applies one logged entry to its store and brings the graph up to date with the reply. */
  async #applyLocally(entry: LogEntry): Promise<ApplyReply | DecayOutcome> {
    if (entry.kind === 'decay') {
      const outcome = await this.#stores[entry.store].decay(entry.space, entry.job);
      this.#appliedBy(entry.store).set(entry.space, entry.job.seq);
      for (const id of outcome.pruned) this.#graph.remove(entry.space, id);
      return outcome;
    }
    const { envelope: applied, store } = entry;
    const reply = await this.#stores[store].apply(applied, entry.vectors);
    this.#appliedBy(store).set(applied.space, applied.seq);
    // The raw journal's records are not memories: the graph does not hold them.
    if (store !== 'raw_journal') absorb(this.#graph, applied.space, store, reply);
    return reply;
  }

  /** The lowest event number any store applied for the space: below it, nothing can be missing. */
  #lowestApplied(space: string): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const name of Object.keys(this.#stores) as PartitionName[]) lowest = Math.min(lowest, this.#appliedBy(name).get(space) ?? 0);
    return lowest;
  }

  #ensureStream(partition: number): Promise<void> {
    let ready = this.#streams.get(partition);
    if (ready === undefined) {
      ready = this.#manager()
        .then((jsm) =>
          jsm.streams.add({
            name: this.streamName(partition),
            subjects: [`${this.#namespace}.p${partition}.*`],
            num_replicas: this.#replicas,
            duplicate_window: DUPLICATE_WINDOW_NS,
            allow_direct: true,
          }),
        )
        .then(() => undefined);
      // A failed creation (no quorum yet) is tried again by the next append.
      ready.catch(() => this.#streams.delete(partition));
      this.#streams.set(partition, ready);
    }
    return ready;
  }

  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.#nc);
    return this.#jsm;
  }

  #log(space: string): SpaceLog {
    let log = this.#spaces.get(space);
    if (log === undefined) {
      log = { seq: 0, subjectSeq: undefined, tail: Promise.resolve() };
      this.#spaces.set(space, log);
    }
    return log;
  }

  #appliedBy(store: PartitionName): Map<string, number> {
    let applied = this.#applied.get(store);
    if (applied === undefined) {
      applied = new Map();
      this.#applied.set(store, applied);
    }
    return applied;
  }
}

function envelope(space: string, seq: number, at: string, event: MutationEvent, idempotencyKey?: string): EventEnvelope {
  return { space, seq, at, event, ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }) };
}

function entrySeq(entry: LogEntry): number {
  return entry.kind === 'decay' ? entry.job.seq : entry.envelope.seq;
}

/** As LocalLedger: a removal unmaps a record only from the store it left. */
function absorb(graph: AssociationGraph, space: string, store: Exclude<PartitionName, 'raw_journal'>, reply: ApplyReply): void {
  for (const id of reply.removed) if (graph.storeOf(space, id) === store) graph.remove(space, id);
  for (const entry of reply.written) graph.upsert(space, store, entry);
}
