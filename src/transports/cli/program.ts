import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseEmotionLabel } from '../../cmp/emotion.js';
import { AuditLogError, auditLogPath, tornPath, verifyAuditFile } from '../../audit/audit-log.js';
import { isCmpError } from '../../cmp/errors.js';
import { storageCause } from '../../cmp/storage-cause.js';
import { ConfigError, loadConfig, type CerememoryConfig, type PartialDeep } from '../../runtime/config/index.js';
import { DataDirLockedError, DataDirMissingError, DataDirOpenError, lockHolder } from '../../runtime/data-dir-lock.js';
import { migrateStoreEncryption } from '../../runtime/migrate-store-encryption.js';
import { StoreKeyError } from '../../runtime/store-key.js';
import { startServer } from '../../server.js';
import { VERSION } from '../../version.js';
import { openEndpoint, type CmpEndpoint, type CmpObject } from '../endpoint.js';
import { serveMcpStdio } from '../mcp/stdio.js';
import { progress } from './progress.js';
import { keyValues, renderRawRecall, renderRecall, renderStats } from './render.js';

// The `cerememory` command. Global options shape the configuration the same way for every command.
// Each memory command is one CMP call on an endpoint: the server that owns the data directory when
// one runs (found through its lock file, or named with --server-url), else an engine started in this
// process on the data directory. Human-readable output by default, `--json` for scripts.

interface GlobalOptions {
  config?: string;
  dataDir?: string;
  serverUrl?: string;
  apiKey?: string;
  json?: boolean;
  space?: string;
}

