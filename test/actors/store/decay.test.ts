import { describe, it, expect } from 'vitest';
import { clamp01, decayFidelity, defaultDecayParams, emotionalModulation, fidelityAt, forecast, FORECAST_HORIZON_SECS, isPruned, noiseAt, reconsolidate } from '../../../src/actors/store/decay.js';
import { defaultFidelity } from '../../../src/cmp/records.js';
import { STORE_TYPES, type FidelityState, type StoreType } from '../../../src/cmp/types.js';
import { defaultConfig } from '../../../src/runtime/config/index.js';
import { at, T0, T0_MS } from '../../helpers/records.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A fresh record's fidelity in `store`, encoded at T0. */
function fresh(store: StoreType = 'episodic'): FidelityState {
  const params = defaultDecayParams[store];
  return defaultFidelity(T0, { decay_rate: params.decay_exponent, stability: params.initial_stability_secs });
}

function withCurve(stabilitySecs: number, d: number): FidelityState {
  return defaultFidelity(T0, { decay_rate: d, stability: stabilitySecs });
}

describe('defaultDecayParams', () => {
  it('matches DESIGN §2.1 and the configuration defaults for every store', () => {
    expect(defaultDecayParams.working).toEqual({ decay_exponent: 0.8, initial_stability_secs: 600, prune_threshold: 0.1, retrieval_boost: 1.5 });
    expect(defaultDecayParams.episodic.initial_stability_secs).toBe(86_400);
    expect(defaultDecayParams.emotional.initial_stability_secs).toBe(3 * 86_400);
    expect(defaultDecayParams.procedural.decay_exponent).toBe(0.1);
    for (const store of STORE_TYPES) {
      const { decay_exponent, initial_stability_secs, prune_threshold } = defaultConfig.stores[store];
      expect({ decay_exponent, initial_stability_secs, prune_threshold }).toEqual({
        decay_exponent: defaultDecayParams[store].decay_exponent,
        initial_stability_secs: defaultDecayParams[store].initial_stability_secs,
        prune_threshold: defaultDecayParams[store].prune_threshold,
      });
    }
  });
});

describe('emotionalModulation', () => {
  it('is 1 + 0.5·intensity, intensity clamped to 0..1 (spec §4.1)', () => {
    expect(emotionalModulation(0)).toBe(1);
    expect(emotionalModulation(0.5)).toBe(1.25);
    expect(emotionalModulation(1)).toBe(1.5);
    expect(emotionalModulation(7)).toBe(1.5);
    expect(emotionalModulation(-3)).toBe(1);
    expect(emotionalModulation(Number.NaN)).toBe(1);
  });
});

describe('fidelityAt', () => {
  // F = (1 + t/S)^(−d) for a pristine neutral memory; values computed independently.
  it.each([
    { t: 0, S: 86_400, d: 0.3, F: 1 },
    { t: 86_400, S: 86_400, d: 0.3, F: 0.8122523963562356 },
    { t: 9 * 3600, S: 3600, d: 0.5, F: 0.31622776601683794 },
    { t: 30 * 86_400, S: 86_400, d: 0.3, F: 0.3569369364716287 },
    { t: 3600, S: 600, d: 0.8, F: 0.21082473737065027 },
    { t: 365 * 86_400, S: 30 * 86_400, d: 0.15, F: 0.679326605508638 },
    { t: 3650 * 86_400, S: 90 * 86_400, d: 0.1, F: 0.6888697127468486 },
    { t: 1, S: 1, d: 1, F: 0.5 },
  ])('t=$t s, S=$S s, d=$d → F=$F', ({ t, S, d, F }) => {
    expect(fidelityAt(withCurve(S, d), 0, T0_MS + t * SECOND)).toBeCloseTo(F, 12);
  });

  it('scales with F_anchor and is measured from t_anchor, not from the last tick', () => {
    const fidelity: FidelityState = { ...withCurve(86_400, 0.3), anchor_score: 0.5, last_decay_tick: at(20 * DAY) };
    expect(fidelityAt(fidelity, 0, T0_MS + DAY)).toBeCloseTo(0.5 * 0.8122523963562356, 12);
  });

  it('is clamped to [0, 1]: emotion holds a fresh memory at 1, never above', () => {
    expect(fidelityAt(fresh(), 1, T0_MS)).toBe(1);
    expect(fidelityAt(fresh(), 1, T0_MS + HOUR)).toBe(1);
    expect(fidelityAt({ ...fresh(), anchor_score: 3 }, 0, T0_MS)).toBe(1);
    expect(fidelityAt({ ...fresh(), anchor_score: -1 }, 0, T0_MS + DAY)).toBe(0);
    expect(clamp01(Number.NaN)).toBe(0);
  });

  it('does not decay before the anchor (clock skew) or with an unreadable anchor time', () => {
    expect(fidelityAt(fresh(), 0, T0_MS - DAY)).toBe(1);
    expect(fidelityAt({ ...fresh(), anchor_at: 'not a time' }, 0, T0_MS + DAY)).toBe(1);
  });

  it('keeps an untouched episodic memory recallable (> 0.01) after 30 days with the DESIGN defaults', () => {
    const f = fidelityAt(fresh('episodic'), 0, T0_MS + 30 * DAY);
    expect(f).toBeGreaterThan(defaultDecayParams.episodic.prune_threshold);
    expect(isPruned(f, defaultDecayParams.episodic.prune_threshold)).toBe(false);
  });

  it('keeps an emotional memory (intensity 1) above its neutral twin', () => {
    for (const days of [1, 7, 30, 365]) {
      const now = T0_MS + days * DAY;
      expect(fidelityAt(fresh(), 1, now)).toBeGreaterThan(fidelityAt(fresh(), 0, now));
    }
  });
});

