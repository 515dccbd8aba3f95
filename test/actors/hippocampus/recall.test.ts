import { describe, expect, it } from 'vitest';
import { asksWhen, attributedSpeaker, cueNames, firstPersonCue, fuser, mentionsTime, mostActivated, preselect, sessionSupport, withSessionNeighbours } from '../../../src/actors/hippocampus/recall.js';
import { phraseMatch } from '../../../src/actors/store/phrase.js';

// The pure scoring steps of recall.ts, as tables.

describe('withSessionNeighbours', () => {
  // A session a – b – c – d (each links to the one before it; neighbours are listed both ways).
  const chain: Record<string, string[]> = { a: ['b'], b: ['a', 'c'], c: ['b', 'd'], d: ['c'] };
  const neighboursOf = (id: string) => chain[id] ?? [];

  const cases: [name: string, text: Record<string, number>, weight: number, expected: Record<string, number>][] = [
    ['weight 0 leaves the scores as they are', { b: 2 }, 0, { b: 2 }],
    ['a hit lends weight × its score to each neighbour, 0.4 × that two away', { b: 2 }, 0.5, { b: 2, a: 1, c: 1, d: 0.4 }],
    ['a memory between two hits gets both shares', { a: 2, c: 4 }, 0.5, { a: 2.8, c: 4.4, b: 3, d: 2 }],
    ["a hit keeps its own score plus its neighbours' shares", { b: 2, c: 2 }, 0.5, { b: 3, c: 3, a: 1.4, d: 1.4 }],
    ['zero scores lend nothing', { b: 0 }, 0.5, { b: 0 }],
    ['a memory without neighbours is unchanged', { z: 1 }, 0.5, { z: 1 }],
  ];
  it.each(cases)('%s', (_, text, weight, expected) => {
    const spread = Object.fromEntries(withSessionNeighbours(new Map(Object.entries(text)), neighboursOf, weight));
    expect(Object.keys(spread).sort()).toEqual(Object.keys(expected).sort());
    for (const [id, score] of Object.entries(expected)) expect(spread[id], id).toBeCloseTo(score, 10);
  });

  it('counts a neighbour listed twice (a link in both directions) once', () => {
    expect(Object.fromEntries(withSessionNeighbours(new Map([['a', 2]]), () => ['b', 'b', 'a'], 0.5))).toEqual({ a: 2, b: 1 });
  });
});

describe('asksWhen and mentionsTime', () => {
  it.each([
    ['When did Melanie paint a sunrise?', true],
    ['  when was the trip', true],
    ['Whenever it rains', false],
    ['What did Caroline do when she moved?', false],
  ] as const)('asksWhen(%j) is %s', (cue, expected) => expect(asksWhen(cue)).toBe(expected));

  it.each([
    ['[8 May, 2023] Melanie: We painted a sunrise last week', true],
    ['Caroline: I went there in 2022', true],
    ['Caroline: two days ago, at the lake', true],
    ['[8 May, 2023] Melanie: We painted a sunrise', false],
    ['Melanie: lovely colours', false],
    [null, false],
  ] as const)('mentionsTime(%j) is %s (the leading [date] does not count)', (text, expected) => expect(mentionsTime(text)).toBe(expected));
});

describe('sessionSupport', () => {
  const sessions: Record<string, string | undefined> = { a: 's1', b: 's1', c: 's2', z: undefined };
  const sessionOf = (id: string) => sessions[id];
  it('gives each memory weight × the best of its session / the best of all, none without a session', () => {
    const bonus = sessionSupport(
      new Map([
        ['a', 2],
        ['b', 0.5],
        ['c', 1],
        ['z', 4],
      ]),
      sessionOf,
      0.1,
    );
    expect(Object.fromEntries(bonus)).toEqual({ a: 0.05, b: 0.05, c: 0.025 });
  });
  it('is off at weight 0 and empty without positive scores', () => {
    expect(sessionSupport(new Map([['a', 2]]), sessionOf, 0).size).toBe(0);
    expect(sessionSupport(new Map([['a', 0]]), sessionOf, 0.1).size).toBe(0);
  });
});

describe('attributedSpeaker', () => {
  const cases: [text: string | null, expected: string | null][] = [
    ['Caroline: I went to a support group yesterday', 'Caroline'],
    ['[1:56 pm on 8 May, 2023] Melanie: We painted a sunrise', 'Melanie'],
    ['[8 May] Mary Ann Evans: a pen name', 'Mary Ann Evans'],
    ['Note: buy milk', 'Note'],
    ['buy milk: today', null],
    ['Caroline went to a support group', null],
    ['Caroline:no space after the colon', null],
    ['[an unterminated date Caroline: hi', null],
    ['', null],
    [null, null],
  ];
  it.each(cases)('%j → %j', (text, expected) => expect(attributedSpeaker(text)).toBe(expected));
});

