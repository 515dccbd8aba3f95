import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf, placeAll } from '../../src/cluster/placement.js';
import { eventually } from '../helpers/eventually.js';
import { natsServerAvailable, startNatsCluster, type NatsCluster } from '../helpers/nats.js';
import { serveProcess, type ServeProcess } from '../helpers/serve-process.js';
import { jsonCaller, removeDir, textContent, textOfRecord, type TestResponse } from '../helpers/server.js';

// Cerememory nodes as real processes (the compiled `cerememory serve`, configured by environment as an
// operator would) on three real nats-servers, with the default lease timing (10 s TTL): the owner of a
// space is killed with SIGKILL during a stream of acknowledged writes, restarted under its node id, and
// a fourth node joins. Counting is done with a timeline over all time, which lists every record of a
// space (recall.query ranks and cuts).

const PARTITIONS = 8;
const SPACE = 'failover';
/** Safety nets for a loaded machine, not figures: the failover time is logged, and measured by the bench. */
const SETTLE_MS = 120_000;
const WRITE_DEADLINE_MS = 120_000;

interface NodeProcess {
  id: string;
  dataDir: string;
  process: ServeProcess;
  url: string;
  call: (method: string, path: string, body?: unknown) => Promise<TestResponse>;
}

/** eventually, a probe that throws (a node restarting) counting as not yet. */
const untilHolds = (check: () => Promise<boolean>, what: string, deadlineMs = SETTLE_MS) => eventually(() => check().catch(() => false), what, deadlineMs);

/** Every text of a space, as many times as it is there (a timeline over all time lists every record). */
async function textsIn(node: NodeProcess, space: string): Promise<string[]> {
  const deadline = Date.now() + WRITE_DEADLINE_MS;
  let response: TestResponse;
  // 503 while the space's partition changes hands: a client retries.
  do {
    response = await node.call('POST', '/v1/recall/timeline', {
      space,
      range: { start: '2000-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z' },
      granularity: 'month',
    });
    if (response.status === 503) await new Promise((resolve) => setTimeout(resolve, 200));
  } while (response.status === 503 && Date.now() < deadline);
  expect(response.status, `${node.id}: ${JSON.stringify(response.body)}`).toBe(200);
  return (response.body.buckets as { memories: { record: Parameters<typeof textOfRecord>[0] }[] }[]).flatMap((bucket) => bucket.memories.map(({ record }) => textOfRecord(record)));
}

/** How many times each text is there; `expected` texts once each, nothing else. */
function expectExactlyOnce(found: string[], expected: string[], through: string): void {
  const counts = new Map<string, number>();
  for (const text of found) counts.set(text, (counts.get(text) ?? 0) + 1);
  const wrong = expected.filter((text) => counts.get(text) !== 1).map((text) => `${text} ×${counts.get(text) ?? 0}`);
  expect(wrong, `through ${through}`).toEqual([]);
  expect(found.length, `through ${through}: ${found.length} records for ${expected.length} acknowledged`).toBe(expected.length);
}

/** When each acknowledged write's successful attempt was sent and answered (performance.now). */
const acks: { sentAt: number; ackedAt: number }[] = [];