describe('decayFidelity', () => {
  it('gives the same F whether a day passes in 1 tick or in 1,440 one-minute ticks', () => {
    for (const [store, intensity] of [
      ['episodic', 0],
      ['working', 0],
      ['emotional', 0.8],
    ] as const) {
      const once = decayFidelity(fresh(store), intensity, T0_MS + DAY, 3);
      let stepped = fresh(store);
      for (let i = 1; i <= 1440; i++) stepped = decayFidelity(stepped, intensity, T0_MS + i * MINUTE, 3);
      expect(Math.abs(stepped.score - once.score)).toBeLessThan(1e-6);
      expect(Math.abs(stepped.noise_level - once.noise_level)).toBeLessThan(1e-6);
      expect(stepped.last_decay_tick).toBe(once.last_decay_tick);
    }
  });

  it('writes score, noise, E_mod and the tick time, and keeps the anchor and the rest', () => {
    const before = { ...fresh(), reinforcement_count: 2 };
    const after = decayFidelity(before, 0.2, T0_MS + DAY, 0);
    const score = 0.8122523963562356 * 1.1;
    expect(after).toEqual({
      ...before,
      score: expect.closeTo(score, 12),
      noise_level: expect.closeTo((1 - score) * 0.5, 12),
      emotional_anchor: 1.1,
      last_decay_tick: at(DAY),
      anchor_score: 1,
      anchor_at: T0,
    });
    expect(before.score).toBe(1);
  });

  it('takes a reference record without anchor fields from its score at last_decay_tick, once', () => {
    const reference: FidelityState = {
      score: 0.6,
      noise_level: 0.9,
      decay_rate: 0.3,
      emotional_anchor: 1,
      reinforcement_count: 0,
      stability: 86_400,
      last_decay_tick: T0,
    };
    expect(fidelityAt(reference, 0, T0_MS + DAY)).toBeCloseTo(0.6 * 0.8122523963562356, 12);
    const first = decayFidelity(reference, 0, T0_MS + HOUR, 0);
    expect(first.anchor_score).toBe(0.6);
    expect(first.anchor_at).toBe(T0);
    const later = decayFidelity(first, 0, T0_MS + DAY, 0);
    expect(later.score).toBeCloseTo(0.6 * 0.8122523963562356, 12);
    expect(later.score).toBeCloseTo(decayFidelity(reference, 0, T0_MS + DAY, 0).score, 12);
  });
});

