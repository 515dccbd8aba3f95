import { fromTimestamp, toTimestamp } from '../../cmp/ids.js';
import type { FidelityState, StoreType } from '../../cmp/types.js';

// Closed-form power-law forgetting (DESIGN §2.1; reference spec §4.1 as the base, §4.2, §3.20).
//
//   F(t) = clamp01( F_anchor · (1 + (t − t_anchor)/S)^(−d) · E_mod )      E_mod = 1 + 0.5·intensity
//
// t_anchor is the last reinforcement (encode or reconsolidating recall) and F_anchor the fidelity it
// left behind. The reference multiplied each tick's factor into the stored score, so ten short ticks
// forgot far more than one long one and an untouched memory was pruned after two hourly ticks; here F
// is a function of (anchor, now) only, so the tick period changes pruning latency and nothing else.
// A decay tick merely materialises F(now) into `score` and keeps the anchor untouched.
//
// Records imported from the reference carry no anchor fields: their `score` at `last_decay_tick` is the
// anchor (types.ts). The first materialisation copies that pair into `anchor_score`/`anchor_at`, so
// every later tick is measured from the same point.
//
// Everything here is pure: time comes in as `nowMs` (ms since the epoch), never from the clock
// (STYLE §1 "time is injected").

/** Per-store decay knobs (configurable per store actor, runtime/config/stores.ts; evolved by evolution.ts). */
export interface DecayParams {
  /** Power-law exponent d of new records. Unitless, range > 0 (≤ 5 in config). */
  decay_exponent: number;
  /** Initial stability S0 of new records. Seconds, range > 0. */
  initial_stability_secs: number;
  /** A materialised score strictly below this is pruned. Fraction, range 0..1. */
  prune_threshold: number;
  /** Stability growth factor on reconsolidating recall (spec §4.1). Unitless, default 1.5, range ≥ 0. */
  retrieval_boost: number;
}

const MINUTE = 60;
const DAY = 86_400;

/** DESIGN §2.1 defaults, one row per store (`defaultConfig.stores` is built from them). */
export const defaultDecayParams: Readonly<Record<StoreType, Readonly<DecayParams>>> = Object.freeze({
  working: Object.freeze({ decay_exponent: 0.8, initial_stability_secs: 10 * MINUTE, prune_threshold: 0.1, retrieval_boost: 1.5 }),
  episodic: Object.freeze({ decay_exponent: 0.3, initial_stability_secs: DAY, prune_threshold: 0.01, retrieval_boost: 1.5 }),
  emotional: Object.freeze({ decay_exponent: 0.2, initial_stability_secs: 3 * DAY, prune_threshold: 0.01, retrieval_boost: 1.5 }),
  semantic: Object.freeze({ decay_exponent: 0.15, initial_stability_secs: 30 * DAY, prune_threshold: 0.01, retrieval_boost: 1.5 }),
  procedural: Object.freeze({ decay_exponent: 0.1, initial_stability_secs: 90 * DAY, prune_threshold: 0.01, retrieval_boost: 1.5 }),
});

/**
 * Noise knobs (see `noiseAt`). Noise is the share of the fidelity already lost that has turned into
 * confusion rather than mere vagueness.
 */
export const defaultNoiseOptions = {
  /** Share of the lost fidelity that is noise for a memory with no similar rivals. Fraction, default 0.5, range 0..1. */
  baseShare: 0.5,
  /**
   * Interference at which the extra share reaches 1 − 1/e (≈ 63 %) of the way to 1. Similar records (or
   * similarity mass), default 5, range > 0.
   */
  interferenceScale: 5,
};
export type NoiseOptions = typeof defaultNoiseOptions;

/**
 * Stabilities below one second are treated as one second: timestamps have millisecond resolution, the
 * reference's default stability is exactly 1 s, and `S_days^(−0.2)` must stay finite.
 */
export const MIN_STABILITY_SECS = 1;

/** Ten years, the forecast horizon of spec §3.20. Seconds. */
export const FORECAST_HORIZON_SECS = 315_360_000;

