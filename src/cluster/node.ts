import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { CmpError, isCmpError } from '../cmp/errors.js';
import type { ClusterConfig } from './config.js';
import { PartitionLeases } from './leases.js';
import { partitionOf, placeAll, placePartition } from './placement.js';

// One Cerememory node of a cluster (issue 16): it announces itself in a membership bucket, takes the
// leases of the partitions rendezvous hashing gives it among the live nodes (rebuilding each one's view
// from its log before serving it), gives up those that move to a node that joined, and answers the
// requests other nodes forward to the partitions it holds. A request for a space it does not hold goes
// to the holder over NATS request/reply; with nobody holding the partition (a failover in progress)
// the caller gets the retryable STORE_UNAVAILABLE.

export interface ClusterNodeOptions {
  config: ClusterConfig;
  /** First subject token and bucket prefix; default "cmr". */
  namespace?: string;
  /** Lease (and membership) TTL over `config.lease_ttl_secs` (tests use a few seconds). Milliseconds. */
  leaseTtlMs?: number;
  /** Period of heartbeat, renewal and rebalancing; default a fifth of the TTL. */
  tickMs?: number;
  /** Deadline of a forwarded request over `config.forward_timeout_secs`. Milliseconds. */
  forwardTimeoutMs?: number;
  log?: (line: string) => void;
}

/** What a node serves a forwarded request with: the local (owner's) operation. */
export type LocalCall = (method: string, request: unknown) => Promise<unknown>;

export interface ClusterStatus {
  node_id: string;
  nodes: string[];
  partitions: {
    partition: number;
    owner: string | undefined;
    standby: string | undefined;
    holder: string | undefined;
    /** The last sequence of the partition's log (0 before its first write). */
    log_sequence: number;
    /** Entries of the log the node asked has not applied, for the partitions it serves; null for the others. */
    lag: number | null;
  }[];
}

const RETRY_AFTER_SECS = 1;
/** How long a stopping node waits for the forwarded requests it is serving. Milliseconds. */
const STOP_ANSWER_MS = 5_000;
/** How long a starting node waits for JetStream to answer (a NATS cluster electing its leaders). */
const JETSTREAM_START_MS = 60_000;

/**
 * `attempt` again while JetStream does not answer yet: a NATS cluster that is starting or electing a
 * meta leader times its requests out (or has no responders) for a few seconds, and a node started beside
 * it should wait rather than fail. Creating a bucket that exists (same settings) is safe to repeat.
 */
async function whileJetStreamStarts<T>(what: string, log: ((line: string) => void) | undefined, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + JETSTREAM_START_MS;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const name = (error as Error)?.name ?? '';
      const starting = name === 'TimeoutError' || name === 'NoRespondersError' || /timeout|no responders/i.test(String((error as Error)?.message));
      if (!starting || Date.now() > deadline) throw error;
      if (tries === 1) log?.(`cluster: ${what}: JetStream is not answering yet (${String((error as Error)?.message)}); retrying for up to ${JETSTREAM_START_MS / 1000} s`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * tries, 2_000)));
    }
  }
}

export class ClusterNode {
  readonly nc: NatsConnection;
  readonly leases: PartitionLeases;
  readonly nodeId: string;
  readonly #config: ClusterConfig;
  readonly #namespace: string;
  readonly #members: KV;
  readonly #tickMs: number;
  readonly #forwardTimeoutMs: number;
  readonly #log: (line: string) => void;
  readonly #serving = new Map<number, Subscription>();
  /** Each partition's lease holder as the bucket last said (src/cluster/leases.ts `watchHolders`). */
  readonly #holders = new Map<number, string | undefined>();
  #stopWatching: (() => void) | undefined;
  /** The forwarded requests being served here. */
  readonly #handling = new Set<Promise<void>>();
  #local: LocalCall | undefined;
  #catchUp: ((partition: number) => Promise<number>) | undefined;
  #lag: ((partition: number) => Promise<{ last: number; lag: number }>) | undefined;
  /** On performance.now: when this node's heartbeat last reached the membership bucket. */
  #heartbeatAt: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  #stopped = false;

