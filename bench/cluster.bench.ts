import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { partitionOf, placeAll } from '../src/cluster/placement.js';
import { startNatsCluster, type NatsCluster } from '../test/helpers/nats.js';
import { serveProcess, type ServeProcess } from '../test/helpers/serve-process.js';
import { buildDist } from './compiled.js';
import { zipfQueries, zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round } from './stats.js';

// `npm run bench -- cluster` (issue 16): the cost of replication, not a speed-up (all of it runs on one
// machine, two cores here). Compiled `cerememory serve` processes, configured by environment as an
// operator would (test/helpers/serve-process.ts), with the lexical embedder and default lease timing:
//   1. write (encode, one record) and recall (recall.query) throughput and latency over HTTP, one node
//      embedded against three nodes on three routed nats-servers (R3 logs): each request to a node
//      chosen in turn, so most cluster requests are forwarded to the owner (reported apart);
//   2. failover: kill -9 of the owner of a space while one client writes to it through the others, with
//      idempotent retries; from the kill to the first acknowledged write sent after it, and every
//      acknowledged write counted (timeline over all time) once;
//   3. catch-up: a fourth node with an empty data directory joins and rebuilds its share of the
//      partitions from their logs; entries replayed per second, from its own log lines.
// Benchmarks measure; they never assert.

const PARTITIONS = 8;
const load1 = () => round(loadavg()[0]!, 2);
type Progress = (line: string) => void;

interface Node {
  id: string;
  url: string;
  process: ServeProcess;
}

const post = async (url: string, path: string, body: unknown) => {
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json().catch(() => null)) as any };
};
const get = async (url: string, path: string) => (await fetch(`${url}${path}`)).json() as Promise<any>;
const text = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(value).toString('base64') }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(root: string, id: string, env: Record<string, string>): Promise<Node> {
  const running = serveProcess(join(root, id), {
    env: { CEREMEMORY_RATE_LIMIT__REQUESTS_PER_SECOND: '1000000', CEREMEMORY_RATE_LIMIT__BURST: '1000000', ...env },
  });
  return { id, url: await running.url, process: running };
}

function clusterEnv(cluster: NatsCluster, id: string, index: number): Record<string, string> {
  const urls = [...cluster.urls.slice(index % 3), ...cluster.urls.slice(0, index % 3)];
  return {
    CEREMEMORY_CLUSTER__MODE: 'nats',
    CEREMEMORY_CLUSTER__NATS_URLS: urls.join(','),
    CEREMEMORY_CLUSTER__NODE_ID: id,
    CEREMEMORY_CLUSTER__PARTITIONS: String(PARTITIONS),
    CEREMEMORY_CLUSTER__REPLICAS: '3',
  };
}

/** How long a write or a read is retried through a failover before the bench fails, naming what it waited for. */
const RETRY_DEADLINE_MS = 120_000;

/** Until every node sees `members` and every partition held by its placement owner. */
async function settled(nodes: Node[], members: string[], deadlineMs = 180_000): Promise<void> {
  const owners = placeAll(PARTITIONS, members).map(({ owner }) => owner);
  const deadline = Date.now() + deadlineMs;
  for (const node of nodes) {
    for (;;) {
      const status = await get(node.url, '/v1/cluster').catch(() => undefined);
      if (status?.nodes.join() === members.join() && status.partitions.every(({ holder }: { holder?: string }, i: number) => holder === owners[i])) break;
      if (Date.now() > deadline) throw new Error(`${node.id} did not settle on ${members.join()}`);
      await sleep(200);
    }
  }
}

