import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable, natsServerConfig, startNatsCluster, type NatsCluster } from '../helpers/nats.js';

// The harness the cluster tests stand on: three real nats-servers routed into one JetStream cluster.

describe('natsServerConfig', () => {
  it('a lone server has JetStream and no cluster block; a clustered one routes to the others', () => {
    expect(natsServerConfig({ name: 'n1', port: 4000, storeDir: '/s' })).toBe(
      'server_name: n1\nlisten: 127.0.0.1:4000\njetstream { store_dir: "/s", max_memory_store: 64MB, max_file_store: 512MB }\n',
    );
    expect(natsServerConfig({ name: 'n2', port: 4001, storeDir: '/s', clusterPort: 5001, routes: [5000, 5002] })).toContain(
      'cluster { name: cmr-test, listen: 127.0.0.1:5001, routes: [nats-route://127.0.0.1:5000, nats-route://127.0.0.1:5002], no_advertise: true }',
    );
  });
});

describe.skipIf(!natsServerAvailable)('startNatsCluster (3 real nats-servers)', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connect({ servers: cluster.urls });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  it('an R3 stream takes a publish, acknowledged with its sequence, and holds it on three servers', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.>'], num_replicas: 3 });
    const ack = await jetstream(nc).publish('harness.a', 'hello');
    expect(ack).toMatchObject({ stream: 'HARNESS', seq: 1, duplicate: false });
    const info = await jsm.streams.info('HARNESS');
    expect(info.state.messages).toBe(1);
    expect(info.config.num_replicas).toBe(3);
    expect(info.cluster?.replicas).toHaveLength(2);
  });

  it('a SIGKILLed server restarts on its ports and store, and JetStream is ready on it again', async () => {
    const follower = cluster.servers[2];
    await follower.kill('SIGKILL');
    expect(follower.running()).toBe(false);
    await follower.restart();
    await cluster.ready();
    const direct = await connect({ servers: follower.url });
    try {
      // Asked through the restarted server; while it rejoins, a request may time out: ask again.
      const jsm = await jetstreamManager(direct);
      const deadline = Date.now() + 30_000;
      let messages: number | undefined;
      while (messages === undefined) {
        messages = await jsm.streams.info('HARNESS').then(
          (info) => info.state.messages,
          (error: unknown) => {
            if (Date.now() > deadline) throw error;
            return undefined;
          },
        );
      }
      expect(messages).toBe(1);
    } finally {
      await direct.close();
    }
  });
});
