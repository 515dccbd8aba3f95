import { invalidField } from '../../cmp/errors.js';

// The knobs of a VectorIndex (hnswlib's), their one set of defaults and their ranges. The configuration's
// `[stores.<name>.vector_index]` defaults are these (runtime/config/stores.ts).

export interface VectorIndexOptions {
  /**
   * Links per node (hnswlib `M`); layer 0 keeps 2·M. More links: better recall, more memory
   * (≈ 8·M bytes per vector) and slower inserts. Unitless, default 16, range 2..128.
   */
  m: number;
  /**
   * Candidate list size while inserting (hnswlib `ef_construction`). Higher builds a better graph,
   * inserts slow down roughly linearly. Candidates, default 64 (200 builds 3x slower for no recall gain
   * on embedding-like data), range 8..4096.
   */
  efConstruction: number;
  /**
   * Candidate list size while searching (hnswlib `ef`); a search uses max(efSearch, k). Higher:
   * better recall, slower queries. Candidates, default 64, range 1..4096.
   */
  efSearch: number;
  /**
   * Slots allocated when a (space, dimension) graph is created; a full graph doubles (resizeIndex).
   * Vectors, default 1024, range 1..2^31.
   */
  initialCapacity: number;
  /** Seed of hnswlib's level generator, so a build is reproducible. Integer, default 100, range ≥ 0. */
  randomSeed: number;
}

export const defaultVectorIndexOptions: Readonly<VectorIndexOptions> = Object.freeze({
  m: 16,
  efConstruction: 64,
  efSearch: 64,
  initialCapacity: 1024,
  randomSeed: 100,
});

/** Allowed values of each knob, inclusive; every knob is an integer. */
export const VECTOR_INDEX_RANGES: Readonly<Record<keyof VectorIndexOptions, readonly [number, number]>> = Object.freeze({
  m: [2, 128],
  efConstruction: [8, 4096],
  efSearch: [1, 4096],
  initialCapacity: [1, 2 ** 31],
  randomSeed: [0, 2 ** 32 - 1],
});

/** `options` over the defaults; throws VALIDATION_ERROR naming the first knob out of its range. */
export function resolveVectorIndexOptions(options: Partial<VectorIndexOptions>): VectorIndexOptions {
  const resolved = { ...defaultVectorIndexOptions, ...options };
  for (const [key, [min, max]] of Object.entries(VECTOR_INDEX_RANGES) as [keyof VectorIndexOptions, [number, number]][]) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw invalidField(`vector_index.${key}`, `must be an integer in ${min}..${max}, got ${value}`);
    }
  }
  return resolved;
}
