import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

// Static query vectors (issue 17): a recall cue embedded in microseconds instead of a model run of
// 12–60 ms. The model is run once on every piece of its SentencePiece vocabulary alone (the piece
// table: 8,000 × 512, distilled in the embedding worker after the model loads, ~6 s, cached in the data
// directory); a cue's vector is then the weighted mean of its pieces' rows, less the common direction,
// normalised. Only cues: documents keep their full-model vectors, which a static cue is compared with.
//
// The weighting uses nothing but the vocabulary file: SentencePiece's unigram log-probabilities give each
// piece its probability p, and a piece weighs a/(a + p) (smooth inverse frequency, a = SIF_A): "the",
// "▁a", "s" count for little, rare pieces fully. The common direction every mean leans to is the
// expectation of a weighted piece row under the unigram distribution (Σ p·w·row, normalised); it is
// projected out of every cue. Measured offline on the LoCoMo dev conversations (static cue against
// full-model two-turn windows, in the probe's best fusion, text weight 0.55): R@5/R@10 0.723/0.788,
// against 0.741/0.806 with the model per cue, and 0.724/0.790 with weights and direction fitted on
// the evaluation turns themselves (IDF and their mean), which the product does not have. Through REST
// (bench retrieval, the product's fusion): 0.652/0.740 against 0.674/0.769 with the model per cue.

/** The SIF constant a: of the values measured (1e-3 … 3e-5), all within 0.003 R@10; 3e-4 the best. */
export const SIF_A = 3e-4;
/** Bumped when the file layout or the distillation changes: an older file is then recomputed. */
const CACHE_MAGIC = 'CMPIECE1';

export type Vocabulary = Array<[string, number]>;

export interface Tokenizer {
  encode(text: string): number[];
}

/** What a piece table was made from; a cache file made from anything else is recomputed. */
export interface PieceTableKey {
  /** The embedder's name (use-lite-v1). */
  model: string;
  /** sha256 of the model's files (graph and vocabulary), hex. */
  fingerprint: string;
  vocabulary: number;
  dimension: number;
}

/** The cue side: pieces → a vector. Built in whichever thread embeds cues, from a shared table. */
export class StaticQueryEmbedder {
  readonly dimension: number;
  readonly #table: Float32Array;
  readonly #weights: Float32Array;
  readonly #common: Float32Array;
  readonly #tokenizer: Tokenizer;
  readonly #prepare: (text: string) => string;

  /**
   * `table`: vocabulary.length × dimension piece rows (may live in a SharedArrayBuffer: only read).
   * `prepare`: the same text preparation as the model path (use-lite.ts prepareText).
   */
  constructor(table: Float32Array, vocabulary: Vocabulary, tokenizer: Tokenizer, prepare: (text: string) => string) {
    const size = vocabulary.length;
    const dimension = table.length / size;
    if (!Number.isInteger(dimension) || dimension <= 0) throw new Error(`piece table of ${table.length} floats does not fit a vocabulary of ${size}`);
    this.dimension = dimension;
    this.#table = table;
    this.#tokenizer = tokenizer;
    this.#prepare = prepare;
    this.#weights = new Float32Array(size);
    const common = new Float64Array(dimension);
    for (let id = 0; id < size; id++) {
      const p = Math.exp(vocabulary[id][1]);
      const weight = SIF_A / (SIF_A + p);
      this.#weights[id] = weight;
      const scale = p * weight;
      const row = id * dimension;
      for (let k = 0; k < dimension; k++) common[k] += scale * table[row + k];
    }
    this.#common = normalised(common);
  }

  /** The cue's vector (zero for a blank text, as the model path gives). */
  embed(text: string): Float32Array {
    const out = new Float32Array(this.dimension);
    const prepared = this.#prepare(text);
    if (prepared === '') return out;
    const d = this.dimension;
    const table = this.#table;
    for (const id of this.#tokenizer.encode(prepared)) {
      const weight = this.#weights[id];
      const row = id * d;
      for (let k = 0; k < d; k++) out[k] += weight * table[row + k];
    }
    let along = 0;
    for (let k = 0; k < d; k++) along += out[k] * this.#common[k];
    let norm = 0;
    for (let k = 0; k < d; k++) {
      out[k] -= along * this.#common[k];
      norm += out[k] * out[k];
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (let k = 0; k < d; k++) out[k] /= norm;
    return out;
  }
}

function normalised(vector: Float64Array): Float32Array {
  let norm = 0;
  for (const x of vector) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Float32Array.from(vector, (x) => x / norm);
}

// The cache file: CACHE_MAGIC, a uint32 (little-endian) byte length of a JSON header, the header
// ({ ...PieceTableKey, sha256 of the rows }), zero padding to a multiple of 4, then the rows as
// little-endian float32. Written to a temporary file, fsynced, renamed over the old one.

/** The piece table in `path` if it is whole and made from `key`; undefined otherwise (missing, damaged, other model). */
export function readPieceTable(path: string, key: PieceTableKey): { table: Float32Array; reason?: undefined } | { table?: undefined; reason: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return { reason: 'no cached piece table' };
  }
  const damaged = { reason: 'the cached piece table is damaged' };
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== CACHE_MAGIC) return damaged;
  const headerLength = bytes.readUInt32LE(8);
  if (12 + headerLength > bytes.length) return damaged;
  let header: PieceTableKey & { sha256?: unknown };
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + headerLength)) as PieceTableKey & { sha256?: unknown };
  } catch {
    return damaged;
  }
  if (header.model !== key.model || header.fingerprint !== key.fingerprint || header.vocabulary !== key.vocabulary || header.dimension !== key.dimension) {
    return { reason: 'the cached piece table is of another model' };
  }
  const start = align4(12 + headerLength);
  const length = key.vocabulary * key.dimension * 4;
  if (bytes.length !== start + length) return damaged;
  const rows = bytes.subarray(start);
  if (header.sha256 !== createHash('sha256').update(rows).digest('hex')) return damaged;
  const table = new Float32Array(new SharedArrayBuffer(length));
  new Uint8Array(table.buffer).set(rows);
  return { table };
}

/** Writes the table atomically (temporary file, fsync, rename). */
export function writePieceTable(path: string, key: PieceTableKey, table: Float32Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const rows = Buffer.from(table.buffer, table.byteOffset, table.byteLength);
  const header = Buffer.from(JSON.stringify({ ...key, sha256: createHash('sha256').update(rows).digest('hex') }), 'utf8');
  const prefix = Buffer.alloc(align4(12 + header.length));
  prefix.write(CACHE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(header.length, 8);
  header.copy(prefix, 12);
  const temporary = `${path}.tmp`;
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeFileSync(fd, prefix);
      writeFileSync(fd, rows);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
