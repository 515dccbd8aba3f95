import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEncodeBatch } from '../src/cmp/requests.js';
import { loadConfig } from '../src/runtime/config/index.js';
import { startRuntime } from '../src/runtime/runtime.js';
import { zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { percentiles, round, rssSampler } from './stats.js';

// encode.batch throughput: 100-record batches into one store (episodic), up to N records (default
// 100,000), through the hippocampus as every transport calls it, once without vectors
// (`embedding.provider = "none"`: BM25 only) and once with the default local embedder (every record
// embedded, linked to similar ones and put in the HNSW index). Reports records/s per checkpoint, batch
// latency percentiles and peak RSS of the process (the store workers are threads of it). Request
// decoding and validation (src/cmp/requests.ts) is done before the clock starts and reported apart.

const bench: Bench = {
  description: 'encode.batch of 100-record batches into one store, without and with vectors (options: --records N, --no-sync, --embedding none|local, --encrypt: encryption at rest on)',
  async run(args, progress) {
    const total = Number(args[args.indexOf('--records') + 1]) || 100_000;
    const syncWrites = !args.includes('--no-sync');
    const encrypt = args.includes('--encrypt');
    const rows = [];
    const only = args.includes('--embedding') ? args[args.indexOf('--embedding') + 1] : null;
    for (const embedding of (['none', 'local'] as const).filter((variant) => only === null || variant === only)) {
      progress(`embedding ${embedding}`);
      rows.push(await encodeRun(total, syncWrites, embedding, encrypt, progress));
    }
    return { records: total, batch_size: 100, store: 'episodic', sync_writes: syncWrites, encryption_at_rest: encrypt, rows };
  },
};

async function encodeRun(total: number, syncWrites: boolean, embedding: 'none' | 'local', encrypt: boolean, progress: (line: string) => void) {
  const batchSize = 100;
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-bench-encode-'));
  const config = loadConfig({ env: {}, cwd: dataDir, flags: {
    data_dir: dataDir, runtime: { sync_writes: syncWrites }, embedding: { provider: embedding },
    ...(encrypt ? { security: { store_encryption_passphrase: 'bench passphrase' } } : {}),
  } });
  const runtime = await startRuntime(config, { log: () => undefined });
  const texts = zipfSentences(total, 7);
  // Requests are decoded and validated first, as a transport would, and timed apart: the figure is the
  // CMP operation itself; transport costs are the transport bench's.
  const parseStarted = performance.now();
  const requests = [];
  for (let offset = 0; offset < total; offset += batchSize) {
    requests.push(parseEncodeBatch({
      records: texts.slice(offset, offset + batchSize).map((text) => ({
        store: 'episodic',
        content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] },
      })),
    }));
  }
  const parseMicrosPerRecord = ((performance.now() - parseStarted) * 1000) / total;
  const rss = rssSampler();
  const latencies: number[] = [];
  const checkpoints: { records: number; records_per_s: number; elapsed_s: number }[] = [];
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  let windowStart = started;
  let windowRecords = 0;
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
        checkpoints.push({ records: done, records_per_s: round(windowRecords / ((now - windowStart) / 1000), 0), elapsed_s: round((now - started) / 1000, 2) });
        progress(`${done} records, ${checkpoints.at(-1)!.records_per_s} records/s in the last window`);
        windowStart = now;
        windowRecords = 0;
      }
    }
  } finally {
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStarted);
  return {
    embedding,
    records_per_s: round(total / elapsed, 0),
    elapsed_s: round(elapsed, 2),
    request_parse_us_per_record: round(parseMicrosPerRecord, 1),
    // CPU time of all the process's threads (main and store workers) per record: steadier than
    // records/s on a shared machine, where other work steals cores.
    cpu_us_per_record: round((cpu.user + cpu.system) / total, 1),
    batch_latency_ms: percentiles(latencies),
    peak_rss_mib: rss.stop(),
    checkpoints,
  };
}

export default bench;