/** A client's write: retried with the same idempotency key, on 503 or a dead connection, until a safety deadline. */
async function write(through: () => NodeProcess, space: string, text: string, key: string): Promise<void> {
  const deadline = Date.now() + WRITE_DEADLINE_MS;
  for (;;) {
    const node = through();
    const sentAt = performance.now();
    const stored = await node
      .call('POST', '/v1/encode', { space, content: textContent(text), idempotency_key: key })
      .catch((error: unknown) => ({ status: 0, body: String(error), headers: new Headers() }));
    if (stored.status === 200) {
      acks.push({ sentAt, ackedAt: performance.now() });
      return;
    }
    if (stored.status !== 0) {
      expect(stored.status, `${key} through ${node.id}: ${JSON.stringify(stored.body)}`).toBe(503);
      expect(stored.headers.get('retry-after')).not.toBeNull();
    }
    if (Date.now() > deadline) throw new Error(`write ${key} not acknowledged within ${WRITE_DEADLINE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.skipIf(!natsServerAvailable)('Cerememory nodes as processes: kill -9 of an owner, its restart, a fourth node', { timeout: 300_000 }, () => {
  let cluster: NatsCluster;
  const root = mkdtempSync(join(tmpdir(), 'cerememory-nodes-'));
  const nodes = new Map<string, NodeProcess>();
  const written = new Map<string, string[]>();

  async function start(id: string, index: number): Promise<NodeProcess> {
    const dataDir = join(root, id);
    // Each node's URL list led by "its" server.
    const urls = [...cluster.urls.slice(index % 3), ...cluster.urls.slice(0, index % 3)];
    const process = serveProcess(dataDir, {
      env: {
        CEREMEMORY_CLUSTER__MODE: 'nats',
        CEREMEMORY_CLUSTER__NATS_URLS: urls.join(','),
        CEREMEMORY_CLUSTER__NODE_ID: id,
        CEREMEMORY_CLUSTER__PARTITIONS: String(PARTITIONS),
        CEREMEMORY_CLUSTER__REPLICAS: '3',
        CEREMEMORY_RATE_LIMIT__REQUESTS_PER_SECOND: '100000',
        CEREMEMORY_RATE_LIMIT__BURST: '100000',
      },
    });
    const url = await process.url;
    const node = { id, dataDir, process, url, call: jsonCaller((path, init) => fetch(`${url}${path}`, init)) };
    nodes.set(id, node);
    return node;
  }

  /** Every live node agrees: these members, and every partition held by the node placement names. */
  async function settled(members: string[]): Promise<void> {
    const expected = placeAll(PARTITIONS, members).map(({ owner }) => owner);
    for (const node of nodes.values()) {
      if (node.process.child.exitCode !== null || node.process.child.signalCode !== null) continue;
      await untilHolds(async () => {
        const status = (await node.call('GET', '/v1/cluster')).body;
        return status.nodes.join() === members.join() && status.partitions.every(({ holder }: { holder?: string }, i: number) => holder === expected[i]);
      }, `${node.id} sees ${members.join()} settled`);
    }
  }

  async function writeAll(space: string, texts: string[], through: () => NodeProcess): Promise<void> {
    for (const text of texts) {
      await write(through, space, text, `${space}/${text}`);
      written.set(space, [...(written.get(space) ?? []), text]);
    }
  }

  beforeAll(async () => {
    cluster = await startNatsCluster(3);
    await Promise.all(['a', 'b', 'c'].map((id, i) => start(id, i)));
    await settled(['a', 'b', 'c']);
  }, SETTLE_MS + 60_000);

  afterAll(async () => {
    for (const node of nodes.values()) node.process.child.kill('SIGKILL');
    await Promise.all([...nodes.values()].map((node) => node.process.exited));
    await cluster?.stop();
    removeDir(root);
  });

  it('a memory written through any node is recalled through every node', async () => {
    const spaces = ['space-0', 'space-1', 'space-2', 'space-3'];
    expect(new Set(spaces.map((space) => partitionOf(space, PARTITIONS))).size).toBeGreaterThan(1);
    const all = [...nodes.values()];
    for (const [i, space] of spaces.entries()) await writeAll(space, [`the key of ${space} is under pot ${i}`], () => all[i % all.length]!);
    for (const space of spaces) for (const node of all) expectExactlyOnce(await textsIn(node, space), written.get(space)!, `${node.id} (${space})`);
  });

  it('kill -9 of the owner during acknowledged writes: another node serves the space, every acknowledged write is there once', async () => {
    const ownerId = (await nodes.get('a')!.call('GET', `/v1/cluster?space=${SPACE}`)).body.node_id as string;
    const owner = nodes.get(ownerId)!;
    const survivors = [...nodes.values()].filter((node) => node !== owner);
    let turn = 0;
    const through = () => survivors[turn++ % survivors.length]!;
    await writeAll(
      SPACE,
      Array.from({ length: 10 }, (_, i) => `failover note ${i}`),
      through,
    );

    // The next writes are in flight (one per survivor) when the owner dies.
    const stream = Promise.all(
      survivors.map((_, s) =>
        writeAll(
          SPACE,
          Array.from({ length: 10 }, (_, i) => `failover note ${10 + s * 10 + i}`),
          () => survivors[s]!,
        ),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    const killedAt = performance.now();
    owner.process.child.kill('SIGKILL');
    await owner.process.exited;
    await stream;
    expect(written.get(SPACE)).toHaveLength(30);
    // Served again: the first write sent after the kill that was acknowledged.
    const servedAgainAt = Math.min(...acks.filter(({ sentAt }) => sentAt > killedAt).map(({ ackedAt }) => ackedAt));
    const holder = (await survivors[0]!.call('GET', `/v1/cluster?space=${SPACE}`)).body.node_id;
    expect(survivors.map((node) => node.id)).toContain(holder);
    console.log(
      `failover: owner ${ownerId} killed; space served by ${holder} again, acknowledged writes resumed; kill → first write acknowledged after it ${((servedAgainAt - killedAt) / 1000).toFixed(1)} s (load average ${loadavg()[0]!.toFixed(2)})`,
    );
    for (const node of survivors) expectExactlyOnce(await textsIn(node, SPACE), written.get(SPACE)!, node.id);
  });

  it('the old owner restarted under its node id serves nothing stale and writes nothing itself until it takes its partitions back through the lease protocol', async () => {
    const partition = partitionOf(SPACE, PARTITIONS);
    const ownerId = placeAll(PARTITIONS, ['a', 'b', 'c'])[partition]!.owner!;
    expect(nodes.get(ownerId)!.process.child.signalCode).toBe('SIGKILL');
    // Its data directory holds the space as it was at the kill: 10 to 12 of the 30 writes, not the rest.
    const restarted = await start(ownerId, ['a', 'b', 'c'].indexOf(ownerId));
    const others = [...nodes.values()].filter((node) => node !== restarted);
    let rounds = 0;
    let forwarded = 0;
    for (;;) {
      const where = (await restarted.call('GET', `/v1/cluster?space=${SPACE}`)).body;
      const back = where.node_id === ownerId;
      // Through the restarted node, always the whole space as the log has it, never its stale view.
      expectExactlyOnce(await textsIn(restarted, SPACE), written.get(SPACE)!, `${ownerId} restarted, round ${rounds}`);
      if (back) break;
      // A write through it while another node holds the partition: forwarded there, acknowledged once.
      await writeAll(SPACE, [`restart note ${rounds}`], () => restarted);
      forwarded++;
      rounds++;
      if (rounds > 600) throw new Error(`${ownerId} did not take partition ${partition} back`);
    }
    console.log(`restart: ${ownerId} took partition ${partition} back after ${rounds} rounds (${forwarded} writes through it forwarded meanwhile)`);
    await settled(['a', 'b', 'c']);
    // Now it holds the partition: writes through every node land once, and every node reads them all.
    for (const node of [restarted, ...others]) await writeAll(SPACE, [`after the restart through ${node.id}`], () => node);
    for (const node of [restarted, ...others]) expectExactlyOnce(await textsIn(node, SPACE), written.get(SPACE)!, node.id);
  });

  it('a fourth node joins: it takes its share of the partitions, every record stays readable once through every node, spaces stay apart', async () => {
    const members = ['a', 'b', 'c', 'd'];
    const share = placeAll(PARTITIONS, members)
      .filter(({ owner }) => owner === 'd')
      .map(({ partition }) => partition);
    // The failover space moves to d: d must rebuild it from the log, written by three owners in turn.
    expect(share).toContain(partitionOf(SPACE, PARTITIONS));
    await start('d', 0);
    await settled(members);
    const status = (await nodes.get('d')!.call('GET', '/v1/cluster')).body;
    expect(status.partitions.filter(({ holder }: { holder: string }) => holder === 'd').map(({ partition }: { partition: number }) => partition)).toEqual(share);
    for (const [space, texts] of written) for (const node of nodes.values()) expectExactlyOnce(await textsIn(node, space), texts, `${node.id} (${space})`);
    // Spaces stay apart across nodes, the new one included.
    await writeAll('alone-1', ['a red umbrella by the door'], () => nodes.get('d')!);
    for (const node of nodes.values()) {
      expect(await textsIn(node, 'alone-2'), node.id).toEqual([]);
      expectExactlyOnce(await textsIn(node, 'alone-1'), ['a red umbrella by the door'], node.id);
    }
  });

  // A stalled owner (SIGSTOP: a long GC pause, a frozen VM) comes back believing nothing happened: its
  // lease was trusted only up to a point of its monotonic clock, long past when it resumes.
  it('an owner paused past its lease (SIGSTOP) and resumed serves nothing stale and writes nothing: another node took over', async () => {
    const members = ['a', 'b', 'c', 'd'];
    const ownerId = (await nodes.get('a')!.call('GET', `/v1/cluster?space=${SPACE}`)).body.node_id as string;
    const owner = nodes.get(ownerId)!;
    const others = [...nodes.values()].filter((node) => node !== owner);
    owner.process.child.kill('SIGSTOP');
    try {
      await untilHolds(async () => {
        const holder = (await others[0]!.call('GET', `/v1/cluster?space=${SPACE}`)).body.node_id;
        return holder !== undefined && holder !== ownerId;
      }, `another node than ${ownerId} holds the space`);
      let turn = 0;
      await writeAll(
        SPACE,
        Array.from({ length: 5 }, (_, i) => `while ${ownerId} was paused ${i}`),
        () => others[turn++ % others.length]!,
      );
    } finally {
      owner.process.child.kill('SIGCONT');
    }
    // At once, before its next tick notices the lease is gone: through it, the whole space as the log has it.
    expectExactlyOnce(await textsIn(owner, SPACE), written.get(SPACE)!, `${ownerId} resumed`);
    await writeAll(SPACE, [`through ${ownerId} resumed`], () => owner);
    await settled(members);
    for (const node of nodes.values()) expectExactlyOnce(await textsIn(node, SPACE), written.get(SPACE)!, node.id);
  });

  it('a node that leaves on SIGTERM hands its partitions over cleanly: it exits 0, the others serve them, every acknowledged write is there once', async () => {
    const ownerId = (await nodes.get('a')!.call('GET', `/v1/cluster?space=${SPACE}`)).body.node_id as string;
    const leaving = nodes.get(ownerId)!;
    const staying = [...nodes.values()].filter((node) => node !== leaving);
    const stoppedAt = performance.now();
    leaving.process.child.kill('SIGTERM');
    let turn = 0;
    const writes = writeAll(
      SPACE,
      Array.from({ length: 5 }, (_, i) => `after ${ownerId} left ${i}`),
      () => staying[turn++ % staying.length]!,
    );
    expect(await leaving.process.exited).toBe(0);
    await writes;
    // No lease to wait out: released on the way out, taken at the next tick (the log is replayed first).
    console.log(`hand-over on SIGTERM of ${ownerId}: 5 writes acknowledged ${((performance.now() - stoppedAt) / 1000).toFixed(1)} s after the signal (load average ${loadavg()[0]!.toFixed(2)})`);
    await settled(staying.map((node) => node.id).sort());
    for (const node of staying) expectExactlyOnce(await textsIn(node, SPACE), written.get(SPACE)!, node.id);
  });
});
