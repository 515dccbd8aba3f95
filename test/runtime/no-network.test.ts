// DESIGN §1 / spec §4.11: with no provider configured, Cerememory opens no network connection. Every
// outgoing connect — in this thread and in every store worker thread — is recorded while the server
// stores, recalls, dreams, consolidates and decays; all of them must be loopback to the test's own server.
//
// How: `net.Socket.prototype.connect` is wrapped here, and in each worker by prefixing the worker's boot
// code (eval'd workers, src/runtime/spawn-worker.ts) through a wrapped `worker_threads.Worker`; workers
// report over a BroadcastChannel so the store's own comlink messages are untouched. fetch (undici), http
// and tls all end in that one method.
import { rmSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import workerThreads, { BroadcastChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startFakeProvider } from '../helpers/fake-provider.js';
import { removeDir, startTestServer, textContent, type TestServer } from '../helpers/server.js';

interface Connect {
  thread: 'main' | 'worker';
  host?: string;
  port?: number;
  path?: string;
}

const CHANNEL = 'cerememory-test-connects';

/** Reads the target of any `socket.connect(...)` call form, including node's internal normalised array. */
const DESCRIBE_CONNECT = `function describeConnect(args) {
  let first = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (typeof first === 'object' && first !== null) return { host: first.host, port: Number(first.port), path: first.path };
  if (typeof first === 'string' && !/^\\d+$/.test(first)) return { path: first };
  return { port: Number(first), host: typeof args[1] === 'string' ? args[1] : undefined };
}`;

const WORKER_PATCH = `{
  const net = require('node:net');
  const { BroadcastChannel } = require('node:worker_threads');
  const channel = new BroadcastChannel(${JSON.stringify(CHANNEL)});
  channel.unref();
  ${DESCRIBE_CONNECT}
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function recordConnect(...args) {
    channel.postMessage({ thread: 'worker', ...describeConnect(args) });
    return connect.apply(this, args);
  };
  // A barrier: messages of one sender arrive in order, so the reply comes after every report before it.
  channel.onmessage = (event) => {
    if (event.data && event.data.flush !== undefined) channel.postMessage({ flushed: event.data.flush });
  };
}
`;

const connects: Connect[] = [];
const originalConnect = net.Socket.prototype.connect;
const OriginalWorker = workerThreads.Worker;
let channel: BroadcastChannel;

beforeAll(() => {
  const describeConnect = new Function(`${DESCRIBE_CONNECT}; return describeConnect;`)() as (args: unknown[]) => Omit<Connect, 'thread'>;
  net.Socket.prototype.connect = function recordConnect(this: net.Socket, ...args: unknown[]) {
    connects.push({ thread: 'main', ...describeConnect(args) });
    return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => {
    const data = (event as unknown as { data: Connect | { flushed: number } }).data;
    if ('flushed' in data) flushReplies.get(data.flushed)?.();
    else connects.push(data);
  };
  class RecordingWorker extends OriginalWorker {
    constructor(filename: string | URL, options: workerThreads.WorkerOptions = {}) {
      super(options.eval === true ? WORKER_PATCH + String(filename) : filename, options);
    }
  }
  workerThreads.Worker = RecordingWorker;
  // The ESM named export `Worker` (what spawn-worker.ts imports) follows the patched CommonJS one.
  syncBuiltinESMExports();
});

afterAll(() => {
  net.Socket.prototype.connect = originalConnect;
  workerThreads.Worker = OriginalWorker;
  syncBuiltinESMExports();
  channel.close();
});

const flushReplies = new Map<number, () => void>();
let flushes = 0;

/**
 * Waits until every report the server's store workers posted so far has arrived: each live worker
 * answers a flush after its earlier reports (no sleep that hopes they are in by then).
 */
async function settle(server: TestServer): Promise<void> {
  const id = ++flushes;
  let replies = 0;
  const all = new Promise<void>((resolve) => flushReplies.set(id, () => ++replies === server.runtime.workers.size && resolve()));
  channel.postMessage({ flush: id });
  await all;
  flushReplies.delete(id);
}

function isLoopback(host: string | undefined): boolean {
  return host === undefined || host === 'localhost' || host === '::1' || /^127\./.test(host);
}

async function exercise(server: TestServer, space: string): Promise<void> {
  const ok = (answer: { status: number; body: unknown }) => expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  ok(await server.call('POST', '/v1/encode', { space, content: textContent('Alice moved to Berlin in 2024') }));
  ok(
    await server.call('POST', '/v1/encode/batch', {
      space,
      infer_associations: true,
      records: [
        { content: textContent('Bob likes tea'), store: 'episodic' },
        { content: textContent('Tea is grown in Assam'), store: 'semantic' },
      ],
    }),
  );
  for (const text of ['We picked LevelDB for partitions', 'LevelDB keeps stores isolated']) {
    ok(
      await server.call('POST', '/v1/encode/raw', {
        space,
        session_id: 's1',
        source: 'conversation',
        speaker: 'user',
        visibility: 'normal',
        secrecy_level: 'public',
        content: textContent(text),
      }),
    );
  }
  ok(await server.call('POST', '/v1/recall/query', { space, cue: { text: 'tea' }, format: 'claude', budget_tokens: 200 }));
  ok(await server.call('POST', '/v1/recall/query', { space, cue: {} }));
  ok(await server.call('POST', '/v1/lifecycle/dream-tick', { space }));
  ok(await server.call('POST', '/v1/lifecycle/consolidate', { space, strategy: 'full' }));
  ok(await server.call('POST', '/v1/lifecycle/decay-tick', { space }));
}

describe('with no provider configured', () => {
  it('connects to nothing but its own loopback server during store, recall, dream, consolidate and decay', async () => {
    const server = await startTestServer();
    try {
      connects.length = 0;
      await exercise(server, 'offline');
      await settle(server);
      const port = Number(new URL(server.url).port);
      // The recorder works: the test's own requests are in it.
      expect(connects.some((c) => c.port === port)).toBe(true);
      const elsewhere = connects.filter((c) => !(isLoopback(c.host) && c.port === port));
      expect(elsewhere).toEqual([]);
    } finally {
      await server.close();
      removeDir(server.dataDir);
    }
  });
});

describe('the recorder itself', () => {
  it('sees connections made inside store workers (an index rebuild with a remote embedder)', async () => {
    const embeddings = await startFakeProvider((request, res) => json(res, 200, { data: (request.body.input as string[]).map((_text, index) => ({ index, embedding: Array(16).fill(0.25) })) }));
    // A store written offline, its index snapshot then removed: the worker re-embeds its records at start.
    const offline = await startTestServer({ flags: { embedding: { dimension: 16 } } });
    await offline.call('POST', '/v1/encode', { space: 'online', content: textContent('Alice moved to Berlin'), store: 'semantic' });
    await offline.close();
    rmSync(join(offline.dataDir, 'semantic.indexes'), { recursive: true, force: true });
    connects.length = 0;
    const server = await startTestServer({
      dataDir: offline.dataDir,
      flags: { embedding: { provider: 'openai_compatible', base_url: `${embeddings.origin}/v1`, model: 'fake', dimension: 16 } },
    });
    try {
      await settle(server);
      expect(embeddings.requests.length).toBeGreaterThan(0);
      expect(connects).toContainEqual(expect.objectContaining({ thread: 'worker', port: embeddings.port }));
    } finally {
      await server.close();
      removeDir(server.dataDir);
      await embeddings.close();
    }
  });
});
