import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CerememoryConfig } from '../src/runtime/config/index.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { compiledServer, type CompiledServer } from './compiled.js';
import { zipfQueries, zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// recall.query latency with a text cue over a mixed-store corpus (depth 2, limit 10), at each size in
// --sizes (default 10,000 and 100,000), for the default configuration (embedding.provider "local": the
// USE-lite model embeds records, cues are embedded by the static query table) and, in the same run, the
// lexical embedder (A/B). Per row: load time (acknowledged encodes), then the time until every vector is
// indexed and no similar-memory link is pending (vectors follow the acknowledged write through a
// backlog), and until cues are embedded by the static query table, so latency is measured on a settled
// server. Both rows of a size are then open at once and queried in alternating blocks, so load from
// other work on the machine falls on both alike: percentiles with and without reconsolidation. Then each
// is restarted on its data directory: cold start until the first recall is answered. Peak RSS is the
// process's (store workers and the embedding worker are threads of it). The corpus and the 2–3 word
// queries follow Zipf word frequencies (corpus.ts). The server runs compiled, as `npm start` runs it.
// --data-dir DIR keeps each row's data directory under DIR (`<size>-<row>`) and, on a later run, starts
// a row from it instead of loading anew when its corpus marker matches: the model embeds ~45 records/s
// on this machine, so a 100,000-record row takes the better part of an hour to settle, once.

const STORES = ['episodic', 'episodic', 'episodic', 'episodic', 'semantic', 'semantic', 'semantic', 'procedural', 'emotional', 'emotional'] as const;

interface Variant {
  name: string;
  flags: Record<string, unknown>;
}

// The lexical row loads first: it settles in seconds, so a size whose model row runs into --settle-until
// still has a complete A/B partner.
const VARIANTS: Variant[] = [
  { name: 'lexical embedder', flags: { embedding: { provider: 'lexical' } } },
  { name: 'default (local USE-lite, static query vectors)', flags: {} },
];

/** The corpus every row loads: zipfSentences(size, CORPUS_SEED) over STORES in turn. */
const CORPUS_SEED = 11;
/** --data-dir: where rows keep their data directories (see the header); undefined = a temp dir each. */
let keptDataDir: string | undefined;
const MARKER = 'bench-corpus.json';

/** Queries per block when the rows of a size are queried in turn. */
const BLOCK = 50;
/** How long a row may take to index every vector before the bench gives up on it (see also --settle-until). */
const SETTLE_DEADLINE_S = 3 * 3600;
/** --settle-until: a wall-clock time after which a row stops waiting and is measured unsettled (labelled). */
let settleUntil = Number.POSITIVE_INFINITY;

/**
 * A copy of the first server's static query table, put into every later data directory: each server would
 * otherwise distil its own (~6 s of model time on a quiet machine), the same table every time.
 */
let pieceTableCopy: string | undefined;

const load1 = () => round(loadavg()[0], 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function pieceTables(dataDir: string): string[] {
  const dir = join(dataDir, 'embedding');
  return existsSync(dir) ? readdirSync(dir).filter((name) => name.endsWith('.pieces.f32')) : [];
}

async function load({ requests }: CompiledServer, runtime: Runtime, total: number, progress: (line: string) => void): Promise<number> {
  const texts = zipfSentences(total, CORPUS_SEED);
  const started = performance.now();
  for (let offset = 0; offset < total; offset += 100) {
    const request = requests.parseEncodeBatch({
      records: texts.slice(offset, offset + 100).map((text, index) => ({
        store: STORES[(offset + index) % STORES.length],
        content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] },
      })),
    });
    await runtime.hippocampus.encodeBatch(request);
    if ((offset + 100) % 10_000 === 0) progress(`loaded ${offset + 100} records (${round((performance.now() - started) / 1000, 1)} s)`);
  }
  return (performance.now() - started) / 1000;
}

/**
 * Polls runtime.embedding() until no vector waits in a backlog, no similar-memory link is pending and, with
 * `staticQueries`, cues are embedded by the static query table. Returns the seconds waited.
 */
