import { describe, it, expect } from 'vitest';
import { createEvolutionState, currentParams, evaluate, medianFidelity, observeDecayTick, observeRecall, rebaseEvolution, type EvolutionState } from '../../../src/actors/hippocampus/evolution.js';
import { defaultDecayParams, fidelityHistogram } from '../../../src/actors/store/decay.js';
import { STORE_TYPES } from '../../../src/cmp/types.js';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** `n` scores all equal to `score`. */
const scores = (n: number, score: number) => new Array<number>(n).fill(score);

/** Runs `evaluate` `times` times, returning the last result. */
function evaluateTimes(state: EvolutionState, times: number) {
  let result = evaluate(state);
  for (let i = 1; i < times; i++) result = evaluate(result.state);
  return result;
}

describe('createEvolutionState / currentParams', () => {
  it('starts every store at its DESIGN §2.1 defaults, or the configured ones', () => {
    const state = createEvolutionState();
    for (const store of STORE_TYPES) expect(currentParams(state, store)).toEqual(defaultDecayParams[store]);
    const custom = { ...defaultDecayParams.episodic, decay_exponent: 0.4 };
    expect(currentParams(createEvolutionState({ episodic: custom }), 'episodic')).toEqual(custom);
    expect(state.metrics).toEqual({ parameter_adjustments: [], detected_patterns: [], schema_adaptations: [] });
  });

  it('hands out a copy', () => {
    const state = createEvolutionState();
    currentParams(state, 'episodic').decay_exponent = 9;
    expect(currentParams(state, 'episodic').decay_exponent).toBe(0.3);
  });
});

describe('observations', () => {
  it('bucket scores by min(floor(score·10), 9), cumulatively', () => {
    let state = createEvolutionState();
    state = observeDecayTick(state, 'semantic', fidelityHistogram([0, 0.05, 0.1, 0.55, 0.99, 1, -0.2, Number.NaN]));
    state = observeDecayTick(state, 'semantic', fidelityHistogram([1]));
    expect(state.stores.semantic.fidelity_histogram).toEqual([3, 1, 0, 0, 0, 1, 0, 0, 0, 3]);
  });

  it('keep the last 100 hit rates, clamped to 0..1', () => {
    let state = createEvolutionState();
    for (let i = 0; i < 150; i++) state = observeRecall(state, 'episodic', i < 50 ? 2 : 0.5);
    expect(state.stores.episodic.hit_rates).toHaveLength(100);
    expect(state.stores.episodic.hit_rates.every((rate) => rate === 0.5)).toBe(true);
    expect(observeRecall(state, 'episodic', -1).stores.episodic.hit_rates.at(-1)).toBe(0);
  });

  it('never change the state they are given', () => {
    const state = deepFreeze(createEvolutionState());
    expect(() => evaluate(observeRecall(observeDecayTick(state, 'episodic', fidelityHistogram([0.1])), 'episodic', 0))).not.toThrow();
    expect(state.stores.episodic.fidelity_histogram.every((count) => count === 0)).toBe(true);
  });
});

describe('medianFidelity', () => {
  it('is the midpoint of the first bucket past half the count, 0.5 when empty', () => {
    expect(medianFidelity(new Array(10).fill(0))).toBe(0.5);
    expect(medianFidelity([0, 0, 3, 0, 0, 0, 0, 0, 0, 2])).toBe(0.25);
    expect(medianFidelity([1, 0, 0, 0, 0, 0, 0, 0, 0, 1])).toBe(0.95);
  });
});

