import type { Command } from 'commander';
import { openEndpoint, type CmpEndpoint, type CmpObject } from '../endpoint.js';
import { fail } from './fail.js';
import { configFrom, type GlobalOptions } from './options.js';

/** What every command gets: the global options and the runner of a memory command. */
export interface CliContext {
  globals: () => GlobalOptions;
  run: RunMemoryCommand;
}

/** One command registered on `program` (commander lists them in help in the order registered). */
export type RegisterCommand = (program: Command, cli: CliContext) => void;

export type RunMemoryCommand = (
  call: (endpoint: CmpEndpoint, space: string | undefined) => Promise<CmpObject>,
  human: (result: CmpObject) => string[],
  options?: { createsDataDir?: boolean },
) => () => Promise<void>;

export function cliContext(program: Command): CliContext {
  const globals = () => program.opts<GlobalOptions>();

  /**
   * A memory command: one CMP call on the endpoint, printed as JSON or through `human`. The space
   * option is added to the request unless the command set one. Only commands that store memories
   * may create a missing data directory (`createsDataDir`); the others say it does not exist.
   */
  const run: RunMemoryCommand = (call, human, { createsDataDir = false } = {}) => {
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
  };

  return { globals, run };
}
