import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportMarkers, checkIntegrity, type IntegrityReport } from './chaos/integrity.js';
import { LoadGenerator, type ConnectFactory } from './chaos/load.js';
import { prng } from './corpus.js';
import { freePort, ServerProcess, sleep } from './chaos/process.js';
import { buildDist } from './compiled.js';
import type { Bench } from './run.js';
import { percentiles, round } from './stats.js';

// `npm run bench -- chaos`: the compiled server as a child process (bench/chaos/server.mjs) under a
// bounded load of mixed clients (bench/chaos/load.ts), with faults:
//   1. server kills: kill -9 of the server process at seeded random moments while requests are in
//      flight, restarted at once on the same data directory (restart = spawn → /readiness 200);
//   2. worker kills: one store worker at a time ends as a crash would (SIGUSR2 hook of the child),
//      supervision restarts it (worker restart = kill → /readiness 200 again);
//   3. disk full (root only): the data directory on a 48 MiB tmpfs, written until writes are refused;
//      SIGTERM, the tmpfs grown to 256 MiB, a restart.
// Each round ends with a clean restart and the integrity checker (bench/chaos/integrity.ts): every
// acknowledged record present exactly once, nothing refused stored, nothing forgotten back.
// Benchmarks measure, they do not assert: violations are reported in the JSON (and the progress lines).

export interface ChaosOptions {
  serverKills: number;
  workerKills: number;
  seed: number;
  disk: boolean;
  concurrency: number;
}

type Progress = (line: string) => void;

interface Context {
  options: ChaosOptions;
  connect: ConnectFactory;
  progress: Progress;
}

const ms = (value: number) => Math.round(value);
const timing = (samples: number[]) => {
  const { p50, p95 } = percentiles(samples, [50, 95]);
  return { p50: ms(p50!), p95: ms(p95!), max: ms(Math.max(...samples)), n: samples.length };
};

/** The load figures and the integrity check of one round. */
function loadReport(load: LoadGenerator, integrity: IntegrityReport | undefined) {
  const ledger = load.ledger;
  return {
    load_seconds: round(load.seconds, 1),
    requests: ledger.requests,
    records_acknowledged: ledger.recordsAcked,
    writes_per_second: round(ledger.recordsAcked / load.seconds, 1),
    retry_attempts: ledger.retries,
    errors_seen: ledger.errors,
    anomalies: ledger.anomalies,
    integrity,
  };
}

function summary(integrity: IntegrityReport | undefined): string {
  if (!integrity) return 'no integrity check';
  const i = integrity;
  return `acknowledged ${i.acknowledged}, refused ${i.refused}, retried ${i.retried}, forgotten ${i.forgotten}; lost ${i.lost}, duplicated ${i.duplicated}, id mismatch ${i.id_mismatch}, resurrected ${i.resurrected}, refused present ${i.refused_present}`;
}

/** A clean restart, then the export and the check: the round's load figures, integrity and shutdown. */
async function restartAndCheck(server: ServerProcess, load: LoadGenerator, progress: Progress) {
  const stop = await server.terminate();
  const { server: fresh, ready_ms } = await ServerProcess.start(server.dataDir, server.port);
  try {
    const found = await exportMarkers(fresh.url);
    const integrity = checkIntegrity(load.ledger, found);
    progress(`integrity after a clean restart (${ms(ready_ms)} ms, export ${found.export_ms} ms, ${found.curated + found.raw} records): ${summary(integrity)}`);
    return {
      ...loadReport(load, integrity),
      clean_shutdown: { clean: stop.clean, exit: stop.exit, ms: ms(stop.ms) },
      check_restart_ms: ms(ready_ms),
    };
  } finally {
    await fresh.terminate();
  }
}

/** Whatever way a kill round ends: the load stopped, its server gone, its data directory removed. */
async function endRound(load: LoadGenerator, server: ServerProcess, dataDir: string): Promise<void> {
  await load.stop();
  if (server.alive) await server.kill9();
  rmSync(dataDir, { recursive: true, force: true });
}