describe('phraseMatch', () => {
  const cases: [cue: string, text: string | null, expected: number][] = [
    ['fixed the login page', 'we fixed the login page before lunch', 1],
    ['Fixed the LOGIN page', 'We fixed the login page.', 1],
    ['fixed the login page', 'the page we fixed: login', 0],
    // A run of 3 of the 4 words: ((3 − 1) / (4 − 1))², a partial run says much less than the phrase.
    ['fixed the login page', 'fixed the login form', (2 / 3) ** 2],
    ['fixed the login page', 'we fixed the bug on the login page', (2 / 3) ** 2],
    // Two words side by side are chance, unless they are the whole cue.
    ['fixed the login page', 'fixed it, then the login broke', 0],
    ['login page', 'the login page', 1],
    ['login page', 'the page to log in', 0],
    ['pegilis to perenlobo', 'to perenlobo pegilis', 0],
    // Stopwords count: "fixed login page" is not "fixed the login page".
    ['fixed the login page', 'fixed login page', 0],
    ['did you fix the login page', 'fixed login page', 0],
    ['a b a b c', 'x a b a b c y', 1],
    ['a b c', 'a b x a b c', 1],
    ['login', 'the login page', 0],
    ['', 'the login page', 0],
    ['fixed the login page', null, 0],
    ['fixed the login page', '', 0],
  ];
  it.each(cases)('%j in %j → %d', (cue, text, expected) => expect(phraseMatch(cue, text)).toBeCloseTo(expected, 12));
});

describe('cueNames', () => {
  const cases: [cue: string, name: string, expected: boolean][] = [
    ['What did Caroline research?', 'Caroline', true],
    ["What is Caroline's identity?", 'Caroline', true],
    ['Caroline?', 'Caroline', true],
    ['What did Carolines research?', 'Caroline', false],
    ['What did caroline research?', 'Caroline', false],
    ['What did JoCaroline say?', 'Caroline', false],
    ['Ask Mary Ann Evans', 'Mary Ann Evans', true],
  ];
  it.each(cases)('%j names %j: %j', (cue, name, expected) => expect(cueNames(cue, name)).toBe(expected));
});

describe('firstPersonCue', () => {
  const cases: [cue: string, expected: string][] = [
    ['When did Caroline go to the LGBTQ support group?', 'When did I go to the LGBTQ support group?'],
    ["What is Caroline's identity?", 'What is my identity?'],
    ['What fields would Caroline be likely to pursue?', 'What fields would I be likely to pursue?'],
    ['Caroline went where?', 'Caroline went where?'],
    ['Did it rain? Melanie said so.', 'Did it rain? Melanie said so.'],
    ['what did the NASA team find', 'what did the NASA team find'],
    ['no names here', 'no names here'],
  ];
  it.each(cases)('%j → %j', (cue, expected) => expect(firstPersonCue(cue)).toBe(expected));
});

describe('fuser', () => {
  const hits = [{ text: 4, vector: 0.5 }, { text: 2 }, { vector: 0.25 }, {}];
  const cases: [name: string, cueHasText: boolean, cueHasVector: boolean, expected: number[]][] = [
    ['text and vector: BM25 over its best, cosine as it is, weighted 0.5 / 0.5', true, true, [0.75, 0.25, 0.125, 0]],
    ['text only: the text signal alone', true, false, [1, 0.5, 0, 0]],
    ['vector only: the cosine alone', false, true, [0.5, 0, 0.25, 0]],
  ];
  it.each(cases)('%s', (_, cueHasText, cueHasVector, expected) => {
    const fuse = fuser(hits, { cueHasText, cueHasVector });
    hits.forEach((hit, index) => expect(fuse(hit)).toBeCloseTo(expected[index]!, 10));
  });

  it('scores nothing when no hit has a positive signal', () => {
    const fuse = fuser([{ text: 0, vector: -0.2 }], { cueHasText: true, cueHasVector: true });
    expect(fuse({ text: 0, vector: -0.2 })).toBe(0);
  });
});

describe('preselect', () => {
  const hits = new Map([
    ['b', { text: 4 }],
    ['a', { text: 4 }],
    ['c', { text: 2, vector: 0.9 }],
    ['d', { vector: 0.1 }],
  ]);
  it('keeps the best by match term, ties by id, at most count', () => {
    // Text over its best (4) weighted 0.4, cosine 0.6: a, b 0.4; c 0.2 + 0.54 = 0.74; d 0.06.
    expect(preselect(hits, { cueHasText: true, cueHasVector: true }, 3).map(([id]) => id)).toEqual(['c', 'a', 'b']);
    expect(preselect(hits, { cueHasText: true, cueHasVector: false }, 10).map(([id]) => id)).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('mostActivated', () => {
  const activated = ['p', 'q', 'r', 's', 't']; // descending activation
  it.each([
    { known: [] as string[], count: 3, expected: ['p', 'q', 'r'] },
    { known: ['p', 'r'], count: 2, expected: ['q', 's'] },
    { known: ['p', 'q', 'r', 's', 't'], count: 4, expected: [] },
    { known: ['q'], count: 0, expected: [] },
    { known: [], count: 9, expected: ['p', 'q', 'r', 's', 't'] },
  ])('the first $count not among $known', ({ known, count, expected }) => {
    expect(mostActivated(activated, (id) => known.includes(id), count)).toEqual(expected);
  });
});