describe('noiseAt', () => {
  it('is 0 at the anchor of a pristine memory, whatever the interference', () => {
    expect(noiseAt(fresh(), 0, T0_MS, 0)).toBe(0);
    expect(noiseAt(fresh(), 0, T0_MS, 100)).toBe(0);
  });

  it('grows with time and with interference, never beyond the fidelity lost', () => {
    let previous = 0;
    for (const days of [1, 7, 30, 365]) {
      const now = T0_MS + days * DAY;
      const n = noiseAt(fresh(), 0, now, 2);
      expect(n).toBeGreaterThan(previous);
      previous = n;
      let previousK = -1;
      for (const k of [0, 1, 5, 20, 1000]) {
        const nk = noiseAt(fresh(), 0, now, k);
        expect(nk).toBeGreaterThan(previousK);
        expect(nk).toBeLessThanOrEqual(1 - fidelityAt(fresh(), 0, now) + 1e-12);
        previousK = nk;
      }
    }
  });

  it('is half the loss with no rivals and approaches all of it with many (documented formula)', () => {
    const now = T0_MS + DAY;
    const lost = 1 - fidelityAt(fresh(), 0, now);
    expect(noiseAt(fresh(), 0, now, 0)).toBeCloseTo(0.5 * lost, 12);
    expect(noiseAt(fresh(), 0, now, 5)).toBeCloseTo(lost * (0.5 + 0.5 * (1 - Math.exp(-1))), 12);
    expect(noiseAt(fresh(), 0, now, 1e6)).toBeCloseTo(lost, 12);
    expect(noiseAt(fresh(), 0, now, -4)).toBe(noiseAt(fresh(), 0, now, 0));
    expect(noiseAt(fresh(), 0, now, 0, { baseShare: 0 })).toBe(0);
  });
});

describe('reconsolidate', () => {
  it('applies DESIGN §2.1: S·(1 + boost·S_days^−0.2), F_anchor = F + (1 − F)/2, t_anchor = now', () => {
    const now = T0_MS + 2 * DAY;
    const f = fidelityAt(fresh(), 0, now);
    const next = reconsolidate(fresh(), 0, now, 1.5);
    expect(next.stability).toBeCloseTo(86_400 * 2.5, 9);
    expect(next.anchor_score).toBeCloseTo(f + (1 - f) / 2, 12);
    expect(next.anchor_at).toBe(at(2 * DAY));
    expect(next.score).toBe(next.anchor_score);
    expect(next.last_decay_tick).toBe(at(2 * DAY));
    expect(next.reinforcement_count).toBe(1);
    expect(fidelityAt(next, 0, now)).toBe(next.score);
  });

  it('grows stability on every reconsolidation, most for short-lived memories', () => {
    let fidelity = fresh('working');
    let previous = fidelity.stability;
    for (let i = 1; i <= 6; i++) {
      fidelity = reconsolidate(fidelity, 0, T0_MS + i * MINUTE, 1.5);
      expect(fidelity.stability).toBeGreaterThan(previous);
      previous = fidelity.stability;
    }
    const workingGain = reconsolidate(fresh('working'), 0, T0_MS, 1.5).stability / 600;
    const semanticGain = reconsolidate(fresh('semantic'), 0, T0_MS, 1.5).stability / (30 * 86_400);
    expect(workingGain).toBeGreaterThan(semanticGain);
  });

  it('guards a tiny stability (the reference default of 1 s, or 0)', () => {
    const tiny = reconsolidate({ ...fresh(), stability: 0 }, 0, T0_MS, 1.5);
    expect(Number.isFinite(tiny.stability)).toBe(true);
    expect(tiny.stability).toBeCloseTo(1 + 1.5 * (1 / 86_400) ** -0.2, 9);
  });

  it('leaves a memory recalled 5 times over a month stronger than its untouched twin', () => {
    let recalled = fresh();
    let untouched = fresh();
    for (let day = 1; day <= 30; day++) {
      const now = T0_MS + day * DAY;
      if (day % 6 === 0) recalled = reconsolidate(recalled, 0, now, 1.5);
      else recalled = decayFidelity(recalled, 0, now, 0);
      untouched = decayFidelity(untouched, 0, now, 0);
    }
    expect(recalled.reinforcement_count).toBe(5);
    const end = T0_MS + 31 * DAY;
    expect(fidelityAt(recalled, 0, end)).toBeGreaterThan(fidelityAt(untouched, 0, end) + 0.2);
    expect(recalled.stability).toBeGreaterThan(untouched.stability);
  });

  it('shrinks noise in proportion to the loss it restores, never grows it', () => {
    const now = T0_MS + 10 * DAY;
    const ticked = decayFidelity(fresh(), 0, now, 10);
    const next = reconsolidate(ticked, 0, now, 1.5);
    expect(next.noise_level).toBeCloseTo(ticked.noise_level / 2, 12);
    expect(reconsolidate(fresh(), 0, T0_MS, 1.5).noise_level).toBe(0);
  });

  it('keeps a clamped score for an emotional memory', () => {
    const next = reconsolidate(fresh(), 1, T0_MS + 30 * DAY, 1.5);
    expect(next.score).toBeLessThanOrEqual(1);
    expect(next.anchor_score).toBeLessThanOrEqual(1);
    expect(next.emotional_anchor).toBe(1.5);
  });
});

