import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../src/cluster/placement.js';
import { startServer, type CerememoryServer } from '../../src/server.js';
import { compiledEntry } from '../helpers/compiled-cli.js';
import { eventually } from '../helpers/eventually.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { jsonCaller, removeDir, startTestServer, tempDataDir, testConfig, textContent, type TestResponse } from '../helpers/server.js';

const execFileAsync = promisify(execFile);

// Three Cerememory nodes (in this process, each with its own data directory and port) on three real
// nats-servers: each takes the partitions rendezvous hashing gives it, and any node answers for any
// space, forwarding to the owner.

const PARTITIONS = 4;
const NODE_IDS = ['a', 'b', 'c'];

interface Node {
  id: string;
  server: CerememoryServer;
  dataDir: string;
  call: (method: string, path: string, body?: unknown) => Promise<TestResponse>;
}

const textsOf = (response: TestResponse): string[] =>
  (response.body.memories ?? []).map((result: { record: { content: { blocks: { data: string }[] } } }) => Buffer.from(result.record.content.blocks[0].data, 'base64').toString('utf8'));

describe.skipIf(!natsServerAvailable)('three Cerememory nodes on three nats-servers', () => {
  let cluster: NatsCluster;
  const nodes: Node[] = [];

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    for (const [i, id] of NODE_IDS.entries()) {
      const dataDir = tempDataDir(`cerememory-node-${id}-`);
      // Each node's URL list led by "its" server.
      const urls = [...cluster.urls.slice(i), ...cluster.urls.slice(0, i)];
      const config = testConfig(dataDir, { cluster: { mode: 'nats', nats_urls: urls, node_id: id, partitions: PARTITIONS, replicas: 3 }, http: { metrics_enabled: true } });
      const server = await startServer(config, { log: () => undefined, cluster: { leaseTtlMs: 6_000, tickMs: 500, forwardTimeoutMs: 5_000 } });
      nodes.push({ id, server, dataDir, call: jsonCaller((path, init) => fetch(`${server.url}${path}`, init)) });
    }
    // Settled: every node is a member and every partition is held by the node placement names.
    await eventually(async () => {
      const status = await nodes[0].server.runtime.cluster!.status();
      return status.nodes.length === 3 && status.partitions.every(({ owner, holder }) => owner !== undefined && holder === owner);
    });
  }, 120_000);

  afterAll(async () => {
    for (const node of nodes) await node.server.close();
    await cluster?.stop();
    for (const node of nodes) removeDir(node.dataDir);
  });

  it('spreads the partitions over the three nodes', async () => {
    // Asked through another node than the one beforeAll asked (on a loaded machine, again until settled there too).
    await eventually(async () => {
      const status = await nodes[1].server.runtime.cluster!.status();
      return status.nodes.join() === NODE_IDS.join() && new Set(status.partitions.map(({ holder }) => holder)).size > 1;
    });
  });

  it('a memory written through any node is recalled through every node', async () => {
    const spaces = Array.from({ length: 6 }, (_, i) => `space-${i}`);
    // Spaces over several partitions, so some writes are forwarded and some are not.
    expect(new Set(spaces.map((space) => partitionOf(space, PARTITIONS))).size).toBeGreaterThan(1);
    for (const [i, space] of spaces.entries()) {
      const stored = await nodes[i % 3].call('POST', '/v1/encode', { space, content: textContent(`the spare key of ${space} is under the blue pot`) });
      expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    }
    for (const space of spaces) {
      for (const node of nodes) {
        const recalled = await node.call('POST', '/v1/recall/query', { space, cue: { text: 'spare key blue pot' }, reconsolidate: false });
        expect(recalled.status, JSON.stringify(recalled.body)).toBe(200);
        expect(textsOf(recalled), `through ${node.id}`).toEqual([`the spare key of ${space} is under the blue pot`]);
      }
    }
  });

  it("GET /v1/cluster lists the nodes and each partition's owner; ?space= names its partition and owner", async () => {
    const partition = partitionOf('space-1', PARTITIONS);
    // Two nodes' views, asked until they agree on who holds the partition (each node learns of leases by
    // watching; on a loaded machine one may be a tick behind the other).
    let whole!: TestResponse;
    let one!: TestResponse;
    await eventually(async () => {
      whole = await nodes[2].call('GET', '/v1/cluster');
      one = await nodes[0].call('GET', '/v1/cluster?space=space-1');
      return whole.status === 200 && whole.body.nodes?.length === 3 && one.body.node_id === whole.body.partitions?.[partition]?.holder;
    });
    expect(whole.body).toMatchObject({ node_id: 'c', nodes: NODE_IDS });
    expect(whole.body.partitions).toHaveLength(PARTITIONS);
    // Each partition's log sequence (space-1 was written); the lag only where the node asked serves it, 0 there.
    expect(whole.body.partitions[partition].log_sequence).toBeGreaterThan(0);
    for (const { holder, lag } of whole.body.partitions) expect(lag).toBe(holder === 'c' ? 0 : null);
    expect(one.body).toEqual({
      space: 'space-1',
      partition,
      node_id: whole.body.partitions[partition].holder,
      owner: whole.body.partitions[partition].owner,
      standby: whole.body.partitions[partition].standby,
    });
  });

  it("/metrics: members, whether this node is in, the partitions it owns and each one's log sequence and lag", async () => {
    await eventually(async () => {
      const texts = await Promise.all(nodes.map(async (node) => (await node.call('GET', '/metrics')).body as string));
      const owned = texts.map((text) => Number(/^cerememory_cluster_partitions_owned (\d+)$/m.exec(text)?.[1] ?? -1));
      return texts.every((text) => /^cerememory_cluster_members 3$/m.test(text) && /^cerememory_cluster_member 1$/m.test(text)) && owned.reduce((sum, n) => sum + n, 0) === PARTITIONS;
    });
    const text = (await nodes[0].call('GET', '/metrics')).body as string;
    const status = (await nodes[0].call('GET', '/v1/cluster')).body;
    const mine = status.partitions.filter(({ holder }: { holder: string }) => holder === 'a').map(({ partition }: { partition: number }) => partition);
    for (const partition of mine) {
      expect(text).toContain(`cerememory_cluster_partition_lag{partition="${partition}"} 0`);
      expect(text).toMatch(new RegExp(`^cerememory_cluster_partition_log_sequence\\{partition="${partition}"\\} \\d+$`, 'm'));
    }
  });

  it('/readiness says this node is in the cluster and which partitions it serves', async () => {
    for (const node of nodes) {
      const ready = await node.call('GET', '/readiness');
      expect(ready.status).toBe(200);
      expect(ready.body.cluster).toMatchObject({ node_id: node.id, member: true });
      expect(ready.body.cluster.partitions_served).toEqual(node.server.runtime.cluster!.membership().partitions_served);
    }
  });

  it('`cerememory cluster status` prints what GET /v1/cluster says, whole or for one space, as text or JSON', async () => {
    // Asynchronously: the nodes it asks run in this process.
    const run = async (...args: string[]) =>
      (await execFileAsync(process.execPath, [...compiledEntry(), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, timeout: 60_000 })).stdout;
    const cli = (...args: string[]) => run('--server-url', nodes[1].server.url, ...args);
    const partition = partitionOf('space-1', PARTITIONS);
    await eventually(async () => (await nodes[1].call('GET', '/v1/cluster')).body.partitions.every(({ owner, holder }: { owner: string; holder: string }) => owner === holder));
    const status = (await nodes[1].call('GET', '/v1/cluster')).body;
    const text = await cli('cluster', 'status');
    expect(text).toContain('node b; 3 nodes: a, b, c');
    expect(text).toContain(`${PARTITIONS} partitions, each held by its owner`);
    for (const { partition: p, holder, owner, standby } of status.partitions) expect(text).toMatch(new RegExp(`^${p} +${holder} +${owner} +${standby} +\\d+ +(0|-)$`, 'm'));
    expect(JSON.parse(await cli('--json', 'cluster', 'status'))).toMatchObject({ node_id: 'b', nodes: NODE_IDS });
    const { holder, owner, standby } = status.partitions[partition];
    expect(await cli('--space', 'space-1', 'cluster', 'status')).toBe(`space space-1: partition ${partition}, served by ${holder}\nplacement: owner ${owner}, standby ${standby}\n`);
    // An embedded server has no cluster: the command says so and fails.
    const embedded = await startTestServer();
    try {
      await expect(run('--server-url', embedded.url, 'cluster', 'status')).rejects.toMatchObject({
        code: 1,
        stderr: `cerememory: ${embedded.url} is not in cluster mode (cluster.mode = "embedded")\n`,
      });
    } finally {
      await embedded.close();
      removeDir(embedded.dataDir);
    }
  });

  it('exports a space only through the node serving it: elsewhere the archive would be a stale or empty view', async () => {
    const space = 'space-2';
    const holder = (await nodes[0].call('GET', `/v1/cluster?space=${space}`)).body.node_id as string;
    const owner = nodes.find((node) => node.id === holder)!;
    const other = nodes.find((node) => node.id !== holder)!;
    const exported = await owner.call('POST', '/v1/lifecycle/export', { space, format: 'cma' });
    expect(exported.status).toBe(200);
    // The memory written through another node in the first test is in the owner's archive.
    expect(exported.body.record_count).toBe(1);
    const lines = Buffer.from(exported.body.archive_data as number[])
      .toString('utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.content).map((line) => Buffer.from(line.content.blocks[0].data).toString('utf8'))).toEqual(['the spare key of space-2 is under the blue pot']);
    const refused = await other.call('POST', '/v1/lifecycle/export', { space, format: 'cma' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(refused.body.message).toBe(`Space "${space}" is not served by node ${other.id}: export it through the node serving it (GET /v1/cluster?space=${space} names it)`);
    const everything = await owner.call('POST', '/v1/lifecycle/export', { space, format: 'cma', all_spaces: true });
    expect(everything.status).toBe(400);
    expect(everything.body.code).toBe('VALIDATION_ERROR');
  });

  it('spaces stay apart across nodes', async () => {
    await nodes[0].call('POST', '/v1/encode', { space: 'alone-1', content: textContent('a red umbrella by the door') });
    for (const node of nodes) {
      const recalled = await node.call('POST', '/v1/recall/query', { space: 'alone-2', cue: { text: 'red umbrella door' }, reconsolidate: false });
      expect(recalled.status).toBe(200);
      expect(textsOf(recalled)).toEqual([]);
    }
  });

  // The routing and the audit are both wrappers over the operations table's calls (issue 18, move 3),
  // routing outside: the node that executes a write audits it, the one that forwarded it does not.
  it('a forwarded write is audited by the node that executed it, once', async () => {
    const space = 'audited-elsewhere';
    let holder: string | undefined;
    await eventually(async () => {
      const views = await Promise.all(nodes.map((node) => node.call('GET', `/v1/cluster?space=${space}`)));
      holder = views[0].body.node_id;
      return holder !== undefined && views.every((view) => view.body.node_id === holder);
    });
    const owner = nodes.find((node) => node.id === holder)!;
    const forwarder = nodes.find((node) => node !== owner)!;
    const stored = await forwarder.call('POST', '/v1/encode', { space, content: textContent('a green kite in the attic') });
    expect(stored.status, JSON.stringify(stored.body)).toBe(200);
    const auditedHere = (node: Node) => {
      const path = join(node.dataDir, 'audit.jsonl');
      if (!existsSync(path)) return 0;
      return readFileSync(path, 'utf8')
        .split('\n')
        .filter((line) => line.includes(stored.body.record_id)).length;
    };
    expect(nodes.map((node) => [node.id, auditedHere(node)])).toEqual(nodes.map((node) => [node.id, node === owner ? 1 : 0]));
  });

  // Last: it takes a node out of the cluster. Its NATS connection is cut, as a crash would (its leases
  // are not released: they expire); the process itself stays, to show it serves nothing stale.
  it('the owner of a space drops out during acknowledged writes: another node serves it, every acknowledged write is there once', async () => {
    const space = 'failover';
    const holder = (await nodes[0].call('GET', `/v1/cluster?space=${space}`)).body.node_id as string;
    const owner = nodes.find((node) => node.id === holder)!;
    const writer = nodes.find((node) => node.id !== holder)!;
    const acked: string[] = [];
    for (let i = 0; i < 30; i++) {
      if (i === 10) await owner.server.runtime.cluster!.nc.close();
      const text = `failover note ${i} zx${i}q`;
      // A client retrying with the same idempotency key until a generous deadline.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const stored = await writer.call('POST', '/v1/encode', { space, content: textContent(text), idempotency_key: `failover-${i}` });
        if (stored.status === 200) break;
        expect(stored.status, JSON.stringify(stored.body)).toBe(503);
        expect(stored.headers.get('retry-after')).not.toBeNull();
        if (Date.now() > deadline) throw new Error(`write ${i} not acknowledged within 60 s`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      acked.push(text);
    }
    const survivors = nodes.filter((node) => node !== owner);
    const newHolder = (await survivors[0].call('GET', `/v1/cluster?space=${space}`)).body.node_id;
    expect(survivors.map((node) => node.id)).toContain(newHolder);
    for (const node of survivors) {
      for (const [i, text] of acked.entries()) {
        const recalled = await node.call('POST', '/v1/recall/query', { space, cue: { text: `zx${i}q` }, reconsolidate: false });
        expect(
          textsOf(recalled).filter((found) => found === text),
          `${text} through ${node.id}`,
        ).toHaveLength(1);
      }
    }
    // The old owner, cut off, answers nothing from its stale view once its lease is no longer trusted.
    await eventually(async () => !owner.server.runtime.cluster!.owns(space));
    const stale = await owner.call('POST', '/v1/recall/query', { space, cue: { text: 'zx29q' }, reconsolidate: false });
    expect(stale.status).toBe(503);
    // And it says so: not ready, not a member (its heartbeat no longer reaches the cluster).
    const ready = await owner.call('GET', '/readiness');
    expect(ready.status).toBe(503);
    expect(ready.body.cluster).toMatchObject({ node_id: owner.id, member: false });
  }, 180_000);
});
