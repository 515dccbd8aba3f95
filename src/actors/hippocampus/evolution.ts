import { PERSISTENT_STORES, STORE_TYPES, type StoreType } from '../../cmp/types.js';
import { defaultDecayParams, FIDELITY_BUCKETS, type DecayParams } from '../store/decay.js';

// The self-tuning engine (reference spec §4.8) as a pure state machine: observations in, a new state
// out, and `evaluate` applies the three rules. Unlike the reference (whose adjusted values were only
// reported and lost on restart), the adjusted parameters are meant to be used (DESIGN §2 item 7): the
// caller reads `currentParams` for decay ticks, reconsolidation and pruning, persists the state (plain
// JSON, nothing else) and reports `metrics` through `introspect.evolution` (spec §3.21).
//
// Rules, evaluated per persistent store in this order (working memory is observed but not tuned, as in
// the reference: it is meant to fade fast):
//   1. median fidelity < 0.3                      → decay_exponent  × 0.9   ("decay too aggressive")
//   3. share of scores < 0.1 above 0.5            → prune_threshold × 0.9   ("over-pruning")
//   2. rolling mean recall hit rate < 0.2 (≥ 5)   → retrieval_boost × 1.1   ("retrieval insufficient")
// Each adjusted value is clamped to [0.5, 1.5] × its default, so a runaway signal can move a store at
// most half-way from its configured behaviour. Adjustments compound across evaluations; an adjustment is
// reported only by the evaluation that changed the value (by more than 1e-10), so a parameter pinned at
// its clamp drops out of the report while its pattern keeps being detected.
// The fidelity histogram is cumulative and the hit rates a rolling window, both as in the reference.

export const EVOLVED_PARAMETERS = ['decay_exponent', 'retrieval_boost', 'prune_threshold'] as const;
export type EvolvedParameter = (typeof EVOLVED_PARAMETERS)[number];

export interface EvolutionOptions {
  /** Rule 1 fires below this median fidelity. Fraction, default 0.3. */
  lowMedianFidelity: number;
  /** Rule 3 fires above this share of scores in the lowest bucket (< 0.1). Fraction, default 0.5. */
  lowBucketShare: number;
  /** Rule 2 fires below this mean hit rate. Fraction, default 0.2. */
  lowHitRate: number;
  /** Rule 2 needs at least this many recalls in the window. Recalls, default 5. */
  minHitSamples: number;
  /** Recall hit rates kept per store. Recalls, default 100. */
  hitRateWindow: number;
  /** Factor per firing of rule 1 (decay_exponent) and rule 3 (prune_threshold). Default 0.9. */
  shrinkFactor: number;
  /** Factor per firing of rule 2 (retrieval_boost). Default 1.1. */
  growFactor: number;
  /** Adjusted values stay within (1 ± this) × default. Fraction, default 0.5 (DESIGN §2 item 7: ±50 %). */
  maxDeviation: number;
}

export const defaultEvolutionOptions: Readonly<EvolutionOptions> = Object.freeze({
  lowMedianFidelity: 0.3,
  lowBucketShare: 0.5,
  lowHitRate: 0.2,
  minHitSamples: 5,
  hitRateWindow: 100,
  shrinkFactor: 0.9,
  growFactor: 1.1,
  maxDeviation: 0.5,
});

export interface ParameterAdjustment {
  store: StoreType;
  parameter: EvolvedParameter;
  original_value: number;
  current_value: number;
  reason: string;
}

/** Spec §3.21 `EvolutionMetrics`. */
export interface EvolutionMetrics {
  parameter_adjustments: ParameterAdjustment[];
  detected_patterns: string[];
  /** Always empty, as in the reference. */
  schema_adaptations: string[];
}

export interface StoreEvolution {
  /** The configured parameters; the clamp is relative to these. */
  defaults: DecayParams;
  /** The live parameters. */
  current: DecayParams;
  /** Counts of observed fidelity scores per bucket, cumulative. */
  fidelity_histogram: number[];
  /** The latest recall hit rates, oldest first, at most `hitRateWindow`. */
  hit_rates: number[];
}

/** Plain JSON: persist it with JSON.stringify, restore it with JSON.parse. */
export interface EvolutionState {
  version: 1;
  stores: Record<StoreType, StoreEvolution>;
  /** The report of the latest `evaluate`, for `introspect.evolution` after a restart. */
  metrics: EvolutionMetrics;
}

function emptyMetrics(): EvolutionMetrics {
  return { parameter_adjustments: [], detected_patterns: [], schema_adaptations: [] };
}

/** A fresh state; `defaults` per store fall back to DESIGN §2.1 (`defaultDecayParams`). */
export function createEvolutionState(defaults: Partial<Record<StoreType, DecayParams>> = {}): EvolutionState {
  const stores = {} as Record<StoreType, StoreEvolution>;
  for (const store of STORE_TYPES) {
    const params = { ...(defaults[store] ?? defaultDecayParams[store]) };
    stores[store] = {
      defaults: params,
      current: { ...params },
      fidelity_histogram: new Array<number>(FIDELITY_BUCKETS).fill(0),
      hit_rates: [],
    };
  }
  return { version: 1, stores, metrics: emptyMetrics() };
}

/**
 * The evolution to run with after a restart: each store keeps what it learned while its configured
 * parameters are the ones it learned from; a store whose configuration changed starts again from the
 * new configuration (the new baseline), as does a store the saved state does not know. Compared store
 * by store: comparing one store only let a changed `stores.semantic.decay_exponent` be ignored.
 */
