import { describe, expect, it } from 'vitest';
import { defaultRecallScoring, emotionalCongruence, matchScores, modulation, recency, type Candidate, type ScoringContext } from '../../../src/actors/hippocampus/recall.js';
import { neutralEmotion } from '../../../src/cmp/emotion.js';
import type { EmotionVector } from '../../../src/cmp/types.js';
import { at, memoryRecord, recordId, T0_MS, textContent } from '../../helpers/records.js';

// The pure scoring functions of recall.ts (its header formula), as tables: no runtime, no clock but
// the `now` each case passes. withSessionNeighbours, attribution, phraseMatch, the time words, sessionSupport and the fuser have their tables in
// recall.test.ts.

const DAY_MS = 86_400_000;

const emotion = (values: Partial<EmotionVector>): EmotionVector => ({ ...neutralEmotion(), ...values });

describe('emotionalCongruence', () => {
  const cases: [name: string, a: Partial<EmotionVector>, b: Partial<EmotionVector>, expected: number][] = [
    ['the same emotion is fully congruent', { joy: 0.8 }, { joy: 0.8 }, 1],
    ['scale does not matter (a cosine)', { joy: 0.2 }, { joy: 0.9 }, 1],
    ['unrelated dimensions are not congruent', { joy: 1 }, { fear: 1 }, 0],
    ['a neutral side gives 0, not NaN', {}, { joy: 1 }, 0],
    ['both neutral gives 0', {}, {}, 0],
    ['half overlap', { joy: 1, trust: 1 }, { joy: 1 }, Math.SQRT1_2],
    ['intensity and valence are not dimensions', { joy: 1, intensity: 1, valence: 1 }, { joy: 1, valence: -1 }, 1],
  ];
  it.each(cases)('%s', (_, a, b, expected) => {
    expect(emotionalCongruence(emotion(a), emotion(b))).toBeCloseTo(expected, 12);
    expect(emotionalCongruence(emotion(b), emotion(a))).toBeCloseTo(expected, 12);
  });
});

describe('recency', () => {
  const cases: [name: string, ageMs: number, days: number | undefined, expected: number][] = [
    ['just accessed', 0, undefined, 1],
    ['one time constant (30 days by default) ago: 1/e', 30 * DAY_MS, undefined, Math.exp(-1)],
    ['two time constants ago', 60 * DAY_MS, undefined, Math.exp(-2)],
    ['a custom time constant', 10 * DAY_MS, 10, Math.exp(-1)],
    ['an access in the future (clock skew) counts as now', -5 * DAY_MS, undefined, 1],
  ];
  it.each(cases)('%s', (_, ageMs, days, expected) => {
    expect(recency(T0_MS - ageMs, T0_MS, days)).toBeCloseTo(expected, 12);
  });
});

