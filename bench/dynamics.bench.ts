import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConsolidate, parseDreamTick, parseEncodeBatch, parseEncodeBatchRaw, parseRecallQuery } from '../src/cmp/requests.js';
import { loadConfig } from '../src/runtime/config/index.js';
import { startRuntime, type Runtime } from '../src/runtime/runtime.js';
import { zipfQueries, zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// Living dynamics at scale: a decay tick over N records (default 100,000, mixed stores), recall latency
// alone and while a tick runs, then consolidation (episodic → semantic) and dream (raw journal →
// summaries) throughput.

const STORES = ['episodic', 'episodic', 'episodic', 'episodic', 'semantic', 'semantic', 'semantic', 'procedural', 'emotional', 'emotional'] as const;

async function recalls(runtime: Runtime, cues: string[], until?: Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void until?.then(() => (done = true));
  for (const cue of cues) {
    if (until && done) break;
    const t0 = performance.now();
    await runtime.hippocampus.recallQuery(parseRecallQuery({ cue: { text: cue }, limit: 10, reconsolidate: false }));
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

const bench: Bench = {
  description: 'decay tick, recall during a tick, consolidation and dream throughput (options: --records N)',
  async run(args, progress) {
    const total = Number(args[args.indexOf('--records') + 1]) || 100_000;
    const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-dynamics-'));
    const config = loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir, decay: { background_enabled: false }, dream: { background_enabled: false } } });
    const runtime = await startRuntime(config, { log: () => undefined });
    const rss = rssSampler();
    try {
      const texts = zipfSentences(total, 13);
      for (let offset = 0; offset < total; offset += 100) {
        await runtime.hippocampus.encodeBatch(
          parseEncodeBatch({
            records: texts.slice(offset, offset + 100).map((text, index) => ({
              store: STORES[(offset + index) % STORES.length],
              content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] },
            })),
          }),
        );
        if ((offset + 100) % 20_000 === 0) progress(`loaded ${offset + 100} records`);
      }
      const cues = zipfQueries(2000, 21);
      const alone = await recalls(runtime, cues.slice(0, 300));

      // The tick alone, then recall latency while ticks run (recalls back to back, so each tick shares the
      // two cores with them and takes longer than alone). A tick lasts a second or two, too short for a
      // p99 of the recalls inside one, so ticks follow each other until 200 recalls ran during them.
      const tickStarted = performance.now();
      const tickResult = await runtime.hippocampus.decayTick({ space: 'default', tick_duration_seconds: 3600 });
      const tickSeconds = (performance.now() - tickStarted) / 1000;
      progress(`decay tick: ${round(tickSeconds, 2)} s for ${tickResult.records_updated} records`);
      const during: number[] = [];
      const contended: number[] = [];
      const duringCues = cues.slice(300);
      for (let next = 0; during.length < 200 && contended.length < 20; ) {
        const started = performance.now();
        const tick = runtime.hippocampus.decayTick({ space: 'default', tick_duration_seconds: 3600 });
        const rotated = [...duringCues.slice(next), ...duringCues.slice(0, next)];
        const latencies = await recalls(runtime, rotated, tick);
        await tick;
        contended.push((performance.now() - started) / 1000);
        during.push(...latencies);
        next = (next + latencies.length) % duringCues.length;
      }
      const contendedSeconds = percentiles(contended, [50]).p50!;

      const consolidationStarted = performance.now();
      const consolidation = await runtime.hippocampus.consolidate(parseConsolidate({ strategy: 'full' }));
      const consolidationSeconds = (performance.now() - consolidationStarted) / 1000;
      progress(`consolidation: ${round(consolidationSeconds, 2)} s for ${consolidation.records_processed} episodic records`);

      const rawCount = Math.min(10_000, total);
      const rawTexts = zipfSentences(rawCount, 17);
      for (let offset = 0; offset < rawCount; offset += 500) {
        await runtime.hippocampus.encodeBatchRaw(
          parseEncodeBatchRaw({
            records: rawTexts.slice(offset, offset + 500).map((text, index) => ({
              session_id: `session-${Math.floor((offset + index) / 20)}`,
              topic_id: `topic-${Math.floor((offset + index) / 20)}`,
              source: 'conversation',
              speaker: 'user',
              visibility: 'normal',
              secrecy_level: 'public',
              content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] },
            })),
          }),
        );
      }
      const dreamStarted = performance.now();
      const dream = await runtime.hippocampus.dreamTick(parseDreamTick({ max_groups: 10_000 }));
      const dreamSeconds = (performance.now() - dreamStarted) / 1000;
      progress(`dream: ${round(dreamSeconds, 2)} s for ${dream.raw_records_processed} raw records`);

      return {
        records: total,
        stores: 'episodic 40%, semantic 30%, procedural 10%, emotional 20%',
        decay_tick: {
          seconds: round(tickSeconds, 2),
          records_updated: tickResult.records_updated,
          records_per_s: round(tickResult.records_updated / tickSeconds, 0),
          seconds_with_recalls_running: round(contendedSeconds, 2),
          ticks_with_recalls_running: contended.length,
        },
        recall_ms_alone: percentiles(alone),
        recall_ms_during_tick: { ...percentiles(during), samples: during.length },
        consolidation: {
          seconds: round(consolidationSeconds, 2),
          ...consolidation,
          records_per_s: round(consolidation.records_processed / consolidationSeconds, 0),
        },
        dream: { seconds: round(dreamSeconds, 2), ...dream, raw_records_per_s: round(dream.raw_records_processed / dreamSeconds, 0) },
        peak_rss_mib: rss.stop(),
      };
    } finally {
      rss.stop();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};

export default bench;