describe('evaluate', () => {
  it('rule 1: a median fidelity below 0.3 lowers decay_exponent by 10 %', () => {
    const state = observeDecayTick(createEvolutionState(), 'episodic', fidelityHistogram([...scores(6, 0.25), ...scores(4, 0.9)]));
    const { state: next, metrics } = evaluate(state);
    expect(currentParams(next, 'episodic').decay_exponent).toBeCloseTo(0.27, 12);
    expect(metrics.parameter_adjustments).toEqual([
      { store: 'episodic', parameter: 'decay_exponent', original_value: 0.3, current_value: expect.closeTo(0.27, 12), reason: 'Median fidelity 0.25 < 0.3: decay too aggressive' },
    ]);
    expect(metrics.detected_patterns).toEqual(['episodic: low median fidelity (0.25), reducing decay']);
    expect(metrics.schema_adaptations).toEqual([]);
    expect(next.metrics).toEqual(metrics);
  });

  it('rule 3: more than half the scores under 0.1 lowers prune_threshold by 10 %', () => {
    const state = observeDecayTick(createEvolutionState(), 'semantic', fidelityHistogram([...scores(3, 0.05), ...scores(2, 0.95)]));
    const { state: next, metrics } = evaluate(state);
    expect(currentParams(next, 'semantic').prune_threshold).toBeCloseTo(0.009, 12);
    expect(metrics.parameter_adjustments.map((a) => [a.parameter, a.reason])).toEqual([
      ['decay_exponent', 'Median fidelity 0.05 < 0.3: decay too aggressive'],
      ['prune_threshold', '60% in lowest fidelity bucket: over-pruning'],
    ]);
    expect(metrics.detected_patterns).toContain('semantic: over-pruning detected (60% in lowest bucket)');
  });

  it('rule 3 does not fire at exactly half', () => {
    const state = observeDecayTick(createEvolutionState(), 'semantic', fidelityHistogram([0.05, 0.05, 0.95, 0.95]));
    expect(evaluate(state).metrics.parameter_adjustments.map((a) => a.parameter)).not.toContain('prune_threshold');
  });

  it('rule 2: a mean hit rate below 0.2 over at least 5 recalls raises retrieval_boost by 10 %', () => {
    let state = createEvolutionState();
    for (let i = 0; i < 4; i++) state = observeRecall(state, 'procedural', 0.1);
    expect(evaluate(state).metrics.parameter_adjustments).toEqual([]);
    state = observeRecall(state, 'procedural', 0.1);
    const { state: next, metrics } = evaluate(state);
    expect(currentParams(next, 'procedural').retrieval_boost).toBeCloseTo(1.65, 12);
    expect(metrics.parameter_adjustments).toEqual([
      { store: 'procedural', parameter: 'retrieval_boost', original_value: 1.5, current_value: expect.closeTo(1.65, 12), reason: 'Recall hit rate 0.10 < 0.2: retrieval insufficient' },
    ]);
    expect(metrics.detected_patterns).toEqual(['procedural: low recall hit rate (0.10), increasing boost']);
  });

  it('healthy stores change nothing and report nothing', () => {
    let state = observeDecayTick(createEvolutionState(), 'episodic', fidelityHistogram(scores(10, 0.8)));
    for (let i = 0; i < 10; i++) state = observeRecall(state, 'episodic', 0.9);
    const { state: next, metrics } = evaluate(state);
    expect(metrics).toEqual({ parameter_adjustments: [], detected_patterns: [], schema_adaptations: [] });
    expect(currentParams(next, 'episodic')).toEqual(defaultDecayParams.episodic);
  });

  it('compounds across evaluations and stops at ±50 % of the default, then reports only the pattern', () => {
    let state = observeDecayTick(createEvolutionState(), 'emotional', fidelityHistogram(scores(10, 0.05)));
    for (let i = 0; i < 5; i++) state = observeRecall(state, 'emotional', 0);
    const twice = evaluateTimes(state, 2);
    expect(currentParams(twice.state, 'emotional').decay_exponent).toBeCloseTo(0.2 * 0.81, 12);
    const many = evaluateTimes(state, 50);
    const params = currentParams(many.state, 'emotional');
    expect(params.decay_exponent).toBeCloseTo(0.1, 12);
    expect(params.prune_threshold).toBeCloseTo(0.005, 12);
    expect(params.retrieval_boost).toBeCloseTo(2.25, 12);
    expect(params.initial_stability_secs).toBe(defaultDecayParams.emotional.initial_stability_secs);
    expect(many.metrics.parameter_adjustments).toEqual([]);
    expect(many.metrics.detected_patterns).toHaveLength(3);
  });

  it('reports the step that reaches the clamp, with the clamped value', () => {
    let state = observeDecayTick(createEvolutionState(), 'episodic', fidelityHistogram(scores(10, 0.05)));
    let last = evaluate(state);
    const reports: number[] = [];
    for (let i = 0; i < 10; i++) {
      for (const a of last.metrics.parameter_adjustments) if (a.parameter === 'decay_exponent') reports.push(a.current_value);
      state = last.state;
      last = evaluate(state);
    }
    // 0.3 · 0.9^k: 0.27, 0.243, …, 0.159…, then 0.15 (clamped), then nothing.
    expect(reports.at(-1)).toBeCloseTo(0.15, 12);
    expect(reports.length).toBe(7);
  });

  it('does not tune working memory', () => {
    let state = observeDecayTick(createEvolutionState(), 'working', fidelityHistogram(scores(10, 0.01)));
    for (let i = 0; i < 5; i++) state = observeRecall(state, 'working', 0);
    const { state: next, metrics } = evaluate(state);
    expect(metrics.parameter_adjustments).toEqual([]);
    expect(currentParams(next, 'working')).toEqual(defaultDecayParams.working);
  });

  it('survives a JSON round trip and behaves the same afterwards', () => {
    let state = observeDecayTick(createEvolutionState(), 'episodic', fidelityHistogram(scores(10, 0.05)));
    for (let i = 0; i < 5; i++) state = observeRecall(state, 'semantic', 0.1);
    state = evaluate(state).state;
    const restored = JSON.parse(JSON.stringify(state)) as EvolutionState;
    expect(restored).toEqual(state);
    expect(evaluate(restored)).toEqual(evaluate(state));
    expect(currentParams(restored, 'semantic')).toEqual(currentParams(state, 'semantic'));
  });
});

describe('rebaseEvolution (after a restart)', () => {
  const learned = () => {
    let state = createEvolutionState();
    for (let i = 0; i < 20; i++) state = observeDecayTick(state, 'semantic', fidelityHistogram(scores(10, 0.05)));
    for (let i = 0; i < 20; i++) state = observeDecayTick(state, 'episodic', fidelityHistogram(scores(10, 0.05)));
    return evaluateTimes(state, 3).state;
  };

  it('keeps every store that learned from the same configuration', () => {
    const saved = learned();
    expect(rebaseEvolution(saved, createEvolutionState())).toEqual(saved);
  });

  it('starts a store whose configuration changed from the new one, and only that store', () => {
    const saved = learned();
    expect(currentParams(saved, 'semantic').decay_exponent).not.toBe(defaultDecayParams.semantic.decay_exponent);
    const configured = createEvolutionState({ semantic: { ...defaultDecayParams.semantic, decay_exponent: 0.5 } });
    const rebased = rebaseEvolution(saved, configured);
    expect(currentParams(rebased, 'semantic').decay_exponent).toBe(0.5);
    expect(rebased.stores.semantic.defaults.decay_exponent).toBe(0.5);
    expect(rebased.stores.episodic).toEqual(saved.stores.episodic);
    expect(rebased.metrics.parameter_adjustments).toEqual([]);
  });

  it('takes the configuration when nothing (or another version) was saved', () => {
    const configured = createEvolutionState();
    expect(rebaseEvolution(undefined, configured)).toBe(configured);
    expect(rebaseEvolution({ ...learned(), version: 2 as 1 }, configured)).toBe(configured);
  });
});