async function serverKillRound({ options, connect, progress }: Context) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-chaos-kill-'));
  const random = prng(options.seed);
  const port = await freePort();
  const restarts: number[] = [];
  const kills: { at_s: number; in_flight: number; exit: unknown }[] = [];
  const restartFailures: unknown[] = [];
  let started = await ServerProcess.start(dataDir, port);
  let server = started.server;
  const firstStart = ms(started.ready_ms);
  progress(`server kills: first start ${firstStart} ms (${dataDir})`);
  const load = new LoadGenerator({ url: server.url, connect, seed: options.seed, round: 'sk', concurrency: options.concurrency });
  const roundStarted = performance.now();
  load.start();
  try {
    for (let kill = 1; kill <= options.serverKills; kill++) {
      await sleep(800 + random() * 2400);
      const inFlight = load.inFlight;
      const exit = await server.kill9();
      kills.push({ at_s: round((performance.now() - roundStarted) / 1000, 1), in_flight: inFlight, exit });
      for (let attempt = 1; ; attempt++) {
        try {
          started = await ServerProcess.start(dataDir, port);
          break;
        } catch (error) {
          restartFailures.push({ kill, attempt, error: (error as Error).message });
          progress(`  restart after kill ${kill} FAILED (attempt ${attempt}): ${(error as Error).message}`);
          if (attempt === 3) throw error;
        }
      }
      server = started.server;
      restarts.push(started.ready_ms);
      progress(
        `server kill ${kill}/${options.serverKills}: ${inFlight} requests in flight; restart ${ms(started.ready_ms)} ms; ${load.ledger.recordsAcked} records acknowledged, ${load.ledger.retries} retries`,
      );
    }
    await sleep(1000);
    await load.stop();
    const check = await restartAndCheck(server, load, progress);
    return {
      kills: kills.length,
      kills_with_requests_in_flight: kills.filter((k) => k.in_flight > 0).length,
      first_start_ms: firstStart,
      restart_ms: timing(restarts),
      restart_failures: restartFailures,
      kill_log: kills,
      ...check,
    };
  } finally {
    await endRound(load, server, dataDir);
  }
}

async function workerKillRound({ options, connect, progress }: Context) {
  const dataDir = mkdtempSync(join(tmpdir(), 'cerememory-chaos-worker-'));
  const random = prng(options.seed + 7);
  const port = await freePort();
  const { server } = await ServerProcess.start(dataDir, port);
  const load = new LoadGenerator({ url: server.url, connect, seed: options.seed + 7, round: 'wk', concurrency: options.concurrency });
  const restarts: number[] = [];
  const kills: { store: string; in_flight: number; restart_ms: number }[] = [];
  load.start();
  try {
    for (let kill = 1; kill <= options.workerKills; kill++) {
      await sleep(600 + random() * 1800);
      const inFlight = load.inFlight;
      const store = await server.killWorker();
      const killed = performance.now();
      await server.waitReady(60_000);
      const restart = performance.now() - killed;
      restarts.push(restart);
      kills.push({ store, in_flight: inFlight, restart_ms: ms(restart) });
      progress(
        `worker kill ${kill}/${options.workerKills}: ${store}, ${inFlight} requests in flight; ready again after ${ms(restart)} ms; ${load.ledger.recordsAcked} records acknowledged, ${load.ledger.retries} retries`,
      );
    }
    await sleep(1000);
    await load.stop();
    if (!server.alive) throw new Error(`the server died during the worker kills: ${server.stderrTail(10).join(' | ')}`);
    const check = await restartAndCheck(server, load, progress);
    return {
      kills: kills.length,
      kills_with_requests_in_flight: kills.filter((k) => k.in_flight > 0).length,
      worker_restart_ms: timing(restarts),
      kill_log: kills,
      ...check,
    };
  } finally {
    await endRound(load, server, dataDir);
  }
}

async function probe(url: string, path: string, body?: unknown) {
  try {
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { code?: string }).code;
    } catch {
      // not JSON
    }
    return { status: response.status, ...(code ? { code } : {}) };
  } catch (error) {
    return { status: 0, error: (error as Error).message };
  }
}