function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected a whole number in ${min}..${max}`);
    return parsed;
  };
}
const port = integer(0, 65535);

function number(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError('expected a number');
  return parsed;
}

const commaList = (value: string): string[] => value.split(',').map((item) => item.trim()).filter((item) => item !== '');

function jsonArgument(value: string): CmpObject {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as CmpObject;
  } catch (error) {
    throw new InvalidArgumentError(`invalid JSON: ${(error as Error).message}`);
  }
}

function configFrom(globals: GlobalOptions, flags: PartialDeep<CerememoryConfig> = {}): CerememoryConfig {
  return loadConfig({
    file: globals.config,
    flags: { ...flags, ...(globals.dataDir === undefined ? {} : { data_dir: globals.dataDir }) },
  });
}

/** A failed system call (fs, net): a user can act on it from its message alone. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string' && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** Errors a user can act on print one clear message; anything else prints its stack. */
function fail(error: unknown): never {
  if (
    error instanceof ConfigError ||
    error instanceof DataDirLockedError ||
    error instanceof DataDirMissingError ||
    error instanceof DataDirOpenError ||
    error instanceof AuditLogError ||
    error instanceof StoreKeyError
  ) {
    console.error(`cerememory: ${error.message}`);
  } else if (isCmpError(error)) {
    console.error(`cerememory: ${error.code}: ${error.message}${error.retryAfter === undefined ? '' : ` (retry after ${error.retryAfter} s)`}`);
  } else if (error instanceof InvalidArgumentError) {
    console.error(`cerememory: ${error.message}`);
  } else if (isSystemError(error)) {
    // Node's own text names the errno, the call and the path ("EACCES: permission denied, open '…'").
    console.error(`cerememory: ${error.message}`);
  } else {
    console.error('cerememory: failed:', error);
  }
  process.exit(1);
}

const textContent = (text: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64') }] });

export function createProgram(): Command {
  const program = new Command('cerememory')
    .description('A living memory database for LLM agents.')
    .version(VERSION)
    .option('--config <file>', 'TOML configuration file (default: ./cerememory.toml when present)')
    .option('--data-dir <path>', 'data directory (default: ./data)')
    .option('--server-url <url>', 'talk to the server at this URL (default: the server that owns the data directory, else the data directory itself)')
    .addOption(new Option('--api-key <key>', 'API key for the server').env('CEREMEMORY_SERVER_API_KEY'))
    .option('--space <name>', 'memory space (tenant)', undefined)
    .option('--json', 'print the CMP JSON answer instead of text')
    .showHelpAfterError();

  const globals = () => program.opts<GlobalOptions>();

  /**
   * A memory command: one CMP call on the endpoint, printed as JSON or through `human`. The space
   * option is added to the request unless the command set one. Only commands that store memories
   * may create a missing data directory (`createsDataDir`); the others say it does not exist.
   */
  function run(
    call: (endpoint: CmpEndpoint, space: string | undefined) => Promise<CmpObject>,
    human: (result: CmpObject) => string[],
    { createsDataDir = false }: { createsDataDir?: boolean } = {},
  ) {
    return async () => {
      const options = globals();
      let endpoint: CmpEndpoint;
      try {
        endpoint = await openEndpoint({ config: configFrom(options), serverUrl: options.serverUrl, apiKey: options.apiKey, createDataDir: createsDataDir });
      } catch (error) {
        fail(error);
      }
      try {
        const result = await call(endpoint, options.space);
        console.log(options.json ? JSON.stringify(result, null, 2) : human(result).join('\n'));
      } catch (error) {
        await endpoint.close().catch(() => {});
        fail(error);
      }
      await endpoint.close();
    };
  }

  program
    .command('serve')
    .description('Run the server: Connect/gRPC, REST /v1 and MCP at /mcp on one loopback port (default 127.0.0.1:8420).')
    .option('--port <port>', 'port (0 picks a free one)', port)
    .option('--bind <address>', 'address to listen on (default 127.0.0.1)')
    .action(async (options: { port?: number; bind?: string }) => {
      let config: CerememoryConfig;
      try {
        config = configFrom(globals(), { http: { port: options.port, bind_address: options.bind } });
      } catch (error) {
        fail(error);
      }
      const server = await startServer(config).catch(fail);
      console.error(`Cerememory v${VERSION}`);
      console.error(`Data  ${config.data_dir}`);
      console.error(`Auth  ${config.auth.enabled ? `enabled (${config.auth.api_keys.length} key(s))` : 'disabled (loopback only)'}`);
      console.error(`Audit ${config.security.audit_log_enabled ? auditLogPath(config) : 'disabled'}`);
      console.error(`HTTP  listening on ${server.url} (Connect, gRPC, gRPC-Web, REST /v1, MCP /mcp)`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        console.error(`${signal}: shutting down`);
        const deadline = setTimeout(() => {
          console.error('shutdown took too long; exiting');
          process.exit(1);
        }, config.runtime.shutdown_timeout_ms + 2000);
        server.close().then(
          () => {
            clearTimeout(deadline);
            process.exit(0);
          },
          (error: unknown) => fail(error),
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });

  program
    .command('mcp')
    .description('MCP over stdio for agents (Claude Code, Codex, Cursor, …): proxies to a running server, else runs the engine on the data directory.')
    .option('--server-url <url>', 'proxy to the server at this URL over Connect')
    .option('--server-api-key <key>', 'API key for the server (or CEREMEMORY_SERVER_API_KEY)')
    .option('--server-timeout-secs <seconds>', 'per-request timeout for the proxy', integer(1))
    .action(async (options: { serverUrl?: string; serverApiKey?: string; serverTimeoutSecs?: number }) => {
      const global = globals();
      const serverUrl = options.serverUrl ?? global.serverUrl;
      const apiKey = options.serverApiKey ?? global.apiKey;
      try {
        if (serverUrl !== undefined) checkProxyUrl(serverUrl, apiKey);
        const endpoint = await openEndpoint({
          config: configFrom(global),
          serverUrl,
          apiKey,
          timeoutMs: options.serverTimeoutSecs === undefined ? undefined : options.serverTimeoutSecs * 1000,
          log: (line) => console.error(line),
          createDataDir: true,
        });
        console.error(endpoint.kind === 'remote' ? `cerememory mcp: proxy to ${endpoint.url}` : 'cerememory mcp: engine on the data directory');
        await serveMcpStdio(endpoint, VERSION);
        process.exit(0);
      } catch (error) {
        fail(error);
      }
    });

  program
    .command('healthcheck')
    .description('Ask a server whether it is healthy (exit 0) or not (exit 1): the server that owns the data directory, else the configured address.')
    .option('--port <port>', 'port on the configured bind address (default: the configured port)', port)
    .action(async (options: { port?: number }) => {
      const global = globals();
      let url = global.serverUrl;
      if (url === undefined) {
        let config: CerememoryConfig;
        try {
          config = configFrom(global);
        } catch (error) {
          fail(error);
        }
        // Like every other command, the server that owns the data directory is asked where it
        // advertised itself (it may listen on a port picked with --port 0).
        if (options.port === undefined) {
          if (!existsSync(config.data_dir)) fail(new DataDirMissingError(config.data_dir));
          url = (await lockHolder(config.data_dir))?.url;
        }
        const host = config.http.bind_address.includes(':') ? `[${config.http.bind_address}]` : config.http.bind_address;
        url ??= `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${options.port ?? config.http.port}`;
      }
      try {
        const response = await fetch(`${url.replace(/\/+$/, '')}/health`, { signal: AbortSignal.timeout(5000) });
        const body = await response.text();
        console.log(`${url}: ${response.status} ${body}`);
        process.exit(response.ok ? 0 : 1);
      } catch (error) {
        console.error(`${url}: unreachable (${(error as Error).message})`);
        process.exit(1);
      }
    });

  // ── memory commands ───────────────────────────────────────────────────────────────────────────

  program
    .command('store <text>')
    .description('Store a curated memory.')
    .option('--store <store>', 'episodic | semantic | procedural | emotional | working (default: classified automatically)')
    .option('--emotion <label>', 'emotion label: joy, trust, fear, surprise, sadness, disgust, anger, anticipation')
    .option('--embedding <floats>', 'comma-separated embedding to use instead of the embedder', (value) => commaList(value).map(number))
    .option('--meta-json <json>', 'MetaMemory JSON: intent, rationale, confidence, tags, …', jsonArgument)
    .action((text: string, options: { store?: string; emotion?: string; embedding?: number[]; metaJson?: CmpObject }) =>
      run(
        (endpoint, space) => {
          const content = textContent(text);
          if (options.embedding) (content.blocks[0] as CmpObject).embedding = options.embedding;
          return endpoint.call('encodeStore', {
            space,
            content,
            ...(options.store === undefined ? {} : { store: options.store }),
            ...(options.emotion === undefined ? {} : { emotion: parseEmotionLabel(options.emotion) }),
            ...(options.metaJson === undefined ? {} : { meta: options.metaJson }),
          });
        },
        (result) => [`Stored ${result.record_id} in ${result.store} (fidelity ${result.initial_fidelity}, ${result.associations_created ?? 0} associations)`],
        { createsDataDir: true },
      )(),
    );

  program
    .command('store-raw <text>')
    .description('Append a verbatim entry to the raw journal.')
    .requiredOption('--session-id <id>', 'conversation session')
    .option('--turn-id <id>')
    .option('--topic-id <id>')
    .option('--source <source>', 'conversation | tool_io | scratchpad | summary | imported', 'conversation')
    .option('--speaker <speaker>', 'user | assistant | system | tool', 'user')
    .option('--visibility <visibility>', 'normal | private_scratch | sealed', 'normal')
    .option('--secrecy-level <level>', 'public | sensitive | secret', 'public')
    .option('--meta-json <json>', 'MetaMemory JSON', jsonArgument)
    .action((text: string, options: Record<string, string | CmpObject | undefined>) =>
      run(
        (endpoint, space) =>
          endpoint.call('encodeStoreRaw', {
            space,
            session_id: options.sessionId,
            turn_id: options.turnId ?? null,
            topic_id: options.topicId ?? null,
            source: options.source,
            speaker: options.speaker,
            visibility: options.visibility,
            secrecy_level: options.secrecyLevel,
            content: textContent(text),
            ...(options.metaJson === undefined ? {} : { meta: options.metaJson }),
          }),
        (result) => [`Stored raw ${result.record_id} in session ${result.session_id} (${result.visibility}, ${result.secrecy_level})`],
        { createsDataDir: true },
      )(),
    );

  program
    .command('recall [query]')
    .description('Recall memories for a text cue (no query: the most recent).')
    .option('--limit <n>', 'most memories to return', integer(0, 1000), 10)
    .option('--mode <mode>', 'human (fidelity shows as noise) | perfect', 'human')
    .option('--stores <stores>', 'comma-separated stores (default: all)', commaList)
    .option('--no-reconsolidate', 'do not strengthen what is recalled')
    .option('--format <model>', 'print the memories as one prompt block for claude | gpt | gemini')
    .option('--budget-tokens <n>', 'token budget of that block', integer(0))
    .action((query: string | undefined, options: { limit: number; mode: string; stores?: string[]; reconsolidate: boolean; format?: string; budgetTokens?: number }) =>
      run(
        (endpoint, space) =>
          endpoint.call('recallQuery', {
            space,
            cue: query === undefined ? {} : { text: query },
            limit: options.limit,
            recall_mode: options.mode,
            reconsolidate: options.reconsolidate,
            ...(options.stores ? { stores: options.stores } : {}),
            ...(options.format === undefined ? {} : { format: options.format }),
            ...(options.budgetTokens === undefined ? {} : { budget_tokens: options.budgetTokens }),
          }),
        (result) => (result.context ? [String((result.context as CmpObject).text)] : renderRecall(result)),
      )(),
    );

  program
    .command('recall-raw [query]')
    .description('Forensic search of the raw journal.')
    .option('--session-id <id>')
    .option('--limit <n>', 'most entries to return', integer(0, 1000), 10)
    .option('--include-private-scratch', 'include private scratch entries', false)
    .option('--include-sealed', 'include sealed entries', false)
    .option('--secrecy-levels <levels>', 'comma-separated: public, sensitive, secret (default: public, sensitive)', commaList)
    .action((query: string | undefined, options: { sessionId?: string; limit: number; includePrivateScratch: boolean; includeSealed: boolean; secrecyLevels?: string[] }) =>
      run(
        (endpoint, space) =>
          endpoint.call('recallRawQuery', {
            space,
            query: query ?? null,
            session_id: options.sessionId ?? null,
            limit: options.limit,
            include_private_scratch: options.includePrivateScratch,
            include_sealed: options.includeSealed,
            ...(options.secrecyLevels ? { secrecy_levels: options.secrecyLevels } : {}),
          }),
        renderRawRecall,
      )(),
    );

  program
    .command('inspect <record-id>')
    .description('Show a whole memory record as JSON.')
    .action((recordId: string) =>
      run(
        (endpoint, space) =>
          endpoint.call('introspectRecord', { space, record_id: recordId, include_history: true, include_associations: true, include_versions: true }),
        (record) => [JSON.stringify(record, null, 2)],
      )(),
    );

  program
    .command('stats')
    .description('Counts, fidelity, associations, raw journal and background jobs.')
    .action(() => run((endpoint, space) => endpoint.call('stats', { space }), renderStats)());

  program
    .command('decay-tick')
    .description('Let time pass: materialise fidelity and prune what fell below the threshold.')
    .option('--duration <seconds>', 'simulated elapsed time', integer(0), 3600)
    .action((options: { duration: number }) =>
      run(
        (endpoint, space) => endpoint.call('decayTick', { space, tick_duration_seconds: options.duration }),
        (result) => [`Updated ${result.records_updated}, below threshold ${result.records_below_threshold}, pruned ${result.records_pruned}`],
      )(),
    );

  program
    .command('dream-tick')
    .description('Digest the raw journal into episodic summaries and semantic knowledge.')
    .option('--session-id <id>')
    .option('--dry-run', 'count what would happen, write nothing', false)
    .option('--max-groups <n>', 'most groups to process', integer(0), 10)
    .option('--include-private-scratch', '', false)
    .option('--include-sealed', '', false)
    .option('--no-promote-semantic', 'do not promote topics into semantic memory')
    .option('--secrecy-levels <levels>', 'comma-separated secrecy levels that may be dreamt about', commaList)
    .action((options: { sessionId?: string; dryRun: boolean; maxGroups: number; includePrivateScratch: boolean; includeSealed: boolean; promoteSemantic: boolean; secrecyLevels?: string[] }) =>
      run(
        (endpoint, space) =>
          endpoint.call('dreamTick', {
            space,
            session_id: options.sessionId ?? null,
            dry_run: options.dryRun,
            max_groups: options.maxGroups,
            include_private_scratch: options.includePrivateScratch,
            include_sealed: options.includeSealed,
            promote_semantic: options.promoteSemantic,
            ...(options.secrecyLevels ? { secrecy_levels: options.secrecyLevels } : {}),
          }),
        (result) => keyValues(result),
      )(),
    );

  program
    .command('consolidate')
    .description('Move mature episodic memories into semantic knowledge.')
    .option('--strategy <strategy>', 'incremental | full | selective', 'incremental')
    .option('--min-age-hours <hours>', '', integer(0), 0)
    .option('--min-access-count <count>', '', integer(0), 0)
    .option('--dry-run', 'count what would happen, write nothing', false)
    .action((options: { strategy: string; minAgeHours: number; minAccessCount: number; dryRun: boolean }) =>
      run(
        (endpoint, space) =>
          endpoint.call('consolidate', {
            space,
            strategy: options.strategy,
            min_age_hours: options.minAgeHours,
            min_access_count: options.minAccessCount,
            dry_run: options.dryRun,
          }),
        (result) => keyValues(result),
      )(),
    );

  program
    .command('set-mode <mode>')
    .description('Recall mode: human or perfect, for every store or a --scope.')
    .option('--scope <stores>', 'comma-separated stores', commaList)
    .action((mode: string, options: { scope?: string[] }) =>
      run(
        (endpoint) => endpoint.call('setMode', { mode, ...(options.scope ? { scope: options.scope } : {}) }),
        () => [`Recall mode set to ${mode}${options.scope ? ` for ${options.scope.join(', ')}` : ''}`],
      )(),
    );

  program
    .command('migrate-store-encryption')
    .description('Encrypt the data directory in place with security.store_encryption_passphrase (needs --confirm; stop the server first). Safe to rerun.')
    .option('--confirm', 'yes, rewrite every store', false)
    .action(async (options: { confirm: boolean }) => {
      if (!options.confirm) {
        fail(new InvalidArgumentError('migrate-store-encryption rewrites every store of the data directory: run it again with --confirm (stop the server first; back up the data directory if you can)'));
      }
      try {
        const config = configFrom(globals());
        const report = await migrateStoreEncryption(config, globals().json ? undefined : (line) => console.error(line));
        if (globals().json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(`Store encryption migrated: ${config.data_dir}`);
          for (const [store, count] of Object.entries(report)) {
            console.log(`${store}: total=${count.records_total} migrated=${count.records_migrated} already_encrypted=${count.records_already_encrypted}`);
          }
        }
      } catch (error) {
        fail(error);
      }
    });

  program
    .command('forget <record-ids...>')
    .description('Delete memories for good (needs --confirm).')
    .option('--cascade', 'also delete what was derived from them', false)
    .option('--confirm', 'yes, delete them', false)
    .action((recordIds: string[], options: { cascade: boolean; confirm: boolean }) =>
      run(
        (endpoint, space) => endpoint.call('forget', { space, record_ids: recordIds.flatMap(commaList), cascade: options.cascade, confirm: options.confirm }),
        (result) => [`Deleted ${result.records_deleted} records`],
      )(),
    );

  program
    .command('decay-forecast <record-ids...>')
    .description('How faded memories will be at a future time.')
    .requiredOption('--at <time>', 'RFC 3339 time to forecast')
    .action((recordIds: string[], options: { at: string }) =>
      run(
        (endpoint, space) => endpoint.call('decayForecast', { space, record_ids: recordIds.flatMap(commaList), forecast_at: options.at }),
        (result) =>
          (result.forecasts as CmpObject[]).map(
            (entry) => `${entry.record_id}: ${Number(entry.current_fidelity).toFixed(3)} → ${Number(entry.forecasted_fidelity).toFixed(3)} (prune threshold ${entry.estimated_threshold_date ?? 'never'})`,
          ),
      )(),
    );

  program
    .command('export')
    .description('Write a CMA archive (spec §7) of the memories, optionally encrypted.')
    .option('--output <path>', 'archive file (written whole, then renamed into place)', './backup.cma')
    .option('--format <format>', 'cma (jsonl is an alias)', 'cma')
    .option('--stores <stores>', 'comma-separated stores (default: all)', commaList)
    .option('--include-raw-journal', 'include the raw journal (a version 2.0 bundle)', false)
    .option('--all-spaces', 'every memory space, each record keeping its space', false)
    .option('--encrypt', 'encrypt with a passphrase (Argon2id + ChaCha20-Poly1305)', false)
    .option('--encryption-key <passphrase>', 'the passphrase (prefer --encryption-key-stdin)')
    .option('--encryption-key-stdin', 'read the passphrase from stdin', false)
    .action(async (options: { output: string; format: string; stores?: string[]; includeRawJournal: boolean; allSpaces: boolean; encrypt: boolean; encryptionKey?: string; encryptionKeyStdin: boolean }) => {
      const unwritable = whyUnwritable(options.output);
      if (unwritable !== undefined) fail(new InvalidArgumentError(`cannot write ${options.output}: ${unwritable}`));
      const key = options.encryptionKeyStdin ? await passphraseFromStdin() : options.encryptionKey;
      await run(
        async (endpoint, space) => {
          const partial = `${options.output}.partial-${process.pid}`;
          const meter = progress('export');
          const file = createWriteStream(partial, { mode: 0o600 });
          const counter = meter.counter();
          const written = pipeline(counter, file);
          // A file that cannot be written ends the export; its error (naming the file) is the one to report.
          const fileError = written.then(() => undefined, (error: unknown) => error);
          try {
            const metadata = await endpoint.exportArchive(
              {
                space,
                format: options.format,
                include_raw_journal: options.includeRawJournal,
                all_spaces: options.allSpaces,
                encrypt: options.encrypt,
                ...(options.stores ? { stores: options.stores } : {}),
                ...(key === undefined ? {} : { encryption_key: key }),
              },
              counter,
            );
            await written;
            renameSync(partial, options.output);
            meter.done(`wrote ${options.output}`);
            return metadata;
          } catch (error) {
            const cause = await fileError;
            rmSync(partial, { force: true });
            throw cause ?? error;
          }
        },
        (metadata) => [`Exported ${metadata.record_count} records to ${options.output} (${metadata.size_bytes} bytes, checksum ${metadata.checksum})`],
      )();
    });

  program
    .command('import <path>')
    .description('Import a CMA archive; nothing is written unless the whole archive verifies.')
    .option('--strategy <strategy>', 'merge | replace', 'merge')
    .option('--conflict-resolution <rule>', 'keep_newer | keep_existing | keep_imported', 'keep_newer')
    .option('--all-spaces', 'put each record into the space it names', false)
    .option('--decryption-key <passphrase>', 'the passphrase of an encrypted archive (prefer --decryption-key-stdin)')
    .option('--decryption-key-stdin', 'read the passphrase from stdin', false)
    .action(async (path: string, options: { strategy: string; conflictResolution: string; allSpaces: boolean; decryptionKey?: string; decryptionKeyStdin: boolean }) => {
      const key = options.decryptionKeyStdin ? await passphraseFromStdin() : options.decryptionKey;
      let total: number;
      try {
        total = statSync(path).size;
      } catch (error) {
        fail(new InvalidArgumentError(`cannot read ${path}: ${storageCause(error).text}`));
      }
      // A directory stats fine but fails at the first read, after the engine has started.
      if (statSync(path).isDirectory()) fail(new InvalidArgumentError(`cannot read ${path}: is a directory (EISDIR)`));
      await run(
        async (endpoint, space) => {
          const meter = progress('import', total);
          const result = await endpoint.importArchive(
            {
              space,
              archive_id: basename(path),
              strategy: options.strategy,
              conflict_resolution: options.conflictResolution,
              all_spaces: options.allSpaces,
              ...(key === undefined ? {} : { decryption_key: key }),
            },
            readArchive(path, meter.counter()),
          );
          meter.done(`read ${path}`);
          // Vectors follow the write (issue 17): say how many are still owed and where they get made.
          const stats = await endpoint.call('stats', space === undefined ? {} : { space }).catch(() => undefined);
          const waiting = Number(stats?.vector_backlog ?? 0);
          if (waiting > 0) {
            const where = endpoint.kind === 'remote' ? 'the server embeds them in the background' : 'they are embedded when the engine next runs';
            console.error(`embedding: ${waiting} imported records wait for their vector (${String(stats?.embedder)}); ${where}, recall finds them by text meanwhile`);
          }
          return result;
        },
        (result) => [`Imported ${result.records_imported} records from ${path}`],
        { createsDataDir: true },
      )();
    });

  program
    .command('audit-verify')
    .description('Verify the audit log\'s hash chain (exit 1 when broken). Reads the file only; safe while a server runs.')
    .option('--path <file>', 'audit log to verify (default: security.audit_log_path, else <data_dir>/audit.jsonl)')
    .action(async (options: { path?: string }) => {
      let path = options.path;
      try {
        if (path === undefined) {
          const config = configFrom(globals());
          if (!config.security.audit_log_enabled) {
            throw new InvalidArgumentError('Audit log is disabled by configuration (security.audit_log_enabled = false); pass --path to verify a file.');
          }
          path = auditLogPath(config);
        }
        const report = await verifyAuditFile(path);
        if (globals().json) {
          console.log(JSON.stringify({ path: report.path, ok: report.broken === undefined, entries: report.entries, last_sequence: report.head.sequence, head_hash: report.head.hash, ...(report.broken ? { broken: report.broken } : {}) }, null, 2));
        } else if (report.broken === undefined) {
          console.log(['Audit log verified: ok', `path=${report.path}`, `entries=${report.entries}`, `last_sequence=${report.head.sequence}`, `head_hash=${report.head.hash}`].join('\n'));
        } else {
          console.log(
            [
              `Audit log BROKEN at entry ${report.broken.line}: ${report.broken.reason}`,
              `path=${report.path}`,
              `entries=${report.entries} (verified before the break)`,
              `first_broken=${report.broken.line}`,
              ...(report.broken.torn ? [`note=its operation was never acknowledged; the next start moves the line to ${tornPath(report.path)} and continues`] : []),
            ].join('\n'),
          );
        }
        process.exit(report.broken === undefined ? 0 : 1);
      } catch (error) {
        fail(error);
      }
    });

  return program;
}

/** Why the export cannot write `output`, checked before any work: it is a directory, or its folder is missing. */
function whyUnwritable(output: string): string | undefined {
  if (statSync(output, { throwIfNoEntry: false })?.isDirectory()) return 'is a directory (EISDIR)';
  const folder = dirname(resolve(output));
  const stats = statSync(folder, { throwIfNoEntry: false });
  if (stats === undefined) return `${folder} does not exist (ENOENT)`;
  if (!stats.isDirectory()) return `${folder} is not a directory (ENOTDIR)`;
  return undefined;
}

/** The archive through `counter`; a read error (e.g. EACCES) ends the stream with that error, not a crash. */
function readArchive(path: string, counter: Transform): Transform {
  pipeline(createReadStream(path), counter).catch(() => {}); // pipeline destroys `counter` with the error
  return counter;
}

/** A passphrase piped on stdin, without the line break `echo` adds; it is otherwise used as given. */
async function passphraseFromStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** The reference's proxy rule: an API key never travels over plain HTTP to another machine. */
function checkProxyUrl(serverUrl: string, apiKey: string | undefined): void {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new InvalidArgumentError(`--server-url: not a URL: ${serverUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('--server-url: must be http or https');
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
  if (apiKey !== undefined && apiKey.trim() !== '' && url.protocol === 'http:' && !loopback) {
    throw new InvalidArgumentError(`Refusing to start MCP proxy with an API key over insecure HTTP upstream ${url.origin}; use https`);
  }
}