describe('modulation', () => {
  const context = (overrides: Partial<ScoringContext> = {}): ScoringContext => ({
    nowMs: T0_MS,
    fidelityOf: () => 1,
    cueHasText: true,
    cueHasVector: true,
    cueEmotion: null,
    ...overrides,
  });
  const s = defaultRecallScoring;
  const cases: [name: string, record: Parameters<typeof memoryRecord>[0], ctx: Partial<ScoringContext>, expected: number][] = [
    ['fresh, just accessed, no cue emotion: the top without congruence', {}, {}, 1 * (1 + s.recencyBoost)],
    ['fidelity 0 keeps 1 − fidelityWeight', {}, { fidelityOf: () => 0 }, (1 - s.fidelityWeight) * (1 + s.recencyBoost)],
    ['fidelity 0.5 is halfway', {}, { fidelityOf: () => 0.5 }, (1 - s.fidelityWeight / 2) * (1 + s.recencyBoost)],
    ['last accessed 30 days ago', { last_accessed_at: at(-30 * DAY_MS) }, {}, 1 + s.recencyBoost * Math.exp(-1)],
    ['a congruent cue emotion adds congruenceBoost', { emotion: emotion({ joy: 1 }) }, { cueEmotion: emotion({ joy: 0.5 }) }, (1 + s.recencyBoost) * (1 + s.congruenceBoost)],
    ['an unrelated cue emotion adds nothing', { emotion: emotion({ joy: 1 }) }, { cueEmotion: emotion({ fear: 1 }) }, 1 + s.recencyBoost],
    [
      'a transcript line of someone the cue names adds attributionBoost',
      { content: textContent('Caroline: I looked into adoption agencies') },
      { cueText: 'What did Caroline research?' },
      (1 + s.recencyBoost) * (1 + s.attributionBoost),
    ],
    ['a line of someone else adds nothing', { content: textContent('Melanie: I painted a sunrise') }, { cueText: 'What did Caroline research?' }, 1 + s.recencyBoost],
    ['no cue text, no attribution', { content: textContent('Caroline: I looked into adoption agencies') }, {}, 1 + s.recencyBoost],
    [
      'a memory holding the whole cue word for word adds phraseBoost',
      { content: textContent('we fixed the login page before lunch') },
      { cueText: 'fixed the login page' },
      (1 + s.recencyBoost) * (1 + s.phraseBoost),
    ],
    ['the same words out of order add nothing', { content: textContent('the page we fixed: login, before lunch') }, { cueText: 'fixed the login page' }, 1 + s.recencyBoost],
    ['phraseBoost 0 switches it off', { content: textContent('we fixed the login page') }, { cueText: 'fixed the login page', scoring: { ...s, phraseBoost: 0 } }, 1 + s.recencyBoost],
    [
      'a memory naming a time, for a cue asking when, adds timeBoost',
      { content: textContent('[8 May, 2023] Jon: I opened the studio last week') },
      { cueText: 'When was it opened?' },
      (1 + s.recencyBoost) * (1 + s.timeBoost),
    ],
    ['the same memory for a cue not asking when adds nothing', { content: textContent('[8 May, 2023] Jon: I opened the studio last week') }, { cueText: 'Where is the studio?' }, 1 + s.recencyBoost],
    ['timeBoost 0 switches it off', { content: textContent('Jon: I opened the studio last week') }, { cueText: 'When was it opened?', scoring: { ...s, timeBoost: 0 } }, 1 + s.recencyBoost],
    ['custom scoring knobs are used', {}, { fidelityOf: () => 0, scoring: { ...s, fidelityWeight: 1, recencyBoost: 0 } }, 0],
  ];
  it.each(cases)('%s', (_, record, ctx, expected) => {
    expect(modulation(memoryRecord(record), context(ctx))).toBeCloseTo(expected, 12);
  });
});

describe('matchScores', () => {
  const candidate = (n: number, signals: Omit<Candidate, 'record'>, fidelity?: number): Candidate => ({
    record: memoryRecord({ id: recordId(n), ...(fidelity === undefined ? {} : { fidelity: { ...memoryRecord().fidelity, score: fidelity } }) }),
    ...signals,
  });
  const context = (overrides: Partial<ScoringContext> = {}): ScoringContext => ({
    nowMs: T0_MS,
    fidelityOf: (record) => record.fidelity.score,
    cueHasText: true,
    cueHasVector: true,
    cueEmotion: null,
    ...overrides,
  });
  const { textWeight: wt, vectorWeight: wv } = defaultRecallScoring;
  const cases: [name: string, candidates: Candidate[], ctx: Partial<ScoringContext>, expected: number[]][] = [
    ['text is relative to the best text hit of the recall', [candidate(1, { text: 4 }), candidate(2, { text: 2 })], { cueHasVector: false }, [1, 0.5]],
    ['both signals: weighted by textWeight and vectorWeight', [candidate(1, { text: 3, vector: 0.5 })], {}, [wt + wv * 0.5]],
    ['a vector-only hit scores its cosine share', [candidate(1, { text: 2 }), candidate(2, { vector: 0.8 })], {}, [wt, wv * 0.8]],
    ['a vector-only cue weighs the vector fully', [candidate(1, { vector: 0.7 })], { cueHasText: false }, [0.7]],
    ['a negative cosine counts as 0', [candidate(1, { vector: -0.4 })], { cueHasText: false }, [0]],
    ['no text hit anywhere: text contributes 0, not NaN', [candidate(1, { text: 0, vector: 0.5 })], {}, [wv * 0.5]],
    ['a temporal-only match scores its fidelity', [candidate(1, { temporal: true }, 0.6)], { cueHasText: false, cueHasVector: false }, [0.6]],
    ['a temporal match with a signal scores the signal', [candidate(1, { temporal: true, vector: 0.5 }, 0.6)], { cueHasText: false }, [0.5]],
    ['a candidate with no signal at all scores 0', [candidate(1, {})], {}, [0]],
  ];
  it.each(cases)('%s', (_, candidates, ctx, expected) => {
    const scores = matchScores(candidates, context(ctx));
    expect(candidates.map((c) => scores.get(c.record.id)!)).toEqual(expected.map((value) => expect.closeTo(value, 12)));
  });
});