async function diskFullRound({ options, connect, progress }: Context) {
  if (!options.disk) return { skipped: true, reason: 'disabled (--no-disk)' };
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    return { skipped: true, reason: 'needs root on Linux to mount a tmpfs (no fault-injection seam for ENOSPC otherwise)' };
  }
  const mountDir = mkdtempSync(join(tmpdir(), 'cerememory-chaos-disk-'));
  const dataDir = join(mountDir, 'data');
  let mounted = false;
  let server: ServerProcess | undefined;
  const usedMiB = () => {
    const stats = statfsSync(mountDir);
    return round(((stats.blocks - stats.bfree) * stats.bsize) / 2 ** 20, 1);
  };
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=48m', 'tmpfs', mountDir]);
    mounted = true;
    const port = await freePort();
    const first = await ServerProcess.start(dataDir, port);
    server = first.server;
    progress(`disk full: server on a 48 MiB tmpfs (${mountDir}), started in ${ms(first.ready_ms)} ms, ${usedMiB()} MiB used`);
    const load = new LoadGenerator({
      url: server.url,
      connect,
      seed: options.seed + 13,
      round: 'df',
      concurrency: options.concurrency,
      mode: 'disk',
      payloadBytes: 12_000,
      deadlineMs: 15_000,
    });
    const started = performance.now();
    load.start();
    let filledAt: number | undefined;
    while (performance.now() - started < 150_000) {
      await sleep(250);
      const ledger = load.ledger;
      if (filledAt === undefined && ledger.failed.size > 0) filledAt = performance.now();
      if (ledger.failed.size >= 25 || !server.alive) break;
      if (filledAt !== undefined && performance.now() - filledAt > 20_000) break;
    }
    const fill = {
      seconds_to_first_failure: filledAt === undefined ? null : round((filledAt - started) / 1000, 1),
      used_mib: usedMiB(),
      records_acknowledged_before_full: load.ledger.recordsAcked,
    };
    progress(
      `disk full: ${fill.seconds_to_first_failure === null ? 'writes never failed' : `first failed write after ${fill.seconds_to_first_failure} s`}, ${fill.used_mib} MiB used, ${fill.records_acknowledged_before_full} records acknowledged; errors ${JSON.stringify(load.ledger.errors)}`,
    );
    // While the disk is full: does the server keep answering, and do reads work?
    const whileFull = server.alive
      ? {
          health: await probe(server.url, '/health'),
          readiness: await probe(server.url, '/readiness'),
          recall_no_reconsolidate: await probe(server.url, '/v1/recall/query', { cue: { text: 'chaos record' }, limit: 5, reconsolidate: false }),
          stats: await probe(server.url, '/v1/introspect/stats'),
        }
      : { server_died: true, stderr: server.stderrTail(10) };
    progress(`disk full: while full ${JSON.stringify(whileFull)}`);
    await load.stop();
    const stop = server.alive ? await server.terminate(20_000) : { clean: false, exit: await server.exited, ms: 0, timed_out: false };
    const sigterm = { clean: stop.clean, exit: stop.exit, ms: ms(stop.ms), timed_out: stop.timed_out, stderr_tail: stop.clean ? [] : server.stderrTail(12) };
    progress(`disk full: SIGTERM ${stop.clean ? 'exited cleanly' : 'did NOT exit cleanly'} (${JSON.stringify(stop.exit)}, ${ms(stop.ms)} ms)`);
    execFileSync('mount', ['-o', 'remount,size=256m', mountDir]);
    let restart: { ready_ms?: number; error?: string; stderr_head?: string[]; readiness_log?: unknown; next_restart_after_clean_stop_ms?: number; clean_stop_before_it?: boolean };
    let integrity: IntegrityReport | undefined;
    try {
      // A refusal to start here is a finding: it throws, and the round reports it.
      const again = await ServerProcess.start(dataDir, port);
      restart = { ready_ms: ms(again.ready_ms) };
      server = again.server;
      // What the server logged while it started (why a restart on a once-full disk takes long).
      restart.stderr_head = server.stderrHead(15);
      restart.readiness_log = server.readinessLog;
      const found = await exportMarkers(server.url);
      integrity = checkIntegrity(load.ledger, found);
      progress(`disk full: after growing the tmpfs to 256 MiB: ${summary(integrity)}; unknown outcomes ${JSON.stringify(integrity.unknown_outcome.by_code)}`);
      // One more start after a clean stop on the same data: the cost of the recovery above vs. of the data.
      const cleanStop = await server.terminate();
      const third = await ServerProcess.start(dataDir, port);
      server = third.server;
      restart.next_restart_after_clean_stop_ms = ms(third.ready_ms);
      restart.clean_stop_before_it = cleanStop.clean;
      progress(`disk full: next restart after a clean stop ${ms(third.ready_ms)} ms`);
      await server.terminate();
    } catch (error) {
      restart = { error: (error as Error).message };
      progress(`disk full: restart FAILED: ${(error as Error).message}`);
    }
    const findings: string[] = [];
    // STORAGE_FULL (507 / RESOURCE_EXHAUSTED) is the answer a full disk should get; any other 5xx or
    // internal error is a finding.
    const codes = Object.keys(load.ledger.errors).filter((label) => /^(5\d\d|0 connect:(13|8))/.test(label) && !/ STORAGE_FULL$/.test(label));
    if (codes.length > 0) findings.push(`writes on the full disk answered ${codes.join(', ')}`);
    if ('recall_no_reconsolidate' in whileFull && whileFull.recall_no_reconsolidate?.status !== 200) {
      findings.push(`a non-reconsolidating recall on the full disk answered ${JSON.stringify(whileFull.recall_no_reconsolidate)}`);
    }
    if (!sigterm.clean) findings.push(`SIGTERM on the full disk did not exit cleanly (${JSON.stringify(sigterm.exit)})`);
    if (restart.error !== undefined) findings.push(`the restart after the disk was grown failed: ${restart.error.slice(0, 300)}`);
    return {
      skipped: false,
      findings,
      tmpfs_mib: 48,
      ...fill,
      while_full: whileFull,
      sigterm,
      restart_after_grow: restart,
      ...loadReport(load, integrity),
    };
  } finally {
    if (server?.alive) await server.kill9();
    if (mounted) {
      try {
        execFileSync('umount', [mountDir]);
      } catch {
        execFileSync('umount', ['-l', mountDir]);
      }
    }
    rmSync(mountDir, { recursive: true, force: true });
  }
}

