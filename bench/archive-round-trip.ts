import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { stageArchive } from '../src/archive/index.js';
import { textBlock } from '../src/cmp/content.js';
import { neutralEmotion } from '../src/cmp/emotion.js';
import { derivedId, toTimestamp } from '../src/cmp/ids.js';
import { unavailableMeta } from '../src/cmp/meta.js';
import { defaultFidelity } from '../src/cmp/records.js';
import { PERSISTENT_STORES, type MemoryRecord } from '../src/cmp/types.js';
import { HOLDER_FILE } from '../src/runtime/data-dir-lock.js';
import { zipfSentences } from './corpus.js';
import { round } from './stats.js';

// A CMA round trip as a user runs it, with the server in a process of its own so its memory can be
// watched (the bench runs the compiled server, as `npm start` does; from source, tsx in the main thread
// and in each of the five store workers adds ~140 MiB): an archive of N records is imported into a fresh server with `cerememory import` (Connect
// client streaming), exported again with `cerememory export`, and that export is imported into a second
// fresh server and exported once more; counts and checksums must agree. The server's resident set is
// sampled from /proc throughout. The archive streams through a staging file, so what an import adds is
// the memory of the records it stores (measured after a restart) plus garbage the heaps have not handed
// back yet, not the archive; an export, or an import of records the server already holds, adds little.

const ROOT = join(import.meta.dirname, '..');
/** `cerememory` from source; the bench passes the compiled one (`buildDist`), which is what `npm start` runs. */
const SOURCE_CLI = ['--import', 'tsx', join(ROOT, 'src/main.ts')];
const T0 = Date.parse('2026-04-28T12:00:00.000Z');

/** The server's current resident set in MiB, or null where /proc is not there. */
function rssMiB(pid: number): number | null {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024, 1) : null;
  } catch {
    return null;
  }
}

/** N records over the four persistent stores, texts from the Zipf corpus. */
async function* syntheticRecords(total: number): AsyncIterable<MemoryRecord[]> {
  const texts = zipfSentences(total, 11);
  for (let offset = 0; offset < total; offset += 1000) {
    yield texts.slice(offset, offset + 1000).map((text, index) => {
      const at = toTimestamp(T0 + (offset + index) * 1000);
      return {
        id: derivedId(T0, 'bench', 'round-trip', offset + index),
        space: 'default',
        store: PERSISTENT_STORES[(offset + index) % 4],
        created_at: at,
        updated_at: at,
        last_accessed_at: at,
        access_count: 0,
        content: { blocks: [textBlock(text)], summary: null },
        fidelity: defaultFidelity(at, { decay_rate: 0.3, stability: 86_400 }),
        emotion: neutralEmotion(),
        associations: [],
        metadata: {},
        version: 1,
        meta: unavailableMeta('encode.store', at),
      };
    });
  }
}

interface RunningServer {
  cli: string[];
  url: string;
  pid: number;
  stop(): Promise<void>;
}

async function startServer(cli: string[], dataDir: string): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, [...cli, '--data-dir', dataDir, 'serve', '--port', '0'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CEREMEMORY_EMBEDDING__PROVIDER: 'none' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let waited = 0; waited < 60_000; waited += 100) {
    try {
      const lock = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as { pid: number; url?: string };
      if (lock.pid === child.pid && lock.url) {
        return { cli, url: lock.url, pid: child.pid, stop: async () => void (child.kill('SIGTERM'), await exited) };
      }
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`the server on ${dataDir} did not start within 60 s`);
}

