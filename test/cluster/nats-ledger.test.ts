import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AssociationGraph } from '../../src/actors/hippocampus/association-graph.js';
import { PartitionLeases } from '../../src/cluster/leases.js';
import { NatsLedger, type LogEntry } from '../../src/cluster/nats-ledger.js';
import { partitionOf } from '../../src/cluster/placement.js';
import { CmpError } from '../../src/cmp/errors.js';
import { fakeStores, runLedgerCases } from '../actors/hippocampus/ledger.cases.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from '../helpers/nats.js';

// The shared Ledger cases, run on the replicated log: three real nats-servers, R3 streams. Each ledger
// gets its own namespace (streams, subjects), so every case starts from an empty log.

describe.skipIf(!natsServerAvailable)('NatsLedger on three nats-servers (R3)', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let namespaces = 0;

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    nc = await connect({ servers: cluster.urls });
  });
  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  });

  runLedgerCases('NatsLedger', (fixture) => new NatsLedger({ ...fixture, nc, partitions: 16, replicas: 3, namespace: `cases${++namespaces}` }));

  /** A node's ledger over fake stores, in a namespace shared with the other nodes of the same test. */
  function node(namespace: string, leases?: PartitionLeases) {
    const fake = fakeStores();
    const ledger = new NatsLedger({
      stores: fake.stores,
      graph: new AssociationGraph(),
      now: () => Date.parse('2026-06-01T12:00:00.000Z'),
      nc,
      partitions: 16,
      replicas: 3,
      namespace,
      ...(leases ? { leases } : {}),
    });
    return { fake, ledger, seqs: () => fake.applied.map(({ envelope }) => envelope.seq) };
  }

  /** The space's entries in its stream, in order; asked again while the JetStream API times out (an election). */
  async function logOf(ledger: NatsLedger, space: string, deadlineMs = 30_000): Promise<LogEntry[]> {
    const deadline = Date.now() + deadlineMs;
    for (;;) {
      try {
        return await readLog(ledger, space);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  async function readLog(ledger: NatsLedger, space: string): Promise<LogEntry[]> {
    const jsm = await jetstreamManager(nc);
    const stream = ledger.streamName(partitionOf(space, 16));
    const entries: LogEntry[] = [];
    const info = await jsm.streams.info(stream);
    for (let seq = 1; seq <= info.state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(stream, { seq });
      if (message?.subject === ledger.subjectOf(space)) entries.push(message.json<LogEntry>());
    }
    return entries;
  }

  describe('NatsLedger: the log first', () => {
    it('a store sees an event only once the stream holds it', async () => {
      const { fake, ledger } = node(`first${++namespaces}`);
      const jsm = await jetstreamManager(nc);
      const inLog: boolean[] = [];
      const apply = fake.stores.episodic.apply;
      fake.stores.episodic.apply = async (envelope, vectors) => {
        const last = await jsm.streams.getMessage(ledger.streamName(partitionOf('s', 16)), { last_by_subj: ledger.subjectOf('s') });
        inLog.push(last !== null && last.json<LogEntry>().kind === 'apply' && (last.json<LogEntry>() as { envelope: { seq: number } }).envelope.seq === envelope.seq);
        return apply(envelope, vectors);
      };
      await ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['a'] }, { vectors: { a: [1, 0] } });
      await ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['b'] });
      expect(inLog).toEqual([true, true]);
      expect((await logOf(ledger, 's')).map((entry) => (entry.kind === 'apply' ? [entry.store, entry.envelope.seq, entry.vectors] : entry.kind))).toEqual([
        ['episodic', 1, { a: [1, 0] }],
        ['episodic', 2, undefined],
      ]);
    });
  });

  describe('NatsLedger: fencing a stale writer', () => {
    it('a node whose view is behind cannot append; it replays what it missed, then its retry lands once', async () => {
      const namespace = `fence${++namespaces}`;
      const a = node(namespace);
      const b = node(namespace);
      await a.ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['from-a-1'] });
      // b has never seen the space: it reads the log first, replays a's event into its stores, then appends.
      await b.ledger.apply('s', 'semantic', { type: 'records.deleted', ids: ['from-b'] });
      expect(b.seqs()).toEqual([1, 2]);

      const stale = a.ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['from-a-2'] });
      await expect(stale).rejects.toBeInstanceOf(CmpError);
      await expect(stale).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retryAfter: 1, message: 'Space "s" was written by another node since this one last did; retry' });
      expect(a.seqs()).toEqual([1]);

      await a.ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['from-a-2'] });
      expect(a.fake.applied.map(({ partition, envelope }) => [partition, envelope.seq])).toEqual([
        ['episodic', 1],
        ['semantic', 2],
        ['episodic', 3],
      ]);
      const log = await logOf(a.ledger, 's');
      expect(log.map((entry) => (entry.kind === 'apply' ? entry.envelope.event : entry.kind))).toEqual([
        { type: 'records.deleted', ids: ['from-a-1'] },
        { type: 'records.deleted', ids: ['from-b'] },
        { type: 'records.deleted', ids: ['from-a-2'] },
      ]);
    });

    it('spaces are apart: a write to one space never fences another', async () => {
      const namespace = `apart${++namespaces}`;
      const a = node(namespace);
      const b = node(namespace);
      await a.ledger.apply('mine', 'episodic', { type: 'records.deleted', ids: ['x'] });
      await b.ledger.apply('theirs', 'episodic', { type: 'records.deleted', ids: ['y'] });
      await a.ledger.apply('mine', 'episodic', { type: 'records.deleted', ids: ['z'] });
      expect(a.fake.applied.map(({ envelope }) => [envelope.space, envelope.seq])).toEqual([
        ['mine', 1],
        ['mine', 2],
      ]);
      expect(b.fake.applied.map(({ envelope }) => [envelope.space, envelope.seq])).toEqual([['theirs', 1]]);
    });
  });

  describe('NatsLedger: writes need the partition lease', () => {
    it('refuses, retryable, while another node holds the lease; writes once it holds it', async () => {
      const namespace = `lease${++namespaces}`;
      const partition = partitionOf('s', 16);
      const [leasesA, leasesB] = await Promise.all(['a', 'b'].map((nodeId) => PartitionLeases.open(nc, { nodeId, bucket: `${namespace}_leases`, replicas: 3, ttlMs: 60_000 })));
      const a = node(namespace, leasesA);
      expect(await leasesB.acquire(partition)).toBe(true);
      await expect(a.ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['x'] })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        retryAfter: 1,
        message: `This node does not hold partition ${partition} of space "s" now; retry`,
      });
      expect(a.seqs()).toEqual([]);
      await leasesB.release(partition);
      expect(await leasesA.acquire(partition)).toBe(true);
      await a.ledger.apply('s', 'episodic', { type: 'records.deleted', ids: ['x'] });
      expect(a.seqs()).toEqual([1]);
      expect(await logOf(a.ledger, 's')).toHaveLength(1);
    });
  });

  describe('NatsLedger: the stream leader is SIGKILLed during a stream of writes', () => {
    it('every acknowledged write is in the log exactly once, in order, and in the store once', async () => {
      const { fake, ledger } = node(`failover${++namespaces}`);
      const jsm = await jetstreamManager(nc);
      const acked: string[] = [];
      for (let i = 0; i < 60; i++) {
        if (i === 20) {
          const leader = (await jsm.streams.info(ledger.streamName(partitionOf('s', 16)))).cluster?.leader;
          await cluster.servers.find((server) => server.name === leader)!.kill('SIGKILL');
        }
        // A client retrying a refused write, until a generous deadline (leader election takes ~6 s on 2.9).
        const deadline = Date.now() + 30_000;
        for (;;) {
          try {
            await ledger.apply('s', 'episodic', { type: 'records.deleted', ids: [`w${i}`] });
            acked.push(`w${i}`);
            break;
          } catch (error) {
            if (!(error instanceof CmpError) || error.code !== 'STORE_UNAVAILABLE' || Date.now() > deadline) throw error;
          }
        }
      }
      // Back to three servers before reading: the killed one rejoins and catches up.
      await cluster.servers.find((server) => !server.running())!.restart();
      await cluster.ready();
      const logged = (await logOf(ledger, 's')).flatMap((entry) => (entry.kind === 'apply' && entry.envelope.event.type === 'records.deleted' ? entry.envelope.event.ids : []));
      // Refused attempts may have landed too (their outcome was unknown): each is there at most once.
      for (const id of acked) expect(logged.filter((x) => x === id)).toHaveLength(1);
      expect(logged.filter((id) => acked.includes(id))).toEqual(acked);
      // The store saw every logged entry once, in log order (a refused write that landed is replayed).
      expect(fake.applied.flatMap(({ envelope }) => (envelope.event.type === 'records.deleted' ? envelope.event.ids : []))).toEqual(logged);
    }, 120_000);
  });
});
