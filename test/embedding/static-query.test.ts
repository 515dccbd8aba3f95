import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingService } from '../../src/embedding/embed-service.js';
import type { EmbedClient } from '../../src/embedding/embed-client.js';
import { readPieceTable } from '../../src/embedding/static-query.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

// Static query vectors (static-query.ts) with the real model in the real embedding worker: the piece
// table is distilled from the model once (a damaged cache file is not trusted), cached, and read back by
// the next start without distilling; a cue's static vector lies nearest its paraphrase's full-model
// vector. One distillation in this file (~6 s of model time unloaded).

/** Memories and paraphrasing cues with no word stem in common (as in semantic.test.ts). */
const PAIRS = [
  ['My daughter takes violin lessons every Saturday', 'the child practises a string instrument'],
  ['I bought a new car yesterday', 'purchased an automobile recently'],
  ['We adopted a puppy last spring', 'got a young dog'],
  ['My flight to Tokyo was cancelled', 'airline trip to Japan called off'],
  ['The doctor said my blood pressure is too high', 'physician warned about hypertension'],
  ['Our kitchen sink is leaking again', 'plumbing problem at home'],
] as const;

const dir = join(tempDataDir('cerememory-static-'), 'embedding');
const cache = join(dir, 'use-lite-v1.pieces.f32');
const services: EmbeddingService[] = [];
afterAll(async () => {
  for (const service of services.splice(0)) await service.close();
  removeDir(join(dir, '..'));
});

async function start(): Promise<{ service: EmbeddingService; logs: string[]; client: EmbedClient }> {
  const logs: string[] = [];
  const service = EmbeddingService.start({ staticQueryDir: dir }, (line) => logs.push(line));
  services.push(service);
  const client = await service.client({ staticQueries: true });
  return { service, logs, client };
}

async function stop(service: EmbeddingService): Promise<void> {
  services.splice(services.indexOf(service), 1);
  await service.close();
}

const cosine = (a: Float32Array, b: Float32Array) => {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let k = 0; k < a.length; k++) {
    dot += a[k] * b[k];
    na += a[k] * a[k];
    nb += b[k] * b[k];
  }
  return dot / Math.sqrt(na * nb);
};

describe('the static query table', () => {
  let first: Float32Array[] = [];

  it('is distilled from the model when the cached file is damaged, and cached', async () => {
    // A file of the right name that is not a piece table (as a crash mid-copy or a bad disk leaves it).
    mkdirSync(dir, { recursive: true });
    writeFileSync(cache, Buffer.alloc(4096, 7));
    const { service, logs, client } = await start();
    expect(client.name).toBe('use-lite-v1');
    // Cues run the model until the table is there.
    const before = await client.embedQuery('purchased an automobile recently');
    const [model] = await client.embed(['purchased an automobile recently']);
    if (!before.static) expect(Array.from(before.vector)).toEqual(Array.from(model));
    await client.staticQueriesReady();
    expect(client.staticQueries).toBe(true);
    expect(logs.some((line) => /^embedding: distilling the static query table \(the cached piece table is damaged\): 8000 pieces/.test(line))).toBe(true);
    expect(logs.some((line) => /^embedding: static query table distilled: 8000 pieces in [\d.]+ s, cached in .*use-lite-v1\.pieces\.f32$/.test(line))).toBe(true);
    expect(statSync(cache).size).toBeGreaterThan(8000 * 512 * 4);
    first = await Promise.all(PAIRS.map(async ([, cue]) => (await client.embedQuery(cue)).vector));
    await stop(service);
  }, 180_000);

  it('is read back by the next start, not distilled again, and gives the same vectors', async () => {
    const mtime = statSync(cache).mtimeMs;
    const { service, logs, client } = await start();
    await client.staticQueriesReady();
    expect(logs.some((line) => /^embedding: static query table \(8000 pieces\) read from .* in \d+ ms$/.test(line))).toBe(true);
    expect(logs.some((line) => line.includes('distill'))).toBe(false);
    expect(statSync(cache).mtimeMs).toBe(mtime);
    for (const [i, [, cue]] of PAIRS.entries()) expect(Array.from((await client.embedQuery(cue)).vector)).toEqual(Array.from(first[i]));
    await stop(service);
  }, 60_000);

  it('puts a paraphrase cue nearest the full-model vector of its memory', async () => {
    const { service, client } = await start();
    await client.staticQueriesReady();
    const memories = await client.embed(PAIRS.map(([memory]) => memory));
    const nearest: number[] = [];
    for (const [, cue] of PAIRS) {
      const { vector, static: isStatic } = await client.embedQuery(cue);
      expect(isStatic).toBe(true);
      const scores = memories.map((memory) => cosine(vector, memory));
      nearest.push(scores.indexOf(Math.max(...scores)));
    }
    expect(nearest).toEqual(PAIRS.map((_, i) => i));
    // Unit length, and blank is the zero vector (as the model path gives).
    const { vector: unit } = await client.embedQuery('a string instrument');
    expect(Math.hypot(...unit)).toBeCloseTo(1, 5);
    expect((await client.embedQuery('   ')).vector.every((x) => x === 0)).toBe(true);
    await stop(service);
  }, 60_000);

  it('a client that did not ask for it (query_vectors = "model") embeds cues by the model', async () => {
    const logs: string[] = [];
    const service = EmbeddingService.start({}, (line) => logs.push(line));
    services.push(service);
    const client = await service.client();
    const [model] = await client.embed(['got a young dog']);
    expect(await client.embedQuery('got a young dog')).toEqual({ vector: model, static: false });
    expect(client.staticQueries).toBe(false);
    expect(logs.some((line) => line.includes('static query table'))).toBe(false);
    await stop(service);
  }, 60_000);

  it('a cached file of another model, or damaged, is not read', () => {
    expect(existsSync(cache)).toBe(true);
    const header = readFileSync(cache);
    const json = JSON.parse(header.toString('utf8', 12, 12 + header.readUInt32LE(8))) as { fingerprint: string };
    const key = { model: 'use-lite-v1', fingerprint: json.fingerprint, vocabulary: 8000, dimension: 512 };
    expect(readPieceTable(cache, key).table?.length).toBe(8000 * 512);
    expect(readPieceTable(cache, { ...key, fingerprint: 'another' }).reason).toBe('the cached piece table is of another model');
    expect(readPieceTable(cache, { ...key, vocabulary: 7999 }).reason).toBe('the cached piece table is of another model');
    const flipped = Buffer.from(header);
    flipped[flipped.length - 5] ^= 0x40;
    writeFileSync(`${cache}.bad`, flipped);
    expect(readPieceTable(`${cache}.bad`, key).reason).toBe('the cached piece table is damaged');
    writeFileSync(`${cache}.bad`, header.subarray(0, header.length - 4));
    expect(readPieceTable(`${cache}.bad`, key).reason).toBe('the cached piece table is damaged');
    expect(readPieceTable(join(dir, 'missing'), key).reason).toBe('no cached piece table');
  });
});