/** Clamps to [0, 1]; NaN becomes 0, so a corrupt number reads as "forgotten", never as pristine. */
export function clamp01(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(1, Math.max(0, value));
}

/** E_mod = 1 + 0.5·clamp(intensity, 0, 1) (spec §4.1): emotional memories fade more slowly. */
export function emotionalModulation(intensity: number): number {
  return 1 + 0.5 * clamp01(intensity);
}

interface Anchor {
  score: number;
  atMs: number;
}

/** F_anchor and t_anchor, falling back to (score, last_decay_tick) on reference records. */
function anchorOf(fidelity: FidelityState): Anchor {
  return {
    score: clamp01(fidelity.anchor_score ?? fidelity.score),
    atMs: fromTimestamp(fidelity.anchor_at ?? fidelity.last_decay_tick),
  };
}

function stabilityOf(fidelity: FidelityState): number {
  return Number.isFinite(fidelity.stability) ? Math.max(fidelity.stability, MIN_STABILITY_SECS) : MIN_STABILITY_SECS;
}

/**
 * The numbers F(t) depends on, normalised (clamped anchor, stability ≥ 1 s, d ≥ 0, E_mod). A store's
 * decay table (decay-table.ts) keeps exactly these per record in typed arrays, so a tick is arithmetic
 * over them and gives bit-for-bit the F that `fidelityAt` gives for the record.
 */
export interface CurveInputs {
  anchorScore: number;
  /** ms since the epoch; NaN for an unreadable timestamp (then no time has passed). */
  anchorAtMs: number;
  stabilitySecs: number;
  exponent: number;
  emod: number;
}

export function curveInputs(fidelity: FidelityState, emotionIntensity: number): CurveInputs {
  const anchor = anchorOf(fidelity);
  return {
    anchorScore: anchor.score,
    anchorAtMs: anchor.atMs,
    stabilitySecs: stabilityOf(fidelity),
    exponent: Math.max(0, fidelity.decay_rate),
    emod: emotionalModulation(emotionIntensity),
  };
}

/**
 * F at `nowMs` from normalised inputs (see `CurveInputs`). Time before the anchor (clock skew) or from an
 * unreadable timestamp counts as none.
 */
export function curveAt(anchorScore: number, anchorAtMs: number, stabilitySecs: number, exponent: number, emod: number, nowMs: number): number {
  const secs = (nowMs - anchorAtMs) / 1000;
  const t = Number.isFinite(secs) && secs > 0 ? secs : 0;
  return clamp01(anchorScore * (1 + t / stabilitySecs) ** -exponent * emod);
}

/**
 * The fidelity of a memory at `nowMs` (DESIGN §2.1). Depends only on the anchor and `nowMs`, never on
 * how many ticks have materialised it in between.
 */
export function fidelityAt(fidelity: FidelityState, emotionIntensity: number, nowMs: number): number {
  const c = curveInputs(fidelity, emotionIntensity);
  return curveAt(c.anchorScore, c.anchorAtMs, c.stabilitySecs, c.exponent, c.emod, nowMs);
}

/**
 * Noise at `nowMs` (DESIGN §2.1: it grows with time and with interference from similar memories):
 *
 *   N = clamp01( (1 − F(now)) · (b + (1 − b)·(1 − e^(−k/κ))) )     b = baseShare 0.5, κ = interferenceScale 5
 *
 * `k` = `interference`: the number of similar records in the same store (or a similarity mass), ≥ 0.
 * Why this shape: what a memory has lost is either gone (gaps) or overwritten by look-alikes
 * (confusion, interference theory). A memory with no rivals turns half of its loss into noise; each
 * similar memory pushes that share towards all of it, saturating because the fiftieth look-alike
 * confuses little more than the tenth. N is 0 at the anchor of a pristine memory, rises with time only
 * through F (so it is closed-form and tick-independent like F, and an emotional memory held at F = 1
 * stays vivid), is monotone in k, and never exceeds the loss 1 − F. Unlike the reference (§4.1:
 * `N += 0.1·√t·(1 − F)` per tick, saturating within an hour) it does not depend on the tick count.
 */
