// Where the data lives and the store actors' sections: `data_dir` and [stores.<name>] (DESIGN §2.1 for
// the per-store decay defaults). The defaults are the modules' own: decay.ts's `defaultDecayParams` and
// vector-options.ts's `defaultVectorIndexOptions`.

import type { z } from 'zod';
import { defaultDecayParams } from '../../actors/store/decay.js';
import { defaultVectorIndexOptions } from '../../actors/store/vector-options.js';
import type { StoreType } from '../../cmp/types.js';
import { fraction, int, nonBlank, positive, table } from './fields.js';

/**
 * Where the store partitions, index snapshots and `audit.jsonl` live. Path; `~/` expands with HOME;
 * relative paths resolve against the cwd. Default "./data", non-blank.
 */
export const dataDirSchema = nonBlank();
export const dataDirDefault = './data';

const vectorIndexSchema = table({
  /** HNSW links per node (hnswlib `M`). Unitless, default 16, range 2..128. */
  m: int(2, 128),
  /**
   * HNSW build-time candidate list size. Unitless, default 64 (200 builds 3x slower for no recall gain on
   * embedding-like data), range >= 8.
   */
  ef_construction: int(8),
  /** HNSW query-time candidate list size. Unitless, default 64, range >= 1. */
  ef_search: int(1),
  /** Elements allocated when the index is created; it grows past this. Records, default 1024, range >= 16. */
  initial_capacity: int(16),
});

const storeCommonShape = {
  /**
   * Calls in flight to this store actor before new calls fail retryable (backpressure).
   * Calls, default 1024, range >= 1.
   */
  mailbox_limit: int(1),
  vector_index: vectorIndexSchema,
  /**
   * Applied mutation events a partition keeps in its log (DESIGN §4 seam).
   * Events, default 100000, range >= 0.
   */
  log_retention_events: int(0),
};

export const decayShape = {
  /**
   * Power-law decay exponent d of `F(t) = F_anchor · (1 + Δt/S)^(−d)` (DESIGN §2.1). Unitless, range > 0
   * and <= 5; default per store.
   */
  decay_exponent: positive(5),
  /** Initial stability S0, the S of a fresh memory. Seconds, range > 0; default per store. */
  initial_stability_secs: positive(),
  /** Fidelity below which a decayed record is pruned. Fraction, range 0..1; default 0.01 (working 0.1). */
  prune_threshold: fraction(),
};

const decayingStoreSchema = table({ ...decayShape, ...storeCommonShape });

const workingStoreSchema = table({
  ...decayShape,
  ...storeCommonShape,
  /**
   * Records the working store holds before evicting the least recently used. Records, default 7, range
   * 1..1000.
   */
  capacity: int(1, 1000),
});

/**
 * The raw journal keeps verbatim transcripts and never decays, so it has no decay knobs at all
 * (setting one is an "unknown key" error rather than a silently ignored value).
 */
const rawJournalStoreSchema = table({ ...storeCommonShape });

/** One section per store actor; defaults per DESIGN §2.1. */
export const storesSchema = table({
  episodic: decayingStoreSchema,
  semantic: decayingStoreSchema,
  procedural: decayingStoreSchema,
  emotional: decayingStoreSchema,
  working: workingStoreSchema,
  raw_journal: rawJournalStoreSchema,
});

type StoresSection = z.infer<typeof storesSchema>;
export type StoreName = keyof StoresSection;
export const STORE_NAMES = ['episodic', 'semantic', 'procedural', 'emotional', 'working', 'raw_journal'] as const satisfies readonly StoreName[];

type StoreCommon = z.infer<typeof rawJournalStoreSchema>;
type DecayKnobs = Pick<z.infer<typeof decayingStoreSchema>, keyof typeof decayShape>;
/**
 * What a store actor reads from its section, uniform over all stores: the decay knobs are absent
 * for `raw_journal` (it never decays) and `capacity` exists only for `working`.
 */
export type StoreConfig = StoreCommon & Partial<DecayKnobs> & { capacity?: number };
// Compile-time check: every store section is readable as a StoreConfig.
type AssertStoreConfig<T extends StoreConfig> = T;
type _StoreSectionsAreStoreConfig = AssertStoreConfig<StoresSection[StoreName]>;

function storeCommonDefaults(): StoreCommon {
  const { m, efConstruction, efSearch, initialCapacity } = defaultVectorIndexOptions;
  return {
    mailbox_limit: 1024,
    log_retention_events: 100_000,
    vector_index: { m, ef_construction: efConstruction, ef_search: efSearch, initial_capacity: initialCapacity },
  };
}

function decayingStoreDefaults(store: StoreType): z.infer<typeof decayingStoreSchema> {
  const { decay_exponent, initial_stability_secs, prune_threshold } = defaultDecayParams[store];
  return { decay_exponent, initial_stability_secs, prune_threshold, ...storeCommonDefaults() };
}

export const storesDefaults: StoresSection = {
  working: { ...decayingStoreDefaults('working'), capacity: 7 },
  episodic: decayingStoreDefaults('episodic'),
  emotional: decayingStoreDefaults('emotional'),
  semantic: decayingStoreDefaults('semantic'),
  procedural: decayingStoreDefaults('procedural'),
  raw_journal: storeCommonDefaults(),
};