  private constructor(nc: NatsConnection, leases: PartitionLeases, members: KV, options: ClusterNodeOptions) {
    this.nc = nc;
    this.leases = leases;
    this.#members = members;
    this.#config = options.config;
    this.nodeId = options.config.node_id;
    this.#namespace = options.namespace ?? 'cmr';
    this.#tickMs = options.tickMs ?? leases.ttlMs / 5;
    this.#forwardTimeoutMs = options.forwardTimeoutMs ?? options.config.forward_timeout_secs * 1000;
    this.#log = options.log ?? ((line) => console.error(line));
  }

  /** Connects to NATS and opens the lease and membership buckets; serves nothing until `start`. */
  static async connect(options: ClusterNodeOptions): Promise<ClusterNode> {
    const { config } = options;
    const namespace = options.namespace ?? 'cmr';
    const nc = await connect({ servers: config.nats_urls, name: `cerememory ${config.node_id}`, maxReconnectAttempts: -1 });
    try {
      const ttlMs = options.leaseTtlMs ?? config.lease_ttl_secs * 1000;
      const log = options.log;
      const leases = await whileJetStreamStarts('opening the lease bucket', log, () =>
        PartitionLeases.open(nc, { nodeId: config.node_id, bucket: `${namespace}_leases`, replicas: config.replicas, ttlMs }),
      );
      const members = await whileJetStreamStarts('opening the member bucket', log, () =>
        new Kvm(nc).create(`${namespace}_nodes`, { history: 1, ttl: leases.ttlMs, replicas: config.replicas, allow_direct: false }),
      );
      return new ClusterNode(nc, leases, members, options);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /**
   * Joins: heartbeat, take the partitions this node wins, and keep doing so every tick. `catchUp`
   * applies a partition's log before this node serves it (resolving to the entries it replayed); `lag` reports
   * how far this node's view of a partition is behind its log (for /metrics).
   */
  async start(local: LocalCall, catchUp: (partition: number) => Promise<number>, lag?: (partition: number) => Promise<{ last: number; lag: number }>): Promise<void> {
    this.#local = local;
    this.#catchUp = catchUp;
    this.#lag = lag;
    this.#stopWatching = await this.leases.watchHolders((partition, holder) => this.#holders.set(partition, holder));
    await this.tick();
    this.#timer = setInterval(() => void this.tick(), this.#tickMs);
    this.#timer.unref();
  }

  /** One round: heartbeat, renew, then take or give up partitions to match rendezvous placement. */
  tick(): Promise<void> {
    this.#ticking ??= this.#round().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #round(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#members.put(this.nodeId, JSON.stringify({ node_id: this.nodeId }));
      this.#heartbeatAt = performance.now();
      for (const lost of await this.leases.renewAll()) this.#stopServing(lost, 'lease lost');
      const nodes = await this.nodes();
      for (const { partition, owner } of placeAll(this.#config.partitions, nodes)) {
        if (this.#stopped) return;
        if (owner === this.nodeId && !this.leases.holds(partition) && (await this.leases.acquire(partition))) {
          // The view first: a request is served only once the partition's log is applied here.
          const started = performance.now();
          const replayed = await this.#catchUp!(partition);
          this.#serve(partition, `caught up: ${replayed} log entries replayed in ${Math.round(performance.now() - started)} ms`);
        } else if (owner !== this.nodeId && this.leases.held().includes(partition)) {
          // A node joined and wins this partition: hand it over.
          this.#stopServing(partition, `moves to ${owner}`);
          await this.leases.release(partition);
        }
      }
    } catch (error) {
      this.#log(`cluster ${this.nodeId}: ${String(error)}`);
    }
  }

  /** The live nodes (those whose heartbeat has not expired), sorted. */
  async nodes(): Promise<string[]> {
    // A set: a key whose heartbeat lands while the listing runs can be listed twice (seen under load).
    const keys = new Set<string>();
    for await (const key of await this.#members.keys()) keys.add(key);
    return [...keys].sort();
  }

  /** Whether this node serves `space` itself now. */
  owns(space: string): boolean {
    const partition = partitionOf(space, this.#config.partitions);
    return this.leases.holds(partition) && this.#serving.has(partition);
  }

  /**
   * Sends a request to the holder of the space's partition; STORE_UNAVAILABLE while there is none, and
   * as soon as the holder's lease expires or moves while the request waits: an owner killed with the
   * request in flight never answers, and without the watch its caller would wait the whole forward
   * deadline (30 s) instead of retrying once a standby serves the partition (~TTL).
   */
  async forward(space: string, method: string, request: unknown): Promise<unknown> {
    const partition = partitionOf(space, this.#config.partitions);
    const watch = this.#watchHolder(partition);
    let reply;
    try {
      reply = await Promise.race([this.nc.request(this.#rpcSubject(partition), encode({ method, request }), { timeout: this.#forwardTimeoutMs }), watch.moved]);
    } catch (error) {
      throw new CmpError('STORE_UNAVAILABLE', `No node serves partition ${partition} of space "${space}" now; retry`, { retryAfter: RETRY_AFTER_SECS, cause: error });
    } finally {
      watch.stop();
    }
    const answer = decode(reply.string()) as { result?: unknown; error?: { code: CmpError['code']; message: string; retryAfter?: number; field?: string } };
    if (answer.error) {
      const { code, message, retryAfter, field } = answer.error;
      throw new CmpError(code, message, { ...(retryAfter === undefined ? {} : { retryAfter }), ...(field === undefined ? {} : { field }) });
    }
    return answer.result;
  }

  /** Nodes, and each partition's placement, current lease holder, log sequence and (where this node serves it) lag. */
  async status(): Promise<ClusterStatus> {
    const nodes = await this.nodes();
    const placements = placeAll(this.#config.partitions, nodes);
    const [holders, logs] = await Promise.all([
      Promise.all(placements.map(({ partition }) => this.leases.holder(partition))),
      // A partition never written has no stream yet: sequence 0.
      Promise.all(placements.map(({ partition }) => (this.#lag?.(partition) ?? Promise.resolve(undefined)).catch(() => undefined))),
    ]);
    return {
      node_id: this.nodeId,
      nodes,
      partitions: placements.map((placed, i) => ({
        ...placed,
        holder: holders[i],
        log_sequence: logs[i]?.last ?? 0,
        lag: this.#serving.has(placed.partition) ? (logs[i]?.lag ?? null) : null,
      })),
    };
  }

  /** Where `space` lives: its partition, the node placement names and the node holding the lease now. */
  async locate(space: string): Promise<{ space: string; partition: number; node_id: string | undefined; owner: string | undefined; standby: string | undefined }> {
    const partition = partitionOf(space, this.#config.partitions);
    const [placed, holder] = await Promise.all([this.nodes().then((nodes) => placePartition(partition, nodes)), this.leases.holder(partition)]);
    return { space, partition, node_id: holder, owner: placed.owner, standby: placed.standby };
  }

  /**
   * For /readiness: whether this node is in the cluster now (connected, and its heartbeat reached the
   * membership bucket within the TTL, so the others count it), and the partitions it serves.
   */
  membership(): { node_id: string; member: boolean; partitions_served: number[] } {
    const member = !this.#stopped && !this.nc.isClosed() && this.#heartbeatAt !== undefined && performance.now() - this.#heartbeatAt < this.leases.ttlMs;
    return { node_id: this.nodeId, member, partitions_served: [...this.#serving.keys()].sort((a, b) => a - b) };
  }

  /** For /metrics: live members, and each partition this node serves with its log's last sequence and this node's lag. */
  async metrics(): Promise<{ members: number; member: boolean; served: { partition: number; last: number; lag: number }[] }> {
    const served = [...this.#serving.keys()].sort((a, b) => a - b);
    const [members, positions] = await Promise.all([
      this.nodes().then(
        (nodes) => nodes.length,
        () => 0,
      ),
      Promise.all(served.map((partition) => (this.#lag?.(partition) ?? Promise.resolve(undefined)).catch(() => undefined))),
    ]);
    return {
      members,
      member: this.membership().member,
      served: served.flatMap((partition, i) => (positions[i] === undefined ? [] : [{ partition, ...positions[i] }])),
    };
  }

  /** Leaves cleanly: stops serving, releases every lease (a standby takes over at once), disconnects. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#stopWatching?.();
    await this.#ticking?.catch(() => undefined);
    for (const partition of [...this.#serving.keys()]) this.#stopServing(partition, 'node stopping');
    // The requests it took are answered under its leases before it gives them up: released first, a
    // standby could take a partition over at once, and the caller of a request that never gets its
    // answer would see the holder change only to the standby, waiting out the forward deadline.
    let bounded: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.#handling]), new Promise((resolve) => (bounded = setTimeout(resolve, STOP_ANSWER_MS)))]);
    clearTimeout(bounded);
    await Promise.all(this.leases.held().map((partition) => this.leases.release(partition)));
    await this.#members.delete(this.nodeId).catch(() => undefined);
    await this.nc.drain().catch(() => undefined);
  }

  /**
   * Watches the partition's lease holder (as pushed by the bucket) while a forwarded request waits:
   * `moved` rejects at the first tick where the holder at the time of sending is gone or replaced. The
   * baseline is taken when the request leaves: a clean hand-over can complete within a tick, and a
   * request the old holder never answered must not wait on the new one.
   */
  #watchHolder(partition: number): { moved: Promise<never>; stop: () => void } {
    let timer: NodeJS.Timeout | undefined;
    let seen = this.#holders.get(partition);
    const moved = new Promise<never>((_resolve, reject) => {
      timer = setInterval(() => {
        const holder = this.#holders.get(partition);
        if (seen !== undefined && holder !== seen) return reject(new Error(`the lease of partition ${partition} moved from ${seen} to ${holder ?? 'nobody'}`));
        seen ??= holder;
        if (seen === undefined) reject(new Error(`nobody holds the lease of partition ${partition}`));
      }, this.#tickMs);
    });
    moved.catch(() => undefined);
    return { moved, stop: () => clearInterval(timer) };
  }

  #rpcSubject(partition: number): string {
    return `${this.#namespace}.rpc.p${partition}`;
  }

  #serve(partition: number, why: string): void {
    if (this.#serving.has(partition)) return;
    // Not a queue group: a stalled holder (a long pause, a frozen VM) keeps its subscription until the
    // NATS server drops its connection (minutes of missed pings), and in a queue group it would draw its
    // share of the requests and leave each one waiting. Every subscriber gets every request instead, and
    // only the one whose lease is trusted answers; the first answer is the reply.
    const subscription = this.nc.subscribe(this.#rpcSubject(partition), {
      callback: (error, message) => {
        if (error || !this.leases.holds(partition)) return;
        const handled = (async () => {
          let answer: unknown;
          try {
            const { method, request } = decode(message.string()) as { method: string; request: unknown };
            answer = { result: await this.#local!(method, request) };
          } catch (reason) {
            const error = isCmpError(reason) ? reason : CmpError.from(reason);
            answer = { error: { code: error.code, message: error.message, retryAfter: error.retryAfter, field: error.field } };
          }
          message.respond(encode(answer));
        })().finally(() => this.#handling.delete(handled));
        this.#handling.add(handled);
      },
    });
    this.#serving.set(partition, subscription);
    this.#log(`cluster ${this.nodeId}: serving partition ${partition} (${why})`);
  }

  #stopServing(partition: number, why: string): void {
    const subscription = this.#serving.get(partition);
    if (subscription === undefined) return;
    subscription.unsubscribe();
    this.#serving.delete(partition);
    this.#log(`cluster ${this.nodeId}: partition ${partition} no longer served (${why})`);
  }
}

// Requests and results carry bytes (content blocks): JSON with Uint8Array as {"$bytes": base64}.
// A Buffer reaches the replacer already turned into {type: "Buffer", data: [...]} by its toJSON.
function encode(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => {
    if (field instanceof Uint8Array) return { $bytes: Buffer.from(field).toString('base64') };
    const buffer = field as { type?: unknown; data?: unknown } | null;
    if (buffer !== null && typeof buffer === 'object' && buffer.type === 'Buffer' && Array.isArray(buffer.data)) return { $bytes: Buffer.from(buffer.data as number[]).toString('base64') };
    return field;
  });
}

function decode(text: string): unknown {
  return JSON.parse(text, (_key, field: unknown) =>
    field !== null && typeof field === 'object' && Object.keys(field).length === 1 && typeof (field as { $bytes?: unknown }).$bytes === 'string'
      ? new Uint8Array(Buffer.from((field as { $bytes: string }).$bytes, 'base64'))
      : field,
  );
}
