import { performance } from 'node:perf_hooks';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

// Partition leases (issue 16, scale-out.md §6.2): one key per partition in a JetStream KV bucket whose
// TTL is the lease's, the value the holder's node id. Taking a lease is a create (only when nobody
// holds it), renewing is an update on the revision this node last wrote: once the key expired or
// another node took it, the revision differs and the renewal fails, so the revision is the fencing
// token. A lease is trusted locally only until `taken + ttl − margin` on a monotonic clock measured
// before the request left, so a process paused past its lease stops serving before anyone else can
// take over. Safety does not rest on this: the log's expected-sequence check fences a stale writer.

export interface LeaseOptions {
  nodeId: string;
  /** KV bucket of the leases; default "cmr_leases". */
  bucket?: string;
  /** Copies of the bucket, as the partitions' logs. */
  replicas: number;
  /** How long a lease lasts without renewal. Milliseconds; default 10 s, longer than a JetStream leader failover (~6 s). */
  ttlMs?: number;
  /** How much earlier than the TTL this node stops trusting its lease. Milliseconds; default a fifth of the TTL. */
  marginMs?: number;
  /** A monotonic clock in milliseconds; default `performance.now`. */
  now?: () => number;
}

interface Held {
  revision: number;
  /** On `now()`: the last moment this node may act as the holder. */
  trustedUntil: number;
}

export const DEFAULT_LEASE_TTL_MS = 10_000;

export class PartitionLeases {
  readonly nodeId: string;
  readonly ttlMs: number;
  readonly #kv: KV;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #held = new Map<number, Held>();
  #renewing: NodeJS.Timeout | undefined;

  private constructor(kv: KV, options: LeaseOptions) {
    this.#kv = kv;
    this.nodeId = options.nodeId;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#marginMs = options.marginMs ?? this.ttlMs / 5;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Opens (creating if needed) the bucket; every node must use the same TTL. */
  static async open(nc: NatsConnection, options: LeaseOptions): Promise<PartitionLeases> {
    const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    // No direct gets: a lagging replica could answer a read with a lease already renewed, or expired.
    const kv = await new Kvm(nc).create(options.bucket ?? 'cmr_leases', { history: 1, ttl: ttlMs, replicas: options.replicas, allow_direct: false });
    return new PartitionLeases(kv, options);
  }

  /**
   * Takes the lease of `partition` if nobody holds it (or this node did, in a previous life); true when
   * this node holds it now.
   */
  async acquire(partition: number): Promise<boolean> {
    const sent = this.#now();
    let revision: number;
    try {
      revision = await this.#kv.create(leaseKey(partition), this.nodeId);
    } catch {
      const entry = await this.#kv.get(leaseKey(partition));
      if (entry === null || entry.operation !== 'PUT' || entry.string() !== this.nodeId) return false;
      try {
        revision = await this.#kv.update(leaseKey(partition), this.nodeId, entry.revision);
      } catch {
        return false;
      }
    }
    this.#held.set(partition, { revision, trustedUntil: sent + this.ttlMs - this.#marginMs });
    return true;
  }

  /** Renews a held lease; false (and no longer held) when it expired or another node took it. */
  async renew(partition: number): Promise<boolean> {
    const held = this.#held.get(partition);
    if (held === undefined) return false;
    const sent = this.#now();
    try {
      held.revision = await this.#kv.update(leaseKey(partition), this.nodeId, held.revision);
      held.trustedUntil = sent + this.ttlMs - this.#marginMs;
      return true;
    } catch {
      this.#held.delete(partition);
      return false;
    }
  }

  /** Renews every held lease; resolves to the partitions lost. */
  async renewAll(): Promise<number[]> {
    const partitions = [...this.#held.keys()];
    const renewed = await Promise.all(partitions.map((partition) => this.renew(partition)));
    return partitions.filter((_, i) => !renewed[i]);
  }

  /** Whether this node may act as the holder of `partition` now (held, and trusted on the local clock). */
  holds(partition: number): boolean {
    const held = this.#held.get(partition);
    return held !== undefined && this.#now() < held.trustedUntil;
  }

  /** The revision this node last wrote for `partition` (its fencing token), if it holds it. */
  revision(partition: number): number | undefined {
    return this.#held.get(partition)?.revision;
  }

  /** The partitions this node holds, trusted or not. */
  held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** Who holds `partition` according to the bucket (any node), if anyone. */
  async holder(partition: number): Promise<string | undefined> {
    const entry = await this.#kv.get(leaseKey(partition));
    return entry === null || entry.operation !== 'PUT' ? undefined : entry.string();
  }

  /**
   * Follows every lease's holder as the bucket changes (the server pushes each take, renewal and
   * release; an expiry is not pushed, so an expired holder stays until another node takes the lease).
   * Resolves once watching; the returned function stops it.
   */
  async watchHolders(onChange: (partition: number, holder: string | undefined) => void): Promise<() => void> {
    const entries = await this.#kv.watch();
    void (async () => {
      for await (const entry of entries) onChange(Number(entry.key.slice(1)), entry.operation === 'PUT' ? entry.string() : undefined);
    })().catch(() => undefined);
    return () => entries.stop();
  }

  /** Gives a held lease up at once (a clean hand-over), only if it is still this node's revision. */
  async release(partition: number): Promise<void> {
    const held = this.#held.get(partition);
    this.#held.delete(partition);
    if (held === undefined) return;
    await this.#kv.delete(leaseKey(partition), { previousSeq: held.revision }).catch(() => undefined);
  }

  /** Renews every `intervalMs` (default a fifth of the TTL) until `stop()`; `onLost` hears the partitions lost. */
  startRenewing(onLost: (partitions: number[]) => void = () => undefined, intervalMs = this.ttlMs / 5): void {
    this.stopRenewing();
    this.#renewing = setInterval(() => {
      this.renewAll().then(
        (lost) => lost.length > 0 && onLost(lost),
        () => undefined,
      );
    }, intervalMs);
    this.#renewing.unref();
  }

  stopRenewing(): void {
    if (this.#renewing !== undefined) clearInterval(this.#renewing);
    this.#renewing = undefined;
  }
}

function leaseKey(partition: number): string {
  return `p${partition}`;
}