async function settled(runtime: Runtime, staticQueries: boolean, progress: (line: string) => void): Promise<{ seconds: number; settled: boolean; remaining?: unknown }> {
  const started = performance.now();
  let lastReport = started;
  for (;;) {
    const report = await runtime.embedding();
    const cues = !staticQueries || report.query_vectors === 'static';
    if (cues && report.vector_backlog === 0 && report.links_pending === 0) return { seconds: (performance.now() - started) / 1000, settled: true };
    const waited = (performance.now() - started) / 1000;
    if (waited > SETTLE_DEADLINE_S) throw new Error(`vectors not indexed after ${SETTLE_DEADLINE_S} s: ${JSON.stringify(report)}`);
    if (Date.now() > settleUntil) return { seconds: waited, settled: false, remaining: report };
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      progress(`  waiting for vectors (${round(waited, 0)} s): backlog ${report.vector_backlog}, links pending ${report.links_pending}, query vectors ${report.query_vectors}, load ${load1()}`);
    }
    await sleep(100);
  }
}

async function queryLatencies({ requests }: CompiledServer, runtime: Runtime, cues: string[], reconsolidate: boolean): Promise<number[]> {
  const latencies: number[] = [];
  for (const cue of cues) {
    const request = requests.parseRecallQuery({ cue: { text: cue }, limit: 10, activation_depth: 2, reconsolidate });
    const t0 = performance.now();
    await runtime.hippocampus.recallQuery(request);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/** `count` queries for each runtime, asked in blocks of BLOCK taking turns; latencies per runtime. */
async function alternating(server: CompiledServer, runtimes: Runtime[], count: number, seed: number, reconsolidate: boolean): Promise<number[][]> {
  const cues = zipfQueries(count, seed);
  const latencies = runtimes.map((): number[] => []);
  for (let offset = 0; offset < count; offset += BLOCK) {
    // Who goes first alternates too, so neither row always follows the other's block.
    const order = runtimes.map((_, index) => index);
    if ((offset / BLOCK) % 2 === 1) order.reverse();
    for (const index of order) latencies[index].push(...(await queryLatencies(server, runtimes[index], cues.slice(offset, offset + BLOCK), reconsolidate)));
  }
  return latencies;
}

interface Loaded {
  variant: Variant;
  config: CerememoryConfig;
  dataDir: string;
  staticQueries: boolean;
  runtime: Runtime;
  row: Record<string, unknown>;
}

interface CorpusMarker {
  records: number;
  corpus_seed: number;
  stores: readonly string[];
  flags: Record<string, unknown>;
  /** The row figures of the run that loaded it. */
  loaded: Record<string, unknown>;
}

const rowSlug = (variant: Variant) => (variant.name.startsWith('default') ? 'default' : variant.name.replace(/[^a-z0-9]+/gi, '-'));

/** A kept data directory whose marker says it holds this row's corpus, loaded and settled; else undefined. */
function keptCorpus(dataDir: string, variant: Variant, size: number): CorpusMarker | undefined {
  try {
    const marker = JSON.parse(readFileSync(join(dataDir, MARKER), 'utf8')) as CorpusMarker;
    const same =
      marker.records === size && marker.corpus_seed === CORPUS_SEED && JSON.stringify(marker.stores) === JSON.stringify(STORES) && JSON.stringify(marker.flags) === JSON.stringify(variant.flags);
    return same ? marker : undefined;
  } catch {
    return undefined;
  }
}

async function loadRow(server: CompiledServer, variant: Variant, size: number, progress: (line: string) => void): Promise<Loaded> {
  // A kept corpus stays as loaded: each run works on a copy (recall reconsolidates and links).
  const kept = keptDataDir === undefined ? undefined : join(keptDataDir, `${size}-${rowSlug(variant)}`);
  const marker = kept === undefined ? undefined : keptCorpus(kept, variant, size);
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-recall-'));
  if (kept !== undefined && marker !== undefined) cpSync(kept, dataDir, { recursive: true });
  const config = server.config.loadConfig({ env: {}, cwd: dataDir, flags: { ...variant.flags, data_dir: dataDir } });
  const staticQueries = config.embedding.provider === 'local' && config.embedding.query_vectors === 'static';
  let pieceTableCopied = false;
  if (staticQueries && pieceTableCopy) {
    mkdirSync(join(dataDir, 'embedding'), { recursive: true });
    copyFileSync(pieceTableCopy, join(dataDir, 'embedding', pieceTableCopy.split('/').at(-1)!));
    pieceTableCopied = true;
  }
  const rssAtStart = round(process.memoryUsage.rss() / 2 ** 20, 1);
  const rss = rssSampler();
  const loadAtStart = load1();
  let runtime = await startRuntime(server, config, progress);
  if (marker !== undefined) {
    progress(`${size} records, ${variant.name}: kept corpus in ${dataDir}, loaded ${String(marker.loaded.date)}`);
    const settle = await settled(runtime, staticQueries, progress);
    const row = { ...marker.loaded, kept_corpus: { data_dir: kept, settle_after_start_s: round(settle.seconds, 2) }, rss_at_start_mib: rssAtStart };
    return { variant, config, dataDir, staticQueries, runtime, row };
  }
  progress(`${size} records, ${variant.name}: loading (load average ${loadAtStart})`);
  const loadSeconds = await load(server, runtime, size, progress);
  const loadAfterLoad = load1();
  const settle = await settled(runtime, staticQueries, progress);
  const settleSeconds = settle.seconds;
  if (staticQueries && !pieceTableCopy) {
    const [table] = pieceTables(dataDir);
    if (table) {
      pieceTableCopy = join(mkdtempSync(join(tmpdir(), 'cerememory-bench-pieces-')), table);
      copyFileSync(join(dataDir, 'embedding', table), pieceTableCopy);
    }
  }
  const report = await runtime.embedding();
  const row = {
    configuration: variant.name,
    records: size,
    embedder: report.embedder,
    query_vectors: report.query_vectors,
    static_query_table: staticQueries ? (pieceTableCopied ? 'copied from an earlier data directory' : 'distilled in this row') : 'none',
    load_s: round(loadSeconds, 2),
    load_records_per_s: round(size / loadSeconds, 0),
    ...(settle.settled
      ? {
          // From the last acknowledged batch until no vector backlog, no pending link (and static cues).
          vectors_settle_after_load_s: round(settleSeconds, 2),
          // From the first batch until every vector is indexed: the rate at which vectors follow writes.
          vectors_indexed_s: round(loadSeconds + settleSeconds, 2),
          vectors_records_per_s: round(size / (loadSeconds + settleSeconds), 0),
        }
      : {
          // --settle-until passed first: NOT settled; latencies below are of a server still embedding.
          settled: false,
          waited_after_load_s: round(settleSeconds, 2),
          remaining_at_deadline: settle.remaining,
          vectors_records_per_s_so_far: round((size - ((settle.remaining as { vector_backlog: number }).vector_backlog ?? 0)) / (loadSeconds + settleSeconds), 0),
        }),
    load_average_1m: { at_start: loadAtStart, after_load: loadAfterLoad, settled: load1() },
    rss_at_start_mib: rssAtStart,
    peak_rss_load_mib: rss.stop(),
  };
  progress(JSON.stringify(row));
  if (kept !== undefined && settle.settled) {
    // Closed for a consistent copy, then started again on it (not timed) before the queries.
    await runtime.close();
    rmSync(kept, { recursive: true, force: true });
    cpSync(dataDir, kept, { recursive: true });
    const loaded = { ...row, date: new Date().toISOString() };
    writeFileSync(join(kept, MARKER), JSON.stringify({ records: size, corpus_seed: CORPUS_SEED, stores: STORES, flags: variant.flags, loaded } satisfies CorpusMarker, null, 2));
    progress(`kept the corpus in ${kept}`);
    runtime = await startRuntime(server, config, progress);
    await settled(runtime, staticQueries, progress);
  }
  return { variant, config, dataDir, staticQueries, runtime, row };
}

function startRuntime(server: CompiledServer, config: CerememoryConfig, progress: (line: string) => void): Promise<Runtime> {
  return server.runtime.startRuntime(config, { log: (line) => (line.startsWith('embedding:') ? progress(line) : undefined) });
}

/** Restarts a row on its data directory: until started, until the first recall is answered, until static cues. */
async function coldStart(server: CompiledServer, loaded: Loaded, progress: (line: string) => void) {
  const started = performance.now();
  const runtime = await startRuntime(server, loaded.config, progress);
  const startedSeconds = (performance.now() - started) / 1000;
  await queryLatencies(server, runtime, zipfQueries(1, 7), false);
  const firstAnswerSeconds = (performance.now() - started) / 1000;
  let staticSeconds: number | null = null;
  if (loaded.staticQueries) {
    while ((await runtime.embedding()).query_vectors !== 'static' && performance.now() - started < 120_000) await sleep(20);
    if ((await runtime.embedding()).query_vectors === 'static') staticSeconds = round((performance.now() - started) / 1000, 2);
  }
  return { runtime, startedSeconds, firstAnswerSeconds, staticSeconds };
}

const bench: Bench = {
  description:
    'recall.query latency, vectors indexed, cold start and RSS, default (local model) vs lexical embedder (options: --sizes 10000,100000 --queries 500 --piece-table PATH --settle-until ISO-TIME --data-dir DIR: keep and reuse loaded corpora)',
  resultName(args) {
    const sizes = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : undefined;
    return sizes === undefined || sizes === '10000,100000' ? 'recall' : `recall-${sizes.replaceAll(',', '-')}`;
  },
  async run(args, progress) {
    const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
    const sizes = (option('--sizes') ?? '10000,100000')
      .split(',')
      .map(Number)
      .filter((n) => n > 0);
    const queries = Number(option('--queries')) || 500;
    keptDataDir = option('--data-dir');
    const until = option('--settle-until');
    if (until) settleUntil = Date.parse(until);
    // --piece-table PATH: a static query table distilled by an earlier run (the worker checks its model
    // fingerprint and distils anew if it does not match).
    pieceTableCopy = option('--piece-table');
    const server = await compiledServer(progress);
    const results = [];
    for (const size of sizes) {
      const rows: Loaded[] = [];
      try {
        for (const variant of VARIANTS) rows.push(await loadRow(server, variant, size, progress));
        const runtimes = rows.map((row) => row.runtime);
        const loadBeforeQueries = load1();
        const rss = rssSampler();
        await alternating(server, runtimes, BLOCK, 5, false); // warm-up
        const plain = await alternating(server, runtimes, queries, queries, false);
        const reconsolidating = await alternating(server, runtimes, queries, queries + 1, true);
        const queryPeak = rss.stop();
        const loadAfterQueries = load1();
        for (const [index, row] of rows.entries()) {
          Object.assign(row.row, {
            recall_ms: percentiles(plain[index]),
            recall_reconsolidating_ms: percentiles(reconsolidating[index]),
            recall_load_average_1m: { before: loadBeforeQueries, after: loadAfterQueries },
          });
        }
        // Both rows are open while queried: this peak is of the two together.
        const bothOpenPeak = queryPeak;
        for (const row of rows) await row.runtime.close();
        // Cold starts, one row after the other; queries after restart in alternating blocks.
        const restarted = [];
        for (const row of rows) {
          const cold = await coldStart(server, row, progress);
          row.runtime = cold.runtime;
          restarted.push(cold);
        }
        const afterRestart = await alternating(
          server,
          rows.map((row) => row.runtime),
          Math.min(queries, 200),
          3,
          false,
        );
        for (const [index, row] of rows.entries()) {
          const cold = restarted[index];
          Object.assign(row.row, {
            cold_start_s: round(cold.firstAnswerSeconds, 2),
            cold_start_runtime_started_s: round(cold.startedSeconds, 2),
            cold_start_static_query_vectors_s: cold.staticSeconds,
            recall_after_restart_ms: percentiles(afterRestart[index]),
            peak_rss_both_rows_open_mib: bothOpenPeak,
          });
          progress(JSON.stringify(row.row));
          results.push(row.row);
        }
      } finally {
        for (const row of rows) {
          await row.runtime.close().catch(() => undefined);
          rmSync(row.dataDir, { recursive: true, force: true });
        }
      }
    }
    return {
      queries,
      command: `npm run bench -- recall ${args.join(' ')}`,
      query_blocks: `${BLOCK} queries per row in turn, who goes first alternating; ${BLOCK} warm-up queries each`,
      server: 'compiled (dist/), as npm start runs it; in-process (runtime.hippocampus.recallQuery)',
      cue: 'text, 2–3 words',
      limit: 10,
      activation_depth: 2,
      stores: 'episodic 40%, semantic 30%, procedural 10%, emotional 20%',
      cold_start: 'restart on the same data directory until the first recall is answered (cold_start_s); runtime started; static query vectors in use',
      rss: 'process RSS (store and embedding workers are its threads); peak_rss_load_mib while the row loads and settles (rows load one after the other in one process, so a later row starts from rss_at_start_mib); the query phase has both rows open',
      results,
    };
  },
};

export default bench;
