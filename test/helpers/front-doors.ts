import { join } from 'node:path';
import { createRouterTransport } from '@connectrpc/connect';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import type { CerememoryConfig, PartialDeep } from '../../src/runtime/config/index.js';
import { startRuntime, type Runtime } from '../../src/runtime/runtime.js';
import { withProtocolErrors } from '../../src/transports/connect/protocol-errors.js';
import { cerememoryRoutes } from '../../src/transports/connect/service.js';
import { cmpErrorInterceptor } from '../../src/transports/connect/wire.js';
import { localEndpoint } from '../../src/transports/endpoint.js';
import { createMcpServer } from '../../src/transports/mcp/tools.js';
import { createRestApp } from '../../src/transports/rest/app.js';
import { VERSION } from '../../src/version.js';
import { jsonCaller, removeDir, tempDataDir, testConfig, type TestResponse } from './server.js';

// The three front doors of one runtime, in process (issue 18, move 5): REST through Hono's
// `app.request`, Connect through connect-es `createRouterTransport`, MCP through the SDK's
// `InMemoryTransport`. No port, no socket: a test reaches the same handlers a client would, and a file
// boots its runtime once. What only a real port shows (protocol negotiation, HTTP/2, the one-port
// fallthrough, Host/Origin guards) stays in the real-port smoke tests.

export interface FrontDoors {
  /** A REST call through `app.request`, answered like `TestServer.call` (JSON decoded). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
  /** The typed client over an in-memory Connect router (binary protobuf unless `binary: false`). */
  connect(options?: { binary?: boolean }): CerememoryClient;
  /** An MCP client linked to a fresh MCP server over the runtime (`export` writes under `exportsDir`). */
  mcp(): Promise<McpClient>;
}

export function frontDoors(runtime: Runtime, options: { log?: (line: string) => void; exportsDir?: string } = {}): FrontDoors {
  const log = options.log;
  const app = createRestApp({
    operations: runtime.operations,
    health: () => runtime.health(),
    log,
    maxBodyBytes: runtime.config.http.max_body_bytes,
  });
  const routes = (router: Parameters<ReturnType<typeof cerememoryRoutes>>[0]) => {
    cerememoryRoutes({ operations: runtime.operations })(router);
    withProtocolErrors(router);
  };
  return {
    call: jsonCaller(async (path, init) => app.request(path, init)),
    connect({ binary = true } = {}) {
      const transport = createRouterTransport(routes, {
        transport: { useBinaryFormat: binary },
        router: { readMaxBytes: runtime.config.http.max_body_bytes, interceptors: [cmpErrorInterceptor(log)] },
      });
      return new CerememoryClient({ baseUrl: 'http://in-process', transport });
    },
    async mcp() {
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const exports = { kind: 'folder' as const, directory: options.exportsDir ?? join(runtime.config.data_dir, 'exports') };
      await createMcpServer(localEndpoint(runtime.operations), VERSION, { exports }).connect(serverSide);
      const client = new McpClient({ name: 'cerememory-test', version: '1.0.0' });
      await client.connect(clientSide);
      return client;
    },
  };
}

export interface TestRuntime extends FrontDoors {
  readonly runtime: Runtime;
  readonly dataDir: string;
  /** Every line the runtime logged (its own and its store workers'), in order. */
  readonly logs: string[];
}

/**
 * One runtime for a whole test file, no server: booted before the first test, closed and its data
 * removed after the last, MCP clients closed with it. The returned object stands for it once booted.
 */
export function sharedRuntime(options: { flags?: PartialDeep<CerememoryConfig>; now?: () => number } = {}): TestRuntime {
  let state: { runtime: Runtime; dataDir: string; doors: FrontDoors } | undefined;
  const logs: string[] = [];
  const closers: (() => Promise<unknown> | void)[] = [];
  beforeAll(async () => {
    const dataDir = tempDataDir();
    const log = (line: string) => logs.push(line);
    const runtime = await startRuntime(testConfig(dataDir, options.flags), { log, now: options.now });
    state = { runtime, dataDir, doors: frontDoors(runtime, { log }) };
  });
  afterAll(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()));
    if (!state) return;
    await state.runtime.close();
    removeDir(state.dataDir);
  });
  const booted = () => {
    if (!state) throw new Error('the shared test runtime is not booted yet (use it inside a test)');
    return state;
  };
  return {
    get runtime() {
      return booted().runtime;
    },
    get dataDir() {
      return booted().dataDir;
    },
    logs,
    call: (...args) => booted().doors.call(...args),
    connect(connectOptions) {
      const client = booted().doors.connect(connectOptions);
      closers.push(() => client.close());
      return client;
    },
    async mcp() {
      const client = await booted().doors.mcp();
      closers.push(() => client.close());
      return client;
    },
  };
}
