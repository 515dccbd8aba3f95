import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type CerememoryConfig, type PartialDeep } from '../../runtime/config.js';
import { DataDirLockedError } from '../../runtime/data-dir-lock.js';
import { startServer } from '../../server.js';

// The `cerememory` command. Global options shape the configuration the same way for every command;
// each subcommand is one call on the server or the runtime.

const VERSION = '0.1.0';

interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) {
    throw new InvalidArgumentError('expected a port number in 0..65535');
  }
  return parsed;
}

function configFrom(globals: GlobalOptions, flags: PartialDeep<CerememoryConfig>): CerememoryConfig {
  return loadConfig({
    file: globals.config,
    flags: { ...flags, ...(globals.dataDir === undefined ? {} : { data_dir: globals.dataDir }) },
  });
}

/** Errors a user can act on print one clear message; anything else prints its stack. */
function fail(error: unknown): never {
  if (error instanceof ConfigError || error instanceof DataDirLockedError) {
    console.error(`cerememory: ${error.message}`);
  } else {
    console.error('cerememory: failed:', error);
  }
  process.exit(1);
}

export function createProgram(): Command {
  const program = new Command('cerememory')
    .description('A living memory database for LLM agents.')
    .version(VERSION)
    .option('--config <file>', 'TOML configuration file (default: ./cerememory.toml when present)')
    .option('--data-dir <path>', 'data directory (default: ./data)')
    .showHelpAfterError();

  program
    .command('serve')
    .description('Run the server: REST /v1 on one loopback port (default 127.0.0.1:8420), data in the data directory.')
    .option('--port <port>', 'HTTP port (0 picks a free one)', port)
    .option('--bind <address>', 'address to listen on (default 127.0.0.1)')
    .action(async (options: { port?: number; bind?: string }) => {
      const globals = program.opts<GlobalOptions>();
      let config: CerememoryConfig;
      try {
        config = configFrom(globals, { http: { port: options.port, bind_address: options.bind } });
      } catch (error) {
        fail(error);
      }
      const server = await startServer(config).catch(fail);
      console.error(`Cerememory v${VERSION}`);
      console.error(`Data  ${config.data_dir}`);
      console.error(`HTTP  listening on ${server.url}`);
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

  return program;
}
