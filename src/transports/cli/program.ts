import { Command, Option } from 'commander';
import { VERSION } from '../../version.js';
import { auditVerifyCommand, migrateStoreEncryptionCommand } from './commands/admin.js';
import { exportArchiveCommand, importArchiveCommand } from './commands/archive.js';
import { clusterCommand } from './commands/cluster.js';
import { consolidateCommand, decayTickCommand, dreamTickCommand, setModeCommand } from './commands/dynamics.js';
import { decayForecastCommand, forgetCommand, inspectCommand, recallCommand, recallRawCommand, statsCommand, storeCommand, storeRawCommand } from './commands/memory.js';
import { healthcheckCommand, mcpCommand, serveCommand } from './commands/server.js';
import { cliContext, type RegisterCommand } from './context.js';

// The `cerememory` command. Global options shape the configuration the same way for every command.
// Each memory command is one CMP call on an endpoint: the server that owns the data directory when
// one runs (found through its lock file, or named with --server-url), else an engine started in this
// process on the data directory. Human-readable output by default, `--json` for scripts.
// Commands live in commands/, one file per concept; this list is their order in `--help`.

const COMMANDS: readonly RegisterCommand[] = [
  serveCommand,
  mcpCommand,
  healthcheckCommand,
  clusterCommand,
  storeCommand,
  storeRawCommand,
  recallCommand,
  recallRawCommand,
  inspectCommand,
  statsCommand,
  decayTickCommand,
  dreamTickCommand,
  consolidateCommand,
  setModeCommand,
  migrateStoreEncryptionCommand,
  forgetCommand,
  decayForecastCommand,
  exportArchiveCommand,
  importArchiveCommand,
  auditVerifyCommand,
];

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

  const cli = cliContext(program);
  for (const register of COMMANDS) register(program, cli);
  return program;
}
