import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { auditLogPath } from '../../../audit/audit-log.js';
import type { CerememoryConfig } from '../../../runtime/config/index.js';
import { DataDirMissingError, lockHolder } from '../../../runtime/data-dir-lock.js';
import { startServer } from '../../../server.js';
import { VERSION } from '../../../version.js';
import { openEndpoint } from '../../endpoint.js';
import { serveMcpStdio } from '../../mcp/stdio.js';
import type { CliContext } from '../context.js';
import { fail } from '../fail.js';
import { configFrom, integer, port, type GlobalOptions } from '../options.js';

// The commands that serve: the server itself, MCP over stdio, and asking a server whether it is healthy.

/** `serve`: the server on one port, until SIGINT or SIGTERM. */
export function serveCommand(program: Command, { globals }: CliContext): void {
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
}

/** `mcp`: MCP over stdio, proxied to a server or on the data directory. */
export function mcpCommand(program: Command, { globals }: CliContext): void {
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
}

/** `healthcheck`: exit 0 when the server answers /health with 2xx. */
export function healthcheckCommand(program: Command, { globals }: CliContext): void {
  program
    .command('healthcheck')
    .description('Ask a server whether it is healthy (exit 0) or not (exit 1): the server that owns the data directory, else the configured address.')
    .option('--port <port>', 'port on the configured bind address (default: the configured port)', port)
    .action(async (options: { port?: number }) => {
      const url = await runningServerUrl(globals(), options.port);
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
}

/**
 * The URL of a running server to ask: --server-url, else (without `port`) the server that owns the data
 * directory, where it advertised itself (it may listen on a port picked with --port 0), else the
 * configured address (with `port` when given). Exits with a message when the configuration is invalid.
 */
export async function runningServerUrl(global: GlobalOptions, port?: number): Promise<string> {
  if (global.serverUrl !== undefined) return global.serverUrl;
  let config: CerememoryConfig;
  try {
    config = configFrom(global);
  } catch (error) {
    fail(error);
  }
  let url: string | undefined;
  if (port === undefined) {
    if (!existsSync(config.data_dir)) fail(new DataDirMissingError(config.data_dir));
    url = (await lockHolder(config.data_dir))?.url;
  }
  const host = config.http.bind_address.includes(':') ? `[${config.http.bind_address}]` : config.http.bind_address;
  return url ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port ?? config.http.port}`;
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
