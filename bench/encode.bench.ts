import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../src/runtime/runtime.js';
import { compiledServer, type CompiledServer } from './compiled.js';
import { zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// encode.batch throughput: 100-record batches into one store (episodic), through the hippocampus as every
// transport calls it, once per `embedding.provider`: "none" (BM25 only), "lexical" (the hashing embedder)
// and "local" (the default: the USE-lite model in the embedding worker). An encode is acknowledged once it
// is durable and text-indexed; its vector follows through the store's backlog. Per row: acknowledged
// records/s (the batches' replies), batch latency percentiles, and, for providers with vectors, the time
// from the first batch until every vector is indexed and no similar-memory link is pending
// (runtime.embedding() polled, no fixed sleep), as vectors_indexed_s and vectors_records_per_s; peak RSS of
// the process (store and embedding workers are threads of it; rows run one after the other in one
// process, so a later row starts from rss_at_start_mib). The model takes ~10–40 ms of CPU a text, so
// the "local" row encodes fewer records by default (--local-records, 10,000): each row reports its own
// `records`. Request decoding and validation (src/cmp/requests.ts) is done before the clock starts and
// reported apart. The server runs compiled, as `npm start` runs it (compiled.ts).

const PROVIDERS = ['none', 'lexical', 'local'] as const;
type Provider = (typeof PROVIDERS)[number];
/** How long vectors may take to catch up before the row gives up (reported, not thrown). */
const SETTLE_DEADLINE_S = 2 * 3600;

const load1 = () => round(loadavg()[0], 2);

const bench: Bench = {
  description:
    'encode.batch of 100-record batches into one store, per embedding provider none, lexical, local (options: --records N (100000), --local-records N (10000), --no-sync, --embedding none|lexical|local, --encrypt: encryption at rest on)',
  async run(args, progress) {
    const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
    const total = Number(option('--records')) || 100_000;
    const localTotal = Number(option('--local-records')) || Math.min(total, 10_000);
    const syncWrites = !args.includes('--no-sync');
    const encrypt = args.includes('--encrypt');
    const only = option('--embedding');
    const server = await compiledServer(progress);
    const rows = [];
    for (const provider of PROVIDERS.filter((variant) => only === undefined || variant === only)) {
      progress(`embedding ${provider} (load average ${load1()})`);
      rows.push(await encodeRun(server, provider === 'local' ? localTotal : total, syncWrites, provider, encrypt, progress));
      progress(JSON.stringify({ ...rows.at(-1), checkpoints: undefined }));
    }
    return {
      command: `npm run bench -- encode ${args.join(' ')}`,
      records: total,
      local_records: localTotal,
      batch_size: 100,
      store: 'episodic',
      sync_writes: syncWrites,
      encryption_at_rest: encrypt,
      server: 'compiled (dist/), as npm start runs it; in-process (runtime.hippocampus.encodeBatch)',
      rows,
    };
  },
};

/** Polls runtime.embedding() until no vector backlog and no pending link (or the deadline). */
async function vectorsIndexed(runtime: Runtime, started: number, progress: (line: string) => void) {
  let lastReport = performance.now();
  for (;;) {
    const report = await runtime.embedding();
    if (report.vector_backlog === 0 && report.links_pending === 0) return { settled: true, report };
    if ((performance.now() - started) / 1000 > SETTLE_DEADLINE_S) return { settled: false, report };
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      progress(
        `  waiting for vectors (${round((performance.now() - started) / 1000, 0)} s since the first batch): backlog ${report.vector_backlog}, links pending ${report.links_pending}, load ${load1()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function encodeRun(
  { config: configModule, requests: requestModule, runtime: runtimeModule }: CompiledServer,
  total: number,
  syncWrites: boolean,
  provider: Provider,
  encrypt: boolean,
  progress: (line: string) => void,
) {
  const batchSize = 100;
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-encode-'));
  const config = configModule.loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      data_dir: dataDir,
      runtime: { sync_writes: syncWrites },
      embedding: { provider },
      ...(encrypt ? { security: { store_encryption_passphrase: 'bench passphrase' } } : {}),
    },
  });
  const rssAtStart = round(process.memoryUsage.rss() / 2 ** 20, 1);
  const rss = rssSampler();
  const runtime = await runtimeModule.startRuntime(config, { log: (line) => (line.startsWith('embedding:') ? progress(line) : undefined) });
  const texts = zipfSentences(total, 7);
  // Requests are decoded and validated first, as a transport would, and timed apart: the figure is the
  // CMP operation itself; transport costs are the transport bench's.
  const parseStarted = performance.now();
  const requests = [];
  for (let offset = 0; offset < total; offset += batchSize) {
    requests.push(
      requestModule.parseEncodeBatch({
        records: texts.slice(offset, offset + batchSize).map((text) => ({
          store: 'episodic',
          content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] },
        })),
      }),
    );
  }
  const parseMicrosPerRecord = ((performance.now() - parseStarted) * 1000) / total;
  const latencies: number[] = [];
  const checkpoints: { records: number; records_per_s: number; elapsed_s: number; vector_backlog: number }[] = [];
  const loadAtStart = load1();
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  let windowStart = started;
  let windowRecords = 0;
  let acknowledged: number;
  let vectors: { settled: boolean; seconds: number; backlog: number; links: number } | undefined;
  let cpuAcknowledged: NodeJS.CpuUsage;
  try {
    for (let index = 0, offset = 0; index < requests.length; index++, offset += batchSize) {
      const request = requests[index];
      const t0 = performance.now();
      await runtime.hippocampus.encodeBatch(request);
      latencies.push(performance.now() - t0);
      windowRecords += request.records.length;
      const done = offset + request.records.length;
      if (done % 10_000 === 0 || done === total) {
        const now = performance.now();
        const backlog = provider === 'none' ? 0 : (await runtime.embedding()).vector_backlog;
        checkpoints.push({ records: done, records_per_s: round(windowRecords / ((now - windowStart) / 1000), 0), elapsed_s: round((now - started) / 1000, 2), vector_backlog: backlog });
        progress(`${done} records, ${checkpoints.at(-1)!.records_per_s} records/s in the last window, vector backlog ${backlog}`);
        windowStart = performance.now();
        windowRecords = 0;
      }
    }
    acknowledged = (performance.now() - started) / 1000;
    cpuAcknowledged = process.cpuUsage(cpuStarted);
    if (provider !== 'none') {
      const done = await vectorsIndexed(runtime, started, progress);
      vectors = { settled: done.settled, seconds: (performance.now() - started) / 1000, backlog: done.report.vector_backlog, links: done.report.links_pending };
    }
  } finally {
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpuStarted);
  return {
    embedding: provider,
    records: total,
    records_per_s: round(total / acknowledged, 0),
    elapsed_s: round(acknowledged, 2),
    ...(vectors === undefined
      ? {}
      : vectors.settled
        ? {
            // From the first batch until every vector is indexed and no similar-memory link is pending.
            vectors_indexed_s: round(vectors.seconds, 2),
            vectors_records_per_s: round(total / vectors.seconds, 0),
          }
        : { vectors_settled: false, vectors_waited_s: round(vectors.seconds, 2), vector_backlog_left: vectors.backlog, links_pending_left: vectors.links }),
    request_parse_us_per_record: round(parseMicrosPerRecord, 1),
    // CPU time of all the process's threads (main, store and embedding workers) per record: steadier
    // than records/s on a shared machine, where other work steals cores. Until acknowledged, and until
    // every vector is indexed.
    cpu_us_per_record_acknowledged: round((cpuAcknowledged.user + cpuAcknowledged.system) / total, 1),
    cpu_us_per_record_with_vectors: round((cpu.user + cpu.system) / total, 1),
    batch_latency_ms: percentiles(latencies),
    load_average_1m: { at_start: loadAtStart, at_end: load1() },
    rss_at_start_mib: rssAtStart,
    peak_rss_mib: rss.stop(),
    checkpoints,
  };
}

export default bench;
