import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEncodeBatch, parseExport, parseImport } from '../src/cmp/requests.js';
import { PERSISTENT_STORES } from '../src/cmp/types.js';
import { loadConfig } from '../src/runtime/config/index.js';
import { startRuntime, type Runtime } from '../src/runtime/runtime.js';
import { archiveRoundTrip } from './archive-round-trip.js';
import { buildDist } from './compiled.js';
import { zipfSentences } from './corpus.js';
import type { Bench } from './run.js';
import { round, rssSampler } from './stats.js';

// lifecycle.export / lifecycle.import throughput (spec §3.16, §3.17) through the hippocampus, as the
// streaming transports call it: export into a file, import from a file into a fresh data directory.
// Plain and encrypted (Argon2id at 64 MiB, then ChaCha20-Poly1305), at 10,000 and 100,000 records of
// the four persistent stores. Peak RSS (the store workers are threads of this process) is reported
// beside the archive's size: the archive never sits whole in memory, so RSS should not grow with it.
// The server round trip (archive-round-trip.ts) then measures the same with the server in its own process.

const KEY = 'bench passphrase';

const bench: Bench = {
  description:
    'export/import of N records, plain and encrypted, then a round trip through server processes ' +
    '(options: --records N[,N…], --embedding none|local, --round-trip N (default the largest N, 0 skips))',
  async run(args, progress) {
    const sizes = (args.includes('--records') ? args[args.indexOf('--records') + 1] : '10000,100000').split(',').map(Number);
    const embedding = (args.includes('--embedding') ? args[args.indexOf('--embedding') + 1] : 'none') as 'none' | 'local';
    const roundTrip = args.includes('--round-trip') ? Number(args[args.indexOf('--round-trip') + 1]) : Math.max(...sizes);
    const rows = [];
    for (const records of sizes) rows.push(await archiveRun(records, embedding, progress));
    return { embedding, rows, ...(roundTrip > 0 ? { server_round_trip: await archiveRoundTrip(roundTrip, progress, buildDist(progress)) } : {}) };
  },
};

function runtimeOn(dataDir: string, embedding: 'none' | 'local'): Promise<Runtime> {
  return startRuntime(loadConfig({ env: {}, cwd: dataDir, flags: { data_dir: dataDir, embedding: { provider: embedding } } }), { log: () => undefined });
}

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peak_rss_mib: number; rss_before_mib: number }> {
  const rss_before_mib = round(process.memoryUsage.rss() / 2 ** 20, 1);
  const rss = rssSampler(20);
  const started = performance.now();
  const result = await work();
  return { result, seconds: (performance.now() - started) / 1000, peak_rss_mib: rss.stop(), rss_before_mib };
}

async function archiveRun(total: number, embedding: 'none' | 'local', progress: (line: string) => void) {
  const root = mkdtempSync(join(tmpdir(), 'cerememory-bench-archive-'));
  try {
    const source = await runtimeOn(join(root, 'source'), embedding);
    const texts = zipfSentences(total, 11);
    try {
      progress(`encoding ${total} records`);
      for (let offset = 0; offset < total; offset += 1000) {
        for (const [index, store] of PERSISTENT_STORES.entries()) {
          const slice = texts.slice(offset + index * 250, offset + (index + 1) * 250);
          if (slice.length === 0) continue;
          await source.hippocampus.encodeBatch(
            parseEncodeBatch({
              records: slice.map((text) => ({ store, content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text).toString('base64') }] } })),
            }),
          );
        }
      }
      const variants = [];
      for (const encrypted of [false, true]) {
        const file = join(root, encrypted ? 'encrypted.cma' : 'plain.cma');
        const exported = await timed(() => source.hippocampus.exportArchive(parseExport(encrypted ? { encrypt: true, encryption_key: KEY } : {}), createWriteStream(file)));
        const size = statSync(file).size;
        progress(`${total} ${encrypted ? 'encrypted' : 'plain'}: export ${round(exported.seconds, 2)} s, ${round(size / 2 ** 20, 1)} MiB`);
        const target = await runtimeOn(join(root, encrypted ? 'target-encrypted' : 'target-plain'), embedding);
        let imported;
        try {
          const { request } = parseImport({ archive_id: 'bench', ...(encrypted ? { decryption_key: KEY } : {}) });
          imported = await timed(() => target.hippocampus.importArchive(request, createReadStream(file)));
        } finally {
          await target.close();
        }
        progress(`${total} ${encrypted ? 'encrypted' : 'plain'}: import ${round(imported.seconds, 2)} s`);
        variants.push({
          encrypted,
          archive_mib: round(size / 2 ** 20, 1),
          export: {
            records_per_s: round(total / exported.seconds, 0),
            seconds: round(exported.seconds, 2),
            rss_before_mib: exported.rss_before_mib,
            peak_rss_mib: exported.peak_rss_mib,
          },
          import: {
            records_imported: imported.result.records_imported,
            records_per_s: round(total / imported.seconds, 0),
            seconds: round(imported.seconds, 2),
            rss_before_mib: imported.rss_before_mib,
            peak_rss_mib: imported.peak_rss_mib,
          },
        });
      }
      return { records: total, variants };
    } finally {
      await source.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export default bench;
