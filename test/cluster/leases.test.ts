import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PartitionLeases } from '../../src/cluster/leases.js';
import { eventually } from '../helpers/eventually.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from '../helpers/nats.js';

// Partition leases in a real R3 KV bucket. The bucket's TTL is real time (the servers expire keys);
// trust in a held lease is measured on a clock the test moves by hand.

describe.skipIf(!natsServerAvailable)('PartitionLeases on three nats-servers', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let buckets = 0;
  let clock = 0;
  const now = () => clock;
  const open = (nodeId: string, bucket: string, ttlMs = 60_000) => PartitionLeases.open(nc, { nodeId, bucket, replicas: 3, ttlMs, now });

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connect({ servers: cluster.urls });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('one holder per partition: the second claimant is refused and sees who holds it', async () => {
    const bucket = `leases${++buckets}`;
    const [a, b] = await Promise.all([open('a', bucket), open('b', bucket)]);
    expect(await a.acquire(0)).toBe(true);
    expect(await b.acquire(0)).toBe(false);
    expect(await b.acquire(1)).toBe(true);
    expect([await a.holder(0), await a.holder(1), await a.holder(2)]).toEqual(['a', 'b', undefined]);
    expect([a.held(), b.held()]).toEqual([[0], [1]]);
  });

  it('a renewal moves the revision (the fencing token) forward; a released lease is free at once', async () => {
    const bucket = `leases${++buckets}`;
    const [a, b] = await Promise.all([open('a', bucket), open('b', bucket)]);
    await a.acquire(3);
    const first = a.revision(3)!;
    expect(await a.renew(3)).toBe(true);
    expect(a.revision(3)).toBeGreaterThan(first);
    await a.release(3);
    expect(a.holds(3)).toBe(false);
    expect(await b.acquire(3)).toBe(true);
  });

  it('trust ends before the TTL on the local clock: a paused holder stops acting, a renewal restores it', async () => {
    const bucket = `leases${++buckets}`;
    const a = await PartitionLeases.open(nc, { nodeId: 'a', bucket, replicas: 3, ttlMs: 60_000, marginMs: 10_000, now });
    clock = 1_000;
    await a.acquire(0);
    clock = 1_000 + 49_999;
    expect(a.holds(0)).toBe(true);
    clock = 1_000 + 50_000;
    expect(a.holds(0)).toBe(false);
    expect(await a.renew(0)).toBe(true);
    expect(a.holds(0)).toBe(true);
  });

  it("a lease not renewed expires; another node takes it and the old holder's renewal is refused", async () => {
    const bucket = `leases${++buckets}`;
    // Short, but long enough that b's lease outlives the few requests below on a loaded machine.
    const [a, b] = await Promise.all([open('a', bucket, 4_000), open('b', bucket, 4_000)]);
    expect(await a.acquire(5)).toBe(true);
    await eventually(() => b.acquire(5));
    expect(await a.renew(5)).toBe(false);
    expect(a.holds(5)).toBe(false);
    expect(await b.renew(5)).toBe(true);
    expect(await a.holder(5)).toBe('b');
  });

  it('a node that restarts under the same id takes its own lease back on its revision', async () => {
    const bucket = `leases${++buckets}`;
    const before = await open('a', bucket);
    await before.acquire(7);
    const again = await open('a', bucket);
    expect(await again.acquire(7)).toBe(true);
    expect(again.revision(7)).toBeGreaterThan(before.revision(7)!);
    expect(await before.renew(7)).toBe(false);
  });
});
