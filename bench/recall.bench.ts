import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../src/runtime/runtime.js';
import { compiledServer, type CompiledServer } from './compiled.js';
import { zipfQueries, zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// recall.query latency with a text cue over a mixed-store corpus (depth 2, limit 10), at each size in
// --sizes (default 10,000 and 100,000): index build time (loading the corpus, vectors included), query
// latency percentiles with and without reconsolidation, cold-start time of a restart on the same data
// directory, and peak RSS. The corpus and the 2–3 word queries follow Zipf word frequencies (corpus.ts).
// The server runs compiled, as `npm start` runs it (compiled.ts).

const STORES = ['episodic', 'episodic', 'episodic', 'episodic', 'semantic', 'semantic', 'semantic', 'procedural', 'emotional', 'emotional'] as const;

async function load({ requests }: CompiledServer, runtime: Runtime, total: number, progress: (line: string) => void): Promise<number> {
  const texts = zipfSentences(total, 11);
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

async function queryLatencies({ requests }: CompiledServer, runtime: Runtime, count: number, reconsolidate: boolean): Promise<number[]> {
  const cues = zipfQueries(count, count + (reconsolidate ? 1 : 0));
  const latencies: number[] = [];
  for (const cue of cues) {
    const request = requests.parseRecallQuery({ cue: { text: cue }, limit: 10, activation_depth: 2, reconsolidate });
    const t0 = performance.now();
    await runtime.hippocampus.recallQuery(request);
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

const bench: Bench = {
  description: 'recall.query latency, index build and cold start (options: --sizes 10000,100000 --queries 500)',
  async run(args, progress) {
    const sizes = (args[args.indexOf('--sizes') + 1] ?? '10000,100000').split(',').map(Number).filter((n) => n > 0);
    const queries = Number(args[args.indexOf('--queries') + 1]) || 500;
    const server = await compiledServer(progress);
    const { startRuntime } = server.runtime;
    const results = [];
    for (const size of sizes) {
      const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-recall-'));
      const config = server.config.loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir } });
      const rss = rssSampler();
      try {
        let runtime = await startRuntime(config, { log: () => undefined });
        progress(`${size} records: loading`);
        const buildSeconds = await load(server, runtime, size, progress);
        await queryLatencies(server, runtime, 50, false); // warm-up
        const plain = await queryLatencies(server, runtime, queries, false);
        const reconsolidating = await queryLatencies(server, runtime, queries, true);
        await runtime.close();
        const coldStarted = performance.now();
        runtime = await startRuntime(config, { log: (line) => progress(line) });
        const coldStartSeconds = (performance.now() - coldStarted) / 1000;
        const afterRestart = await queryLatencies(server, runtime, Math.min(queries, 200), false);
        await runtime.close();
        const row = {
          records: size,
          index_build_s: round(buildSeconds, 2),
          index_build_records_per_s: round(size / buildSeconds, 0),
          recall_ms: percentiles(plain),
          recall_reconsolidating_ms: percentiles(reconsolidating),
          recall_after_restart_ms: percentiles(afterRestart),
          cold_start_s: round(coldStartSeconds, 2),
          peak_rss_mib: rss.stop(),
        };
        progress(JSON.stringify(row));
        results.push(row);
      } finally {
        rss.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    return { queries, server: 'compiled (dist/), as npm start runs it', cue: 'text, 2–3 words', limit: 10, activation_depth: 2, stores: 'episodic 40%, semantic 30%, procedural 10%, emotional 20%', results };
  },
};

export default bench;
