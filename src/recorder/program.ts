import { Command, InvalidArgumentError } from 'commander';
import { VERSION } from '../version.js';
import { installCodexHook, InstallHookError } from './codex-hook.js';
import { formatCheck, runDoctor } from './doctor.js';
import { defaultIngestOptions, formatSummary, runIngest } from './ingest.js';
import { apiKeyFromEnv, checkServerUrl, createIngestClient, ServerUrlError } from './ingest-client.js';
import { resolveSpoolDir, openSpoolDir, SpoolError, SPOOL_DIR_ENV } from './spool.js';

// The `cerememory-recorder` command: turns agent/tool events into raw-journal records on a running
// Cerememory server (reference spec §9.3). It never curates memory and never runs tools.

const DEFAULT_SERVER_URL = 'http://127.0.0.1:8420';
/** The server's raw batch limit. */
const MAX_BATCH_SIZE = 1000;

function integer(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected a whole number in ${min}..${max}`);
    return parsed;
  };
}

export interface RecorderIo {
  stdin: AsyncIterable<Buffer | string>;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

const defaultIo = (): RecorderIo => ({
  stdin: process.stdin,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});

/** Known, user-facing failures print one line; anything else is a bug and keeps its stack. */
function userError(error: unknown): string | null {
  return error instanceof ServerUrlError || error instanceof SpoolError || error instanceof InstallHookError ? error.message : null;
}

export function createRecorderProgram(io: RecorderIo = defaultIo()): Command {
  const program = new Command('cerememory-recorder')
    .description("Record agent and tool events into a Cerememory server's raw journal (Capture Event JSONL on stdin).")
    .version(VERSION)
    .showHelpAfterError();

  const fail = (message: string): void => {
    io.stderr(`cerememory-recorder: ${message}\n`);
    process.exitCode = 1;
  };

  program
    .command('ingest')
    .description(
      'Read Capture Event JSONL from stdin, redact it and send it to POST /v1/encode/raw/batch. Batches the server ' +
        'does not take are spooled and sent first on the next run. Auth: CEREMEMORY_SERVER_API_KEY.',
    )
    .option('--server-url <url>', 'Cerememory server (plain http only to loopback)', DEFAULT_SERVER_URL)
    .option('--spool-dir <dir>', `where unsent batches wait (default $${SPOOL_DIR_ENV} or ~/.cerememory/recorder/spool)`)
    .option('--batch-size <n>', `records per request, 1..${MAX_BATCH_SIZE}`, integer(1, MAX_BATCH_SIZE), defaultIngestOptions.batchSize)
    .option(
      '--flush-interval-ms <n>',
      'send a started batch at the latest this long after its first event (0: only when full or at end of input)',
      integer(0, 3_600_000),
      defaultIngestOptions.flushIntervalMs,
    )
    .option('--max-event-bytes <n>', 'longest accepted JSONL line in bytes', integer(1, 64 * 1024 * 1024), defaultIngestOptions.maxEventBytes)
    .addHelpText('after', '\nExample:\n  echo \'{"session_id":"demo","event_type":"user_message","content":"hello recorder"}\' | cerememory-recorder ingest --server-url http://127.0.0.1:8420\n')
    .action(async (options: { serverUrl: string; spoolDir?: string; batchSize: number; flushIntervalMs: number; maxEventBytes: number }) => {
      try {
        const client = createIngestClient({ serverUrl: options.serverUrl, apiKey: apiKeyFromEnv(io.env) });
        const spool = openSpoolDir(resolveSpoolDir(options.spoolDir, io.env));
        const summary = await runIngest({
          client,
          spool,
          input: io.stdin,
          batchSize: options.batchSize,
          flushIntervalMs: options.flushIntervalMs,
          maxEventBytes: options.maxEventBytes,
          cwd: io.cwd,
          report: (line) => io.stderr(`cerememory-recorder: ${line}\n`),
        });
        io.stderr(`${formatSummary(summary)}\n`);
        if (summary.fatal !== null) fail(`stopped sending: ${summary.fatal} (unsent records are in ${spool.dir})`);
      } catch (error) {
        const message = userError(error);
        if (message === null) throw error;
        fail(message);
      }
    });

  program
    .command('doctor')
    .description('Check that this machine can record: server health and readiness, the spool dir, and an authenticated raw ingest.')
    .option('--server-url <url>', 'Cerememory server (plain http only to loopback)', DEFAULT_SERVER_URL)
    .option('--spool-dir <dir>', `spool directory to check (default $${SPOOL_DIR_ENV} or ~/.cerememory/recorder/spool)`)
    .option('--skip-raw-ingest-probe', 'check auth with a limit-0 raw recall instead of writing a private_scratch probe record')
    .action(async (options: { serverUrl: string; spoolDir?: string; skipRawIngestProbe?: boolean }) => {
      try {
        const client = createIngestClient({ serverUrl: options.serverUrl, apiKey: apiKeyFromEnv(io.env) });
        const checks = await runDoctor({
          client,
          spoolDir: resolveSpoolDir(options.spoolDir, io.env),
          skipRawIngestProbe: options.skipRawIngestProbe === true,
        });
        for (const result of checks) io.stdout(`${formatCheck(result)}\n`);
        if (checks.some((result) => !result.ok)) process.exitCode = 1;
      } catch (error) {
        const message = userError(error);
        if (message === null) throw error;
        fail(message);
      }
    });

  program
    .command('install-hook')
    .description(
      'Write a Codex hook script (.codex/hooks/cerememory-recorder-codex-hook.py) that pipes Codex hook events to ' +
        '`cerememory-recorder ingest`, and an example hooks.json beside it. Never edits your existing hook settings.',
    )
    .argument('<agent>', 'the agent to hook into (only "codex" for now)')
    .option('--server-url <url>', 'Cerememory server the hook sends to (plain http only to loopback)', DEFAULT_SERVER_URL)
    .option('--target-dir <dir>', 'project directory to write .codex/hooks/ in (default: the current directory)')
    .option('--force', 'overwrite existing hook files (never a symlink)')
    .action((agent: string, options: { serverUrl: string; targetDir?: string; force?: boolean }) => {
      try {
        if (agent !== 'codex') throw new InstallHookError(`install-hook: unknown agent "${agent}" (supported: codex)`);
        const written = installCodexHook({ targetDir: options.targetDir ?? io.cwd, serverUrl: checkServerUrl(options.serverUrl), force: options.force === true });
        for (const path of written) io.stdout(`wrote ${path}\n`);
        io.stdout('Merge the example into .codex/hooks.json (and set [features] codex_hooks = true in config.toml) to enable it.\n');
      } catch (error) {
        const message = userError(error);
        if (message === null) throw error;
        fail(message);
      }
    });

  return program;
}