describe('isPruned', () => {
  it('prunes strictly below the threshold (spec §4.2)', () => {
    expect(isPruned(0.0099, 0.01)).toBe(true);
    expect(isPruned(0.01, 0.01)).toBe(false);
  });
});

describe('forecast', () => {
  it('finds the crossing in closed form, agreeing with fidelityAt and a materialised tick', () => {
    const theta = 0.1;
    const result = forecast(fresh('working'), 0, T0_MS + HOUR, theta);
    expect(result.fidelity).toBeCloseTo(0.21082473737065027, 12);
    expect(result.threshold_at_ms).not.toBeNull();
    const crossing = result.threshold_at_ms!;
    expect(crossing).toBeCloseTo(T0_MS + 600 * (10 ** 1.25 - 1) * SECOND, 3);
    expect(Math.abs(fidelityAt(fresh('working'), 0, crossing) - theta)).toBeLessThan(1e-6);
    const tick = decayFidelity(decayFidelity(fresh('working'), 0, T0_MS + HOUR, 0), 0, Math.ceil(crossing) + MINUTE, 0);
    expect(Math.abs(tick.score - theta)).toBeLessThan(0.01);
    expect(isPruned(tick.score, theta)).toBe(true);
  });

  it('takes emotion into account and crosses later for an emotional memory', () => {
    const neutral = forecast(fresh('working'), 0, T0_MS, 0.1).threshold_at_ms!;
    const emotional = forecast(fresh('working'), 1, T0_MS, 0.1).threshold_at_ms!;
    expect(emotional).toBeGreaterThan(neutral);
    expect(Math.abs(fidelityAt(fresh('working'), 1, emotional) - 0.1)).toBeLessThan(1e-6);
  });

  it('is measured from the anchor for a reference record', () => {
    const reference: FidelityState = {
      score: 0.5,
      noise_level: 0,
      decay_rate: 0.5,
      emotional_anchor: 1,
      reinforcement_count: 0,
      stability: 3600,
      last_decay_tick: T0,
    };
    const crossing = forecast(reference, 0, T0_MS, 0.05).threshold_at_ms!;
    expect(crossing).toBeCloseTo(T0_MS + 3600 * (10 ** 2 - 1) * SECOND, 3);
  });

  it('is null when the current score is already at or below the threshold (spec §3.20)', () => {
    const faded = decayFidelity(fresh('working'), 0, T0_MS + 30 * DAY, 0);
    expect(faded.score).toBeLessThanOrEqual(0.1);
    expect(forecast(faded, 0, T0_MS + 31 * DAY, 0.1).threshold_at_ms).toBeNull();
    expect(forecast({ ...fresh(), score: 0.01 }, 0, T0_MS, 0.01).threshold_at_ms).toBeNull();
  });

  it('is null when the crossing is more than ten years away, or never comes', () => {
    expect(forecast(fresh('procedural'), 0, T0_MS, 0.01).threshold_at_ms).toBeNull();
    expect(forecast(fresh('semantic'), 0, T0_MS, 0.01).threshold_at_ms).toBeNull();
    expect(forecast({ ...fresh(), decay_rate: 0 }, 0, T0_MS, 0.01).threshold_at_ms).toBeNull();
    expect(forecast(fresh(), 0, T0_MS, 0).threshold_at_ms).toBeNull();
    const episodic = forecast(fresh('episodic'), 0, T0_MS, 0.01).threshold_at_ms;
    // (100^(1/0.3) − 1) days ≈ 4.6e6 days: far beyond the horizon.
    expect(episodic).toBeNull();
    const justInside = forecast(withCurve(86_400, 1), 0, T0_MS, 0.01).threshold_at_ms!;
    expect(justInside).toBeCloseTo(T0_MS + 99 * DAY, 3);
    expect(justInside - T0_MS).toBeLessThan(FORECAST_HORIZON_SECS * SECOND);
  });
});