export function noiseAt(fidelity: FidelityState, emotionIntensity: number, nowMs: number, interference: number, options: Partial<NoiseOptions> = {}): number {
  const { baseShare, interferenceScale } = { ...defaultNoiseOptions, ...options };
  const k = Number.isFinite(interference) ? Math.max(0, interference) : 0;
  const b = clamp01(baseShare);
  const share = b + (1 - b) * (1 - Math.exp(-k / Math.max(interferenceScale, Number.MIN_VALUE)));
  return clamp01((1 - fidelityAt(fidelity, emotionIntensity, nowMs)) * share);
}

/**
 * What a decay tick writes (spec §4.2 step 2, closed-form): score and noise at `nowMs`, E_mod as
 * `emotional_anchor`, `last_decay_tick = now`. The anchor is kept; a reference record gets its anchor
 * from the score and tick it arrived with, so later ticks are measured from that same point.
 */
export function decayFidelity(fidelity: FidelityState, emotionIntensity: number, nowMs: number, interference: number, options: Partial<NoiseOptions> = {}): FidelityState {
  return {
    ...fidelity,
    anchor_score: fidelity.anchor_score ?? fidelity.score,
    anchor_at: fidelity.anchor_at ?? fidelity.last_decay_tick,
    score: fidelityAt(fidelity, emotionIntensity, nowMs),
    noise_level: noiseAt(fidelity, emotionIntensity, nowMs, interference, options),
    emotional_anchor: emotionalModulation(emotionIntensity),
    last_decay_tick: toTimestamp(nowMs),
  };
}

/**
 * Reconsolidating recall (DESIGN §2.1): with F = F(now),
 *
 *   S ← S · (1 + boost · S_days^(−0.2))      S_days = max(S, 1 s) / 86 400: short-lived memories gain most
 *   F_anchor ← F + (1 − F) · 0.5             recall restores half of what was lost
 *   t_anchor ← now;  reinforcement_count += 1
 *
 * The score is materialised at the new anchor (`score = F(now)` of the new state, `last_decay_tick =
 * now`), so (score, last_decay_tick) stays a true point of the curve; for a neutral memory that is
 * exactly F_anchor, for an emotional one F_anchor·E_mod clamped. F already carries E_mod, so an emotional
 * memory's anchor climbs faster with each recall (bounded by 1): emotional memories are rehearsed more
 * vividly. Noise shrinks in the same proportion as the loss (half for a neutral memory) — recall
 * refreshes the trace; the next decay tick recomputes it from `noiseAt` with the store's interference.
 */
export function reconsolidate(fidelity: FidelityState, emotionIntensity: number, nowMs: number, retrievalBoost: number): FidelityState {
  const f = fidelityAt(fidelity, emotionIntensity, nowMs);
  const s = stabilityOf(fidelity);
  const stability = s * (1 + Math.max(0, retrievalBoost) * (s / DAY) ** -0.2);
  const anchorAt = toTimestamp(nowMs);
  const next: FidelityState = {
    ...fidelity,
    stability,
    anchor_score: f + (1 - f) * 0.5,
    anchor_at: anchorAt,
    reinforcement_count: fidelity.reinforcement_count + 1,
    emotional_anchor: emotionalModulation(emotionIntensity),
    last_decay_tick: anchorAt,
  };
  next.score = fidelityAt(next, emotionIntensity, nowMs);
  next.noise_level = f >= 1 ? 0 : clamp01((clamp01(fidelity.noise_level) * (1 - next.score)) / (1 - f));
  return next;
}

/** Spec §4.2 step 3: a score strictly below the threshold is pruned. */
export function isPruned(score: number, threshold: number): boolean {
  return score < threshold;
}

/** Histogram buckets of width 0.1 over [0, 1]: index min(floor(score·10), 9) (spec §4.8). */
export const FIDELITY_BUCKETS = 10;

