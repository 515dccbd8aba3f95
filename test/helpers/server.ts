import { mkdtempSync, rmSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type CerememoryConfig, type PartialDeep } from '../../src/runtime/config/index.js';
import type { Scheduler } from '../../src/runtime/scheduler.js';
import { startServer, type CerememoryServer } from '../../src/server.js';

// Starts the real server on a random loopback port over a fresh (or given) data directory, with the
// environment left out so a developer's CEREMEMORY_* variables cannot change a test.

export function tempDataDir(prefix = 'cerememory-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, flags: PartialDeep<CerememoryConfig> = {}): CerememoryConfig {
  return loadConfig({
    env: {},
    cwd: dataDir,
    flags: {
      ...flags,
      data_dir: dataDir,
      http: { port: 0, ...flags.http },
      // Only the security tests are about rate limits; the others may send hundreds of requests at once.
      rate_limit: { requests_per_second: 1_000_000, burst: 1_000_000, ...flags.rate_limit },
      // Tests kill workers on purpose; restart them quickly.
      runtime: { restart_backoff_initial_ms: 50, restart_backoff_max_ms: 500, ...flags.runtime },
      // The lexical embedder unless a test asks for another: the semantic model (the default, "local")
      // costs ~1 s of CPU and ~100 MiB per server, and the suite starts over a hundred servers on two
      // cores. The tests about embeddings (test/embedding/semantic.test.ts) run the default.
      embedding: { provider: 'lexical', ...flags.embedding },
    },
  });
}

/**
 * The environment a test gives the `cerememory` command it runs as a child: the lexical embedder, for
 * the reason `testConfig` pins it (each child would otherwise load the model, ~1 s and ~100 MiB).
 */
export const LEXICAL_ENV = { CEREMEMORY_EMBEDDING__PROVIDER: 'lexical' } as const;

export interface TestServer extends CerememoryServer {
  dataDir: string;
  /** Every line the server logged (its own and its store workers'), in order. */
  logs: string[];
  /** fetch against the server; JSON bodies are encoded, JSON answers decoded. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
}

export async function startTestServer(options: { dataDir?: string; flags?: PartialDeep<CerememoryConfig>; now?: () => number; scheduler?: Scheduler } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDataDir();
  const logs: string[] = [];
  const server = await startServer(testConfig(dataDir, options.flags), {
    log: (line) => logs.push(line),
    now: options.now,
    scheduler: options.scheduler,
  });
  return Object.assign(server, {
    dataDir,
    logs,
    call: jsonCaller((path, init) => fetch(`${server.url}${path}`, init)),
  });
}

/**
 * A `call(method, path, body?, headers?)` over `send` (fetch on a real port, or Hono's `app.request` in
 * process): a JSON body, or a string sent as it is; the answer's body parsed as JSON when it is JSON.
 */
export function jsonCaller(send: (path: string, init: RequestInit) => Promise<Response>) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<TestResponse> => {
    const response = await send(path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A text content block list as the reference wire sends it (bytes as an integer array). */
export function textContent(text: string, summary?: string) {
  return {
    blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from(text, 'utf8')] }],
    ...(summary === undefined ? {} : { summary }),
  };
}

export function textOfRecord(record: { content: { blocks: { modality: string; data: string }[] } }): string {
  const block = record.content.blocks.find((candidate) => candidate.modality === 'text');
  return block ? Buffer.from(block.data, 'base64').toString('utf8') : '';
}

/**
 * One real server for a whole test file: started before the first test, closed and its data removed
 * after the last. The returned object stands for that server once it is running.
 */
export function sharedServer(options: Parameters<typeof startTestServer>[0] = {}): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(async () => {
    if (!server) return;
    await server.close();
    removeDir(server.dataDir);
  });
  return new Proxy({} as TestServer, {
    get(_target, property) {
      if (!server) throw new Error('the shared test server is not started yet (use it inside a test)');
      const value = Reflect.get(server, property, server);
      return typeof value === 'function' ? value.bind(server) : value;
    },
  });
}