/** One write with an idempotency key, retried on 503 or a dead connection; the successful attempt's send and answer times. */
async function write(through: () => Node, space: string, value: string, key: string): Promise<{ sentAt: number; ackedAt: number; node: string }> {
  const giveUp = Date.now() + RETRY_DEADLINE_MS;
  for (;;) {
    const node = through();
    const sentAt = performance.now();
    const stored = await post(node.url, '/v1/encode', { space, content: text(value), idempotency_key: key }).catch(() => ({ status: 0, body: null }));
    if (stored.status === 200) return { sentAt, ackedAt: performance.now(), node: node.id };
    if (stored.status !== 0 && stored.status !== 503) throw new Error(`write ${key}: ${stored.status} ${JSON.stringify(stored.body)}`);
    if (Date.now() > giveUp) throw new Error(`write ${key}: not acknowledged within ${RETRY_DEADLINE_MS} ms (last through ${node.id}: ${stored.status} ${JSON.stringify(stored.body)})`);
    await sleep(100);
  }
}

/** `count` calls of `one(i)`, `concurrency` at a time; latency per call in ms, and calls per second. */
async function throughput(count: number, concurrency: number, one: (i: number) => Promise<unknown>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < count; i = next++) {
        const t0 = performance.now();
        await one(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { per_s: round(count / ((performance.now() - started) / 1000), 1), latency_ms: percentiles(latencies), latencies };
}

/** Writes then recalls over `nodes` in turn, into `spaces` in turn; forwarded requests (to a node not holding the space) reported apart. */
async function workload(nodes: Node[], options: { writes: number; recalls: number; concurrency: number; prefix: string }, holderOf?: (space: string) => string) {
  const spaces = Array.from({ length: 16 }, (_, i) => `${options.prefix}-${i}`);
  const texts = zipfSentences(options.writes, 7);
  const queries = zipfQueries(options.recalls, 11);
  const forwarded = { write: [] as number[], recall: [] as number[] };
  const local = { write: [] as number[], recall: [] as number[] };
  const timed = (kind: 'write' | 'recall', node: Node, space: string, call: () => Promise<unknown>) => async () => {
    const t0 = performance.now();
    await call();
    if (holderOf) (holderOf(space) === node.id ? local : forwarded)[kind].push(performance.now() - t0);
  };
  const writes = await throughput(options.writes, options.concurrency, (i) => {
    const node = nodes[i % nodes.length]!;
    const space = spaces[i % spaces.length]!;
    return timed('write', node, space, () => write(() => node, space, texts[i]!, `${options.prefix}/${i}`))();
  });
  const recalls = await throughput(options.recalls, options.concurrency, (i) => {
    const node = nodes[i % nodes.length]!;
    const space = spaces[i % spaces.length]!;
    return timed('recall', node, space, async () => {
      const answer = await post(node.url, '/v1/recall/query', { space, cue: { text: queries[i] }, reconsolidate: false, limit: 10 });
      if (answer.status !== 200) throw new Error(`recall: ${answer.status} ${JSON.stringify(answer.body)}`);
    })();
  });
  return {
    writes: { count: options.writes, per_s: writes.per_s, latency_ms: writes.latency_ms },
    recalls: { count: options.recalls, per_s: recalls.per_s, latency_ms: recalls.latency_ms },
    ...(holderOf === undefined
      ? {}
      : {
          forwarded_share: round(forwarded.write.length / options.writes, 2),
          write_latency_ms: { at_owner: percentiles(local.write), forwarded: percentiles(forwarded.write) },
          recall_latency_ms: { at_owner: percentiles(local.recall), forwarded: percentiles(forwarded.recall) },
        }),
  };
}

/** Every text of a space, as many times as it is there. */
async function textsIn(node: Node, space: string): Promise<string[]> {
  const giveUp = Date.now() + RETRY_DEADLINE_MS;
  for (;;) {
    const answer = await post(node.url, '/v1/recall/timeline', { space, range: { start: '2000-01-01T00:00:00Z', end: '2100-01-01T00:00:00Z' }, granularity: 'month' });
    if (answer.status !== 200 && Date.now() > giveUp) throw new Error(`timeline of ${space} through ${node.id}: ${answer.status} for ${RETRY_DEADLINE_MS} ms (${JSON.stringify(answer.body)})`);
    if (answer.status === 200) {
      return (answer.body.buckets as { memories: { record: { content: { blocks: { data: string }[] } } }[] }[]).flatMap((bucket) =>
        bucket.memories.map(({ record }) => Buffer.from(record.content.blocks[0]!.data, 'base64').toString('utf8')),
      );
    }
    await sleep(200);
  }
}

/** kill -9 of the owner of `space` after some acknowledged writes through the others; the node killed, and the figures. */
async function failover(nodes: Node[], space: string, progress: Progress) {
  const holder = (await get(nodes[0]!.url, `/v1/cluster?space=${encodeURIComponent(space)}`)).node_id as string;
  const owner = nodes.find((node) => node.id === holder)!;
  const survivors = nodes.filter((node) => node !== owner);
  let turn = 0;
  const through = () => survivors[turn++ % survivors.length]!;
  const acked: string[] = [];
  const acks: { sentAt: number; ackedAt: number }[] = [];
  let killedAt = Number.POSITIVE_INFINITY;
  const loadAtKill = { value: 0 };
  for (let i = 0; acks.filter(({ sentAt }) => sentAt > killedAt).length < 20; i++) {
    if (i === 20) {
      loadAtKill.value = load1();
      killedAt = performance.now();
      owner.process.child.kill('SIGKILL');
    }
    const value = `${space} note ${i}`;
    acks.push(await write(through, space, value, `${space}/${i}`));
    acked.push(value);
  }
  await owner.process.exited;
  const after = acks.filter(({ sentAt }) => sentAt > killedAt);
  const servedAgain = Math.min(...after.map(({ ackedAt }) => ackedAt));
  const newHolder = (await get(survivors[0]!.url, `/v1/cluster?space=${encodeURIComponent(space)}`)).node_id as string;
  const found = await textsIn(survivors[0]!, space);
  const counts = new Map<string, number>();
  for (const value of found) counts.set(value, (counts.get(value) ?? 0) + 1);
  const result = {
    killed: holder,
    served_again_by: newHolder,
    // From the kill to the first acknowledged write sent after it (the lease TTL is 10 s, ticks every 2 s).
    failover_s: round((servedAgain - killedAt) / 1000, 2),
    acknowledged: acked.length,
    missing: acked.filter((value) => !counts.has(value)).length,
    duplicated: acked.filter((value) => (counts.get(value) ?? 0) > 1).length,
    load_average_1m_at_kill: loadAtKill.value,
  };
  progress(`failover: ${JSON.stringify(result)}`);
  return { owner, result };
}

const bench: Bench = {
  description:
    'cluster mode: write/recall throughput and latency, one embedded node vs three nodes on three nats-servers (R3) on one machine; failover after kill -9 of an owner; catch-up rate of a joining node (options: --writes N (400), --recalls N (400), --concurrency N (4), --failovers N (2), --catchup-records N (2000): single-record writes before a fourth node joins)',
  async run(args, progress) {
    const option = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
    const shape = { writes: option('--writes', 400), recalls: option('--recalls', 400), concurrency: option('--concurrency', 4) };
    const failovers = option('--failovers', 2);
    const catchUpRecords = option('--catchup-records', 2000);
    buildDist(progress);
    const root = mkdtempSync(join(tmpdir(), 'cerememory-bench-cluster-'));
    const started: Node[] = [];
    let cluster: NatsCluster | undefined;
    try {
      progress(`embedded: one node (load average ${load1()})`);
      const embedded = await start(root, 'embedded', {});
      started.push(embedded);
      const embeddedRow = { load_average_1m_at_start: load1(), ...(await workload([embedded], { ...shape, prefix: 'embedded' })) };
      progress(`embedded: ${JSON.stringify(embeddedRow)}`);
      embedded.process.child.kill('SIGTERM');
      await embedded.process.exited;

      progress(`cluster: three nats-servers, three nodes (load average ${load1()})`);
      cluster = await startNatsCluster(3);
      const natsCluster = cluster;
      let nodes = await Promise.all(['a', 'b', 'c'].map((id, i) => start(root, id, clusterEnv(natsCluster, id, i))));
      started.push(...nodes);
      await settled(nodes, ['a', 'b', 'c']);
      const holders = placeAll(PARTITIONS, ['a', 'b', 'c']);
      const clusterRow = {
        load_average_1m_at_start: load1(),
        ...(await workload(nodes, { ...shape, prefix: 'cluster' }, (space) => holders[partitionOf(space, PARTITIONS)]!.owner!)),
      };
      progress(`cluster: ${JSON.stringify(clusterRow)}`);

      const failoverRows = [];
      for (let round_ = 0; round_ < failovers; round_++) {
        const { owner, result } = await failover(nodes, `failover-${round_}`, progress);
        failoverRows.push(result);
        // The old owner back under its id (it takes its partitions back through the lease protocol).
        const index = ['a', 'b', 'c'].indexOf(owner.id);
        const back = await start(root, owner.id, clusterEnv(natsCluster, owner.id, index));
        started.push(back);
        nodes = nodes.map((node) => (node === owner ? back : node));
        await settled(nodes, ['a', 'b', 'c']);
      }

      // Catch-up: single-record writes (one log entry each) over every partition, then a fourth node
      // with an empty data directory joins and replays its share.
      const spaces = Array.from({ length: 32 }, (_, i) => `catchup-${i}`);
      const texts = zipfSentences(catchUpRecords, 23);
      const current = nodes;
      await throughput(catchUpRecords, 8, (i) => write(() => current[i % current.length]!, spaces[i % spaces.length]!, texts[i]!, `catchup/${i}`));
      const share = placeAll(PARTITIONS, ['a', 'b', 'c', 'd'])
        .filter(({ owner }) => owner === 'd')
        .map(({ partition }) => partition);
      const joinedAt = performance.now();
      const d = await start(root, 'd', clusterEnv(natsCluster, 'd', 0));
      started.push(d);
      await settled([...nodes, d], ['a', 'b', 'c', 'd']);
      // Holding a lease comes before serving: the partition's log is replayed in between.
      const caughtUpLines = () => [...d.process.stderr().matchAll(/serving partition (\d+) \(caught up: (\d+) log entries replayed in (\d+) ms\)/g)];
      for (const deadline = Date.now() + 180_000; caughtUpLines().length < share.length && Date.now() < deadline; ) await sleep(100);
      const joinedS = (performance.now() - joinedAt) / 1000;
      const caughtUp = caughtUpLines().map((match) => ({ partition: Number(match[1]), entries: Number(match[2]), ms: Number(match[3]) }));
      const entries = caughtUp.reduce((sum, { entries: n }) => sum + n, 0);
      const ms = caughtUp.reduce((sum, { ms: n }) => sum + n, 0);
      const catchUp = {
        records_written_before: catchUpRecords,
        // Every write of the run so far in d's partitions (the workload's, the failovers', these).
        partitions_taken: caughtUp.map(({ partition }) => partition),
        partitions_expected: share,
        entries_replayed: entries,
        replay_ms: ms,
        entries_per_s: ms === 0 ? null : round(entries / (ms / 1000), 0),
        // Spawn of the process until every node agrees on four members and d serves its share.
        join_to_settled_s: round(joinedS, 1),
        load_average_1m: load1(),
      };
      progress(`catch-up: ${JSON.stringify(catchUp)}`);
      return {
        command: `npm run bench -- cluster ${args.join(' ')}`,
        server:
          'compiled `cerememory serve` processes (dist/), lexical embedder, HTTP/JSON on loopback; cluster: 3 nats-server 2.9 processes routed on loopback, R3, 8 partitions, default lease TTL 10 s',
        ...shape,
        embedded: embeddedRow,
        three_nodes: clusterRow,
        failover: failoverRows,
        catch_up: catchUp,
      };
    } finally {
      for (const node of started) node.process.child.kill('SIGKILL');
      await Promise.all(started.map((node) => node.process.exited));
      await cluster?.stop();
      rmSync(root, { recursive: true, force: true });
    }
  },
};

export default bench;