/**
 * Counts of `scores` per fidelity bucket, NaN skipped: what a tick reports of the scores it left, so
 * that ten numbers cross to the evolution engine instead of one per record.
 */
export function fidelityHistogram(scores: ArrayLike<number>): number[] {
  const histogram = new Array<number>(FIDELITY_BUCKETS).fill(0);
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (Number.isNaN(score)) continue;
    histogram[Math.min(Math.max(Math.floor(score * FIDELITY_BUCKETS), 0), FIDELITY_BUCKETS - 1)]! += 1;
  }
  return histogram;
}

export interface DecayForecast {
  /** F at the forecast time. */
  fidelity: number;
  /** When F reaches the prune threshold (ms since the epoch), or null (see `forecast`). */
  threshold_at_ms: number | null;
}

/**
 * `introspect.decay_forecast` (spec §3.20) in closed form. F crosses θ at
 *
 *   t_anchor + Δ,   Δ = S · ((F_anchor · E_mod / θ)^(1/d) − 1)   seconds
 *
 * (t_anchor itself when F_anchor·E_mod ≤ θ already). null, as in the spec, when the current score is
 * already ≤ θ, and when the crossing lies more than ten years after the later of the anchor and the last
 * tick (or never: d = 0, θ ≤ 0).
 */
export function forecast(fidelity: FidelityState, emotionIntensity: number, atMs: number, pruneThreshold: number): DecayForecast {
  const result: DecayForecast = { fidelity: fidelityAt(fidelity, emotionIntensity, atMs), threshold_at_ms: null };
  const theta = pruneThreshold;
  const d = Math.max(0, fidelity.decay_rate);
  if (fidelity.score <= theta || theta <= 0 || d === 0) return result;
  const anchor = anchorOf(fidelity);
  if (!Number.isFinite(anchor.atMs)) return result;
  const start = anchor.score * emotionalModulation(emotionIntensity);
  const deltaSecs = start <= theta ? 0 : stabilityOf(fidelity) * ((start / theta) ** (1 / d) - 1);
  const lastTickMs = fromTimestamp(fidelity.last_decay_tick);
  const baselineMs = Number.isFinite(lastTickMs) ? Math.max(anchor.atMs, lastTickMs) : anchor.atMs;
  const crossingMs = anchor.atMs + deltaSecs * 1000;
  if (!Number.isFinite(crossingMs) || crossingMs > baselineMs + FORECAST_HORIZON_SECS * 1000) return result;
  result.threshold_at_ms = crossingMs;
  return result;
}

/**
 * A memory's fidelity as the rest of the system sees it: at `nowMs`, or at its last decay tick when a
 * simulated tick (`lifecycle.decay_tick` with a duration) has already moved the memory's clock past
 * now — so a simulated month stays simulated for recall, rendering and filters, as the reference's
 * per-record tick baseline does (spec §4.1).
 */
export function fidelityNow(fidelity: FidelityState, emotionIntensity: number, nowMs: number): number {
  const tick = Date.parse(fidelity.last_decay_tick);
  return fidelityAt(fidelity, emotionIntensity, Number.isFinite(tick) ? Math.max(nowMs, tick) : nowMs);
}

/**
 * When a decay tick evaluates a memory (spec §4.1): real time since its last tick, or the requested
 * duration past that tick, whichever is later — so one tick of a day and 1,440 ticks of a minute reach
 * the same moment, and with closed-form F the same fidelity.
 */
export function tickMoment(fidelity: FidelityState, nowMs: number, tickDurationSecs: number): number {
  return tickMomentAfter(Date.parse(fidelity.last_decay_tick), nowMs, tickDurationSecs);
}

/** `tickMoment` from the last tick in ms since the epoch (NaN: unreadable, then `nowMs`). */
export function tickMomentAfter(lastTickMs: number, nowMs: number, tickDurationSecs: number): number {
  return Number.isFinite(lastTickMs) ? Math.max(nowMs, lastTickMs + tickDurationSecs * 1000) : nowMs;
}