export async function runChaos(options: ChaosOptions, progress: Progress) {
  buildDist(progress);
  const { CerememoryClient } = (await import(new URL('../dist/client/client.js', import.meta.url).href)) as typeof import('../src/client/client.js');
  const connect: ConnectFactory = (url) => new CerememoryClient({ baseUrl: url, timeoutMs: 30_000 });
  const context: Context = { options, connect, progress };
  const started = performance.now();
  const rounds: Record<string, unknown> = {};
  const integrities: IntegrityReport[] = [];
  const run = async (name: string, body: () => Promise<Record<string, unknown>>) => {
    try {
      const result = await body();
      rounds[name] = result;
      if (result.integrity) integrities.push(result.integrity as IntegrityReport);
    } catch (error) {
      rounds[name] = { error: (error as Error).stack ?? String(error) };
      progress(`${name}: ERROR ${(error as Error).message}`);
    }
  };
  if (options.serverKills > 0) await run('server_kills', () => serverKillRound(context));
  if (options.workerKills > 0) await run('worker_kills', () => workerKillRound(context));
  await run('disk_full', () => diskFullRound(context));
  const sum = (key: 'acknowledged' | 'lost' | 'duplicated' | 'resurrected' | 'refused_present' | 'id_mismatch') => integrities.reduce((total, integrity) => total + integrity[key], 0);
  const totals = {
    acknowledged: sum('acknowledged'),
    lost: sum('lost'),
    duplicated: sum('duplicated'),
    id_mismatch: sum('id_mismatch'),
    resurrected: sum('resurrected'),
    refused_present: sum('refused_present'),
    findings: Object.entries(rounds).flatMap(([name, r]) => ((r as { findings?: string[] }).findings ?? []).map((f) => `${name}: ${f}`)),
    rounds_with_errors: Object.entries(rounds)
      .filter(([, r]) => (r as { error?: unknown }).error !== undefined)
      .map(([name]) => name),
  };
  progress(`totals: ${JSON.stringify(totals)} in ${round((performance.now() - started) / 1000, 1)} s`);
  return {
    seed: options.seed,
    concurrency: options.concurrency,
    setup:
      'the compiled server (dist/) as a child process, default configuration, on a fresh data directory per round; clients in the bench process: ' +
      'REST encode / batch of 5 (random stores) / raw, Connect EncodeStore (typed client), REST forget of acknowledged records, ~4% invalid on purpose; ' +
      'every request retried unchanged with its idempotency key on connection errors, 5xx and retryable codes until acknowledged (deadline 60 s)',
    seconds: round((performance.now() - started) / 1000, 1),
    totals,
    rounds,
  };
}

const bench: Bench = {
  description:
    'kill -9 of the server, store worker kills and a full disk under mixed load; every acknowledged write checked (options: --server-kills 10 --worker-kills 10 --seed 1 --concurrency 8 --no-disk)',
  async run(args, progress) {
    const option = (name: string, fallback: number) => {
      const index = args.indexOf(name);
      if (index < 0) return fallback;
      const value = Number(args[index + 1]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${name}: expected a non-negative integer`);
      return value;
    };
    return runChaos(
      {
        serverKills: option('--server-kills', 10),
        workerKills: option('--worker-kills', 10),
        seed: option('--seed', 1),
        concurrency: option('--concurrency', 8),
        disk: !args.includes('--no-disk'),
      },
      progress,
    );
  },
};

export default bench;
