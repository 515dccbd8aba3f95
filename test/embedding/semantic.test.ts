import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/runtime/config/index.js';
import { EXACT, encodeBatch, idsOf, recall, waitFor } from '../helpers/recall.js';
import { removeDir, startTestServer, tempDataDir, textContent, type TestServer } from '../helpers/server.js';

// The semantic local embedder (issue 17) through the real server: the default configuration finds
// paraphrases that share no word stem with the memory, where the lexical embedder cannot; vectors follow
// the write and the backlog is reported; a change of embedder re-embeds on start; a model that cannot
// load falls back to the lexical embedder and says so; and nothing of it opens a connection off the
// machine (recorded by strace over every thread of this process).

/** Memories and paraphrasing cues with no word stem in common (function words aside). */
const PAIRS = [
  ['My daughter takes violin lessons every Saturday', 'the child practises a string instrument'],
  ['I bought a new car yesterday', 'purchased an automobile recently'],
  ['We adopted a puppy last spring', 'got a young dog'],
  ['My flight to Tokyo was cancelled', 'airline trip to Japan called off'],
  ['The doctor said my blood pressure is too high', 'physician warned about hypertension'],
  ['Our kitchen sink is leaking again', 'plumbing problem at home'],
] as const;

/** The default configuration is what these tests run (the helper pins "lexical" for the others). */
const DEFAULT_EMBEDDING = { provider: loadConfig({ env: {}, cwd: tempDataDir() }).embedding.provider };

const servers: TestServer[] = [];
afterAll(async () => {
  for (const server of servers.splice(0)) await server.close().catch(() => undefined);
});

async function start(dataDir: string, embedding: Record<string, unknown>): Promise<TestServer> {
  const server = await startTestServer({ dataDir, flags: { embedding } });
  servers.push(server);
  return server;
}

async function stop(server: TestServer): Promise<void> {
  servers.splice(servers.indexOf(server), 1);
  await server.close();
}

/** /readiness once no record waits for its vector; returns its embedding report. */
async function vectorsSettled(server: TestServer): Promise<{ embedder: string; query_vectors: string; vector_backlog: number; links_pending: number }> {
  return waitFor(
    async () => {
      const { body } = await server.call('GET', '/readiness');
      return body.embedding?.vector_backlog === 0 && body.embedding.links_pending === 0 ? body.embedding : undefined;
    },
    60_000,
    'the vector backlog to drain',
  );
}

/** /readiness once cues are embedded by the static query table (distilled in the background). */
async function staticQueries(server: TestServer): Promise<void> {
  await waitFor(
    async () => {
      const { body } = await server.call('GET', '/readiness');
      return body.embedding?.query_vectors === 'static' ? true : undefined;
    },
    120_000,
    'the static query table',
  );
}

async function stats(server: TestServer, space: string): Promise<any> {
  const response = await server.call('GET', `/v1/introspect/stats?space=${encodeURIComponent(space)}`);
  expect(response.status).toBe(200);
  return response.body;
}

/** For each pair: whether the memory is the first hit of its paraphrase. */
async function paraphrasesFirst(server: TestServer, space: string, ids: string[]): Promise<boolean[]> {
  const found: boolean[] = [];
  for (const [index, [, cue]] of PAIRS.entries()) {
    const body = await recall(server, space, { cue: { text: cue }, limit: 3, ...EXACT });
    found.push(idsOf(body)[0] === ids[index]);
  }
  return found;
}

/**
 * Records every connect/send of this process's threads (the embedding and store workers included: a
 * diagnostics channel would see only the thread it is subscribed in) with a destination address.
 */
class ConnectionRecorder {
  readonly file = join(tempDataDir('cerememory-strace-'), 'trace.log');
  #child: ChildProcess | undefined;

  static available(): boolean {
    return spawnSync('strace', ['-V']).status === 0;
  }

  async start(): Promise<void> {
    const child = spawn('strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', this.file, '-p', String(process.pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    // Attached once it has written its first line (any traced call of ours: the probe below makes one).
    await waitFor(
      async () => {
        connect(9, '127.0.0.2').on('error', () => undefined);
        return existsSync(this.file) && readFileSync(this.file, 'utf8').includes('127.0.0.2') ? true : undefined;
      },
      20_000,
      'strace to attach',
    );
  }

  /** Destinations other than loopback, each once. */
  outgoing(): string[] {
    const found = new Set<string>();
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      for (const match of line.matchAll(/inet_(?:addr|pton)\((?:AF_INET6?, )?"([^"]+)"/g)) {
        const address = match[1];
        if (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address) || address === '0.0.0.0' || address === '::') continue;
        found.add(address);
      }
    }
    return [...found];
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT');
    await exited;
  }
}