export function rebaseEvolution(saved: EvolutionState | undefined, configured: EvolutionState): EvolutionState {
  if (saved === undefined || saved.version !== configured.version) return configured;
  const stores = {} as Record<StoreType, StoreEvolution>;
  let changed = false;
  for (const store of STORE_TYPES) {
    const learned = saved.stores[store];
    const sameBaseline = learned !== undefined && sameParams(learned.defaults, configured.stores[store].defaults);
    stores[store] = sameBaseline ? learned : configured.stores[store];
    changed ||= !sameBaseline;
  }
  // The latest report speaks of baselines that may be gone: keep it only when none changed.
  return { ...saved, stores, metrics: changed ? emptyMetrics() : saved.metrics };
}

function sameParams(a: DecayParams, b: DecayParams): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof DecayParams>;
  return [...keys].every((key) => a[key] === b[key]);
}

/** The live parameters of `store` (a copy). */
export function currentParams(state: EvolutionState, store: StoreType): DecayParams {
  return { ...state.stores[store].current };
}

function withStore(state: EvolutionState, store: StoreType, next: StoreEvolution): EvolutionState {
  return { ...state, stores: { ...state.stores, [store]: next } };
}

/** Spec §4.8: after a decay tick, the store's new scores join its histogram (`fidelityHistogram` of them). */
export function observeDecayTick(state: EvolutionState, store: StoreType, histogram: readonly number[]): EvolutionState {
  const entry = state.stores[store];
  if (histogram.every((count) => count === 0)) return state;
  const fidelity_histogram = entry.fidelity_histogram.map((count, bucket) => count + (histogram[bucket] ?? 0));
  return withStore(state, store, { ...entry, fidelity_histogram });
}

/**
 * Spec §4.8: after a recall with at least one result, the hit rate (share of results with relevance
 * > 0) for the store of the first result. Clamped to [0, 1]; NaN is skipped.
 */
export function observeRecall(state: EvolutionState, store: StoreType, hitRate: number, options: Partial<EvolutionOptions> = {}): EvolutionState {
  if (Number.isNaN(hitRate)) return state;
  const { hitRateWindow } = { ...defaultEvolutionOptions, ...options };
  const entry = state.stores[store];
  const hit_rates = [...entry.hit_rates, Math.min(1, Math.max(0, hitRate))].slice(-Math.max(1, hitRateWindow));
  return withStore(state, store, { ...entry, hit_rates });
}

/** Midpoint of the first bucket whose cumulative count exceeds ⌊total/2⌋; 0.5 when empty (spec §4.8). */
export function medianFidelity(histogram: readonly number[]): number {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return 0.5;
  const half = Math.floor(total / 2);
  let cumulative = 0;
  for (let i = 0; i < histogram.length; i++) {
    cumulative += histogram[i];
    if (cumulative > half) return (i + 0.5) / FIDELITY_BUCKETS;
  }
  return 0.5;
}

/**
 * Applies rules 1, 3, 2 to every persistent store. Returns the new state (its `metrics` set to the
 * report) and the report: adjustments made by this evaluation and every pattern detected.
 */
export function evaluate(state: EvolutionState, options: Partial<EvolutionOptions> = {}): { state: EvolutionState; metrics: EvolutionMetrics } {
  const o = { ...defaultEvolutionOptions, ...options };
  const metrics = emptyMetrics();
  const stores = { ...state.stores };

  for (const store of PERSISTENT_STORES) {
    const entry = stores[store];
    const current = { ...entry.current };
    const adjust = (parameter: EvolvedParameter, factor: number, reason: string) => {
      const original = entry.defaults[parameter];
      const next = Math.min(original * (1 + o.maxDeviation), Math.max(original * (1 - o.maxDeviation), current[parameter] * factor));
      if (Math.abs(next - current[parameter]) > 1e-10) {
        metrics.parameter_adjustments.push({ store, parameter, original_value: original, current_value: next, reason });
      }
      current[parameter] = next;
    };

    const histogram = entry.fidelity_histogram;
    const total = histogram.reduce((sum, count) => sum + count, 0);
    const median = medianFidelity(histogram);
    if (median < o.lowMedianFidelity) {
      adjust('decay_exponent', o.shrinkFactor, `Median fidelity ${median.toFixed(2)} < ${o.lowMedianFidelity}: decay too aggressive`);
      metrics.detected_patterns.push(`${store}: low median fidelity (${median.toFixed(2)}), reducing decay`);
    }
    const lowest = total === 0 ? 0 : histogram[0] / total;
    if (lowest > o.lowBucketShare) {
      const percent = (lowest * 100).toFixed(0);
      adjust('prune_threshold', o.shrinkFactor, `${percent}% in lowest fidelity bucket: over-pruning`);
      metrics.detected_patterns.push(`${store}: over-pruning detected (${percent}% in lowest bucket)`);
    }
    const rates = entry.hit_rates;
    if (rates.length >= o.minHitSamples) {
      const mean = rates.reduce((sum, rate) => sum + rate, 0) / rates.length;
      if (mean < o.lowHitRate) {
        adjust('retrieval_boost', o.growFactor, `Recall hit rate ${mean.toFixed(2)} < ${o.lowHitRate}: retrieval insufficient`);
        metrics.detected_patterns.push(`${store}: low recall hit rate (${mean.toFixed(2)}), increasing boost`);
      }
    }
    stores[store] = { ...entry, current };
  }

  return { state: { ...state, stores, metrics: structuredClone(metrics) }, metrics };
}
