import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultClusterConfig } from '../../src/cluster/config.js';
import { ClusterNode } from '../../src/cluster/node.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from '../helpers/nats.js';

// `[cluster] lease_ttl_secs` reaches a node: its leases and the buckets' TTL on a real nats-server
// (the expiry the servers enforce), with no startServer option in between.

describe.skipIf(!natsServerAvailable)('a node takes its lease TTL from [cluster]', () => {
  let nats: NatsCluster;
  let node: ClusterNode | undefined;

  beforeAll(async () => {
    nats = await startNatsCluster(1);
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    await nats?.stop();
  });

  it('lease_ttl_secs = 4: leases trusted for 4 s, lease and member buckets expire keys after 4 s', async () => {
    const config = { ...defaultClusterConfig, mode: 'nats' as const, nats_urls: nats.urls, node_id: 'ttl-4', replicas: 1, lease_ttl_secs: 4 };
    node = await ClusterNode.connect({ config, namespace: 'ttlcfg' });
    expect(node.leases.ttlMs).toBe(4_000);
    const kvm = new Kvm(node.nc);
    for (const bucket of ['ttlcfg_leases', 'ttlcfg_nodes']) expect((await (await kvm.open(bucket)).status()).ttl).toBe(4_000);
  });
});