describe.skipIf(!ConnectionRecorder.available())('the default embedder through the real server', () => {
  const dataDir = tempDataDir();
  const recorder = new ConnectionRecorder();
  let ids: string[] = [];
  afterAll(async () => {
    await recorder.stop();
    removeDir(dataDir);
  });

  it('has a recorder that sees an outgoing connection from this process', async () => {
    expect(DEFAULT_EMBEDDING.provider).toBe('local');
    await recorder.start();
    // TEST-NET-1 (RFC 5737): never routed, so nothing leaves the machine; the attempt is what counts.
    connect(9, '192.0.2.1').on('error', () => undefined);
    await waitFor(async () => (recorder.outgoing().includes('192.0.2.1') ? true : undefined), 20_000, 'the probe connection in the trace');
  });

  it('the lexical embedder does not find the paraphrases', async () => {
    const server = await start(dataDir, { provider: 'lexical' });
    ids = await encodeBatch(
      server,
      'para',
      PAIRS.map(([memory]) => ({ content: textContent(memory), store: 'episodic' })),
      false,
    );
    const found = await paraphrasesFirst(server, 'para', ids);
    expect(found.filter(Boolean).length).toBeLessThanOrEqual(1);
    expect((await stats(server, 'para')).embedder).toBe('local-hash-v1/256');
    await stop(server);
  });

  it('switching to the default re-embeds on start, with a progress line, and finds every paraphrase', async () => {
    const server = await start(dataDir, DEFAULT_EMBEDDING);
    expect(server.logs.some((line) => /episodic: rebuilding indexes: the snapshot was embedded by local-hash-v1\/256, now use-lite-v1\/512/.test(line))).toBe(true);
    expect(server.logs.some((line) => /episodic: vectors: embedding 6 records in the background with use-lite-v1\/512/.test(line))).toBe(true);
    expect(await vectorsSettled(server)).toMatchObject({ embedder: 'use-lite-v1/512', vector_backlog: 0, links_pending: 0 });
    expect(await stats(server, 'para')).toMatchObject({ embedder: 'use-lite-v1/512', vector_index_records: PAIRS.length, vector_backlog: 0 });
    // The default embeds cues by the static query table once it is distilled (a few seconds after the
    // first start); the paraphrases are judged with it, as every later recall is.
    await staticQueries(server);
    expect(server.logs.some((line) => /^embedding: static query table distilled: 8000 pieces/.test(line))).toBe(true);
    expect(await paraphrasesFirst(server, 'para', ids)).toEqual(PAIRS.map(() => true));
    // A re-embedding and the table's distillation (model time) inside: a safety net for a loaded machine.
  }, 240_000);

  it('stores and recalls new memories by meaning, and nothing connected off the machine', async () => {
    const server = servers.at(-1)!;
    const [fresh] = await encodeBatch(server, 'para', [{ content: textContent('I am learning to play the cello'), store: 'episodic' }], false);
    await vectorsSettled(server);
    const body = await recall(server, 'para', { cue: { text: 'taking lessons on a bowed instrument' }, limit: 2, ...EXACT });
    expect(idsOf(body)).toContain(fresh);
    await stop(server);
    await recorder.stop();
    expect(recorder.outgoing()).toEqual(['192.0.2.1']);
  });
});

describe('the vector backlog', () => {
  it('vectors follow the acknowledged write, the backlog is reported, and a crash loses none', async () => {
    const dataDir = tempDataDir();
    // Cues by the model: this test is about record vectors (and one distillation per file is enough).
    const server = await start(dataDir, { ...DEFAULT_EMBEDDING, query_vectors: 'model' });
    const records = Array.from({ length: 120 }, (_, n) => ({ content: textContent(`Note ${n}: the team met about the quarterly plan and item ${n}`), store: 'episodic' }));
    const ids = await encodeBatch(server, 'backlog', records, false);
    // Every acknowledged record is either indexed or waiting: the two figures always add up.
    const first = await stats(server, 'backlog');
    expect(first.vector_index_records + first.vector_backlog).toBe(ids.length);
    // Meanwhile text recall finds a record whatever its vector's state.
    const byText = await recall(server, 'backlog', { cue: { text: 'item 77' }, limit: 1, ...EXACT });
    expect(idsOf(byText)).toEqual([ids[77]]);
    // A crash of the store now: whatever vectors were still owed are computed after its restart.
    await server.runtime.workers.get('episodic')!.kill();
    await waitFor(async () => (server.runtime.health().every((store) => store.state === 'ready') ? true : undefined), 30_000, 'the restart');
    expect(await vectorsSettled(server)).toEqual({ embedder: 'use-lite-v1/512', query_vectors: 'model', vector_backlog: 0, links_pending: 0 });
    expect(server.logs.some((line) => line.includes('static query table'))).toBe(false);
    expect(await stats(server, 'backlog')).toMatchObject({ vector_index_records: ids.length, vector_backlog: 0 });
    await stop(server);
    removeDir(dataDir);
  });
});

describe('a model that cannot load', () => {
  it('falls back to the lexical embedder with one log line naming why', async () => {
    const dataDir = tempDataDir();
    const missing = join(dataDir, 'no-model-here');
    const server = await start(dataDir, { ...DEFAULT_EMBEDDING, model_dir: missing });
    const lines = server.logs.filter((line) => line.includes('could not load'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^embedding: the semantic model \(use-lite-v1\) could not load \(.*no-model-here.*\); falling back to the lexical embedder local-hash-v1\/256$/);
    const [id] = await encodeBatch(server, 'fallback', [{ content: textContent('deployed the billing service'), store: 'episodic' }], false);
    expect(await vectorsSettled(server)).toEqual({ embedder: 'local-hash-v1/256', query_vectors: 'model', vector_backlog: 0, links_pending: 0 });
    expect(await stats(server, 'fallback')).toMatchObject({ embedder: 'local-hash-v1/256', vector_index_records: 1 });
    expect(idsOf(await recall(server, 'fallback', { cue: { text: 'deploying billing' }, limit: 1, ...EXACT }))).toEqual([id]);
    await stop(server);
    removeDir(dataDir);
  });
});