/** Runs a `cerememory` command against `url` while sampling the server's RSS; its JSON answer and the peak. */
async function cerememory(server: RunningServer, args: string[]): Promise<{ answer: Record<string, unknown>; seconds: number; peak_rss_mib: number | null }> {
  let peak = rssMiB(server.pid);
  const timer = setInterval(() => {
    const now = rssMiB(server.pid);
    if (now !== null) peak = Math.max(peak ?? 0, now);
  }, 25);
  const started = performance.now();
  try {
    const child = spawn(process.execPath, [...server.cli, '--server-url', server.url, '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`cerememory ${args.join(' ')} failed (${String(code)}): ${stderr.slice(-500)}`);
    return { answer: JSON.parse(stdout) as Record<string, unknown>, seconds: round((performance.now() - started) / 1000, 2), peak_rss_mib: peak };
  } finally {
    clearInterval(timer);
  }
}

interface StepReport {
  seconds: number;
  records_imported?: unknown;
  rss_before_mib: number | null;
  peak_rss_mib: number | null;
  /** peak − before */
  growth_mib: number | null;
}

/** A command's time and the server's memory around it. */
function stepOf(before: number | null, run: Awaited<ReturnType<typeof cerememory>>, imported = false): StepReport {
  const { seconds, peak_rss_mib: peak } = run;
  return {
    seconds,
    ...(imported ? { records_imported: run.answer.records_imported } : {}),
    rss_before_mib: before,
    peak_rss_mib: peak,
    growth_mib: before === null || peak === null ? null : round(peak - before, 1),
  };
}

export async function archiveRoundTrip(records: number, progress: (line: string) => void = () => undefined, cli = SOURCE_CLI) {
  const root = mkdtempSync(join(tmpdir(), 'cerememory-bench-round-trip-'));
  try {
    const original = join(root, 'original.cma');
    const staged = await stageArchive({ curated: syntheticRecords(records) }, { timestamp: toTimestamp(T0), tempDir: root });
    const out = createWriteStream(original);
    await staged.writeTo(out);
    await finished(out);
    await staged.discard();
    const archiveMiB = round(statSync(original).size / 2 ** 20, 1);
    progress(`round trip: ${records} records, archive ${archiveMiB} MiB`);

    const first = await startServer(cli, join(root, 'first'));
    let firstExport: Awaited<ReturnType<typeof cerememory>>;
    let reimport: Awaited<ReturnType<typeof cerememory>>;
    let importFresh: StepReport;
    let exportStep: StepReport;
    let importHeld: StepReport;
    try {
      const idle = rssMiB(first.pid);
      const imported = await cerememory(first, ['import', original]);
      importFresh = stepOf(idle, imported, true);
      progress(`round trip: import into a fresh server ${imported.seconds} s`);
      const exportedFile = join(root, 'exported.cma');
      const beforeExport = rssMiB(first.pid);
      firstExport = await cerememory(first, ['export', '--output', exportedFile]);
      exportStep = stepOf(beforeExport, firstExport);
      progress(`round trip: export ${firstExport.seconds} s`);
      const beforeReimport = rssMiB(first.pid);
      reimport = await cerememory(first, ['import', exportedFile, '--conflict-resolution', 'keep_existing']);
      importHeld = stepOf(beforeReimport, reimport, true);
    } finally {
      await first.stop();
    }
    // What the records themselves cost: the same server restarted on the imported data.
    const restarted = await startServer(cli, join(root, 'first'));
    let steadyWithRecords: number | null;
    try {
      await fetch(`${restarted.url}/v1/recall/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"cue":{"text":"lake"}}' });
      steadyWithRecords = rssMiB(restarted.pid);
    } finally {
      await restarted.stop();
    }

    const second = await startServer(cli, join(root, 'second'));
    let secondExport: Awaited<ReturnType<typeof cerememory>>;
    try {
      await cerememory(second, ['import', join(root, 'exported.cma')]);
      secondExport = await cerememory(second, ['export', '--output', join(root, 'again.cma')]);
    } finally {
      await second.stop();
    }
    return {
      records,
      archive_mib: archiveMiB,
      record_count: { first_export: firstExport.answer.record_count, second_export: secondExport.answer.record_count },
      checksum_equal: firstExport.answer.checksum === secondExport.answer.checksum,
      reimport_of_held_records: reimport.answer.records_imported,
      steady_rss_with_records_mib: steadyWithRecords,
      import_fresh: importFresh,
      export: exportStep,
      import_held: importHeld,
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
