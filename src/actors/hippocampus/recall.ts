import { textOf } from '../../cmp/content.js';
import { EMOTION_DIMENSIONS, type EmotionVector, type MemoryRecord } from '../../cmp/types.js';
import { phraseMatch } from '../store/phrase.js';

// Hybrid recall scoring (DESIGN §2 item 4): pure functions of the candidates the stores returned, the
// cue and `now`. The score of a memory, all terms in [0, 1] unless stated:
//
//   text       = BM25 of the memory read with its turn context: its own words + 0.5 × those of the
//                                             turns just before and after it in its session (`temporal`
//                                             links) + 0.25 × those two away (text-index.ts): an answer
//                                             often sits in the turn after the one a question echoes
//                (+ wN·Σ BM25 of the session neighbours + 0.4·wN·Σ BM25 two away: the older form of
//                 the same idea, off by default, recall.session_neighbour_weight)
//   match      = wText·t + wVector·v          t = text / best text of this recall, v = cosine (≥ 0);
//                                             the stores report the cosine of every text hit too,
//                                             so a memory both signals find is scored on both.
//                                             Weights renormalised over the signals the cue has (a
//                                             text cue has both: the embedder embeds it, in the
//                                             first person: see firstPersonCue)
//   modulation = (0.6 + 0.4·F)                F = the memory's fidelity now: faded memories rank lower
//              · (1 + 0.1·recency)            recency = e^(−days since last access / 30)
//              · (1 + 0.2·congruence)         congruence = cosine of cue.emotion and the memory's
//                                             Plutchik vector (0 without cue.emotion): mood-congruent recall
//              · (1 + 0.5·attributed)         attributed = 1 when the memory is a transcript line
//                                             (`Name: …`, after an optional `[date]`) of someone the
//                                             cue names: "what did Caroline research?" is about what
//                                             Caroline said (96% of LoCoMo's evidence turns)
//              · (1 + 1·phrase)               phrase = how much of the cue the memory holds word for
//                                             word, in order (phraseMatch; 1 = all of it): BM25 sees a bag of terms,
//                                             so among many memories sharing the cue's words it
//                                             cannot tell the one that says the cue itself
//              · (1 + 0.4·timely)             timely = 1 when the cue asks "when …" and the memory's
//                                             own words name a time ("last week", "in May", "2022"):
//                                             the answer to a when-question is a turn that dates itself
//   relevance  = match·modulation + 0.3·activation        for memories found directly
//              = 0.5·activation·modulation                for memories reached only by activation
//              + 0.1·(best relevance in the memory's session / best relevance)   (sessionSupport): a
//                                             memory among other good hits of its conversation is
//                                             more likely what was meant than an isolated one
//
// Activation spreads from the strongest direct hits over the association graph (activation.ts); a
// memory reached that way carries the real path it was reached by.

export const defaultRecallScoring = {
  /** Share of the text (BM25) signal when the cue has text and a vector: 1 − vectorWeight. */
  textWeight: 0.5,
  /**
   * Share of the vector signal when the cue has text and a vector (config recall.vector_weight): 0.5
   * with the semantic model and static query vectors was best on the LoCoMo dev conversations (0.6 with
   * the model per cue); config lowers it to 0.4 for the lexical embedder.
   */
  vectorWeight: 0.5,
  /** How much fidelity matters: modulation ranges over [1 − fidelityWeight, 1]. */
  fidelityWeight: 0.4,
  recencyBoost: 0.1,
  /** Days for recency to fall to 1/e. */
  recencyDays: 30,
  congruenceBoost: 0.2,
  /**
   * Boost of a memory attributed to someone the cue names (attributedSpeaker). Fraction added, default
   * 0.5 (config recall.attribution_boost); 0 switches it off. On the LoCoMo dev conversations 0.5 was best.
   */
  attributionBoost: 0.5,
  /**
   * Boost of a memory holding the cue's words consecutively (phraseMatch), per unit of match: the whole
   * cue word for word doubles its score at 1 (config recall.phrase_boost, range 0..4; 0 switches it off).
   */
  phraseBoost: 1,
  /**
   * Boost of a memory naming a time when the cue asks "when" (asksWhen, mentionsTime; config
   * recall.time_boost). Fraction added, default 0.4 (LoCoMo dev probe: temporal R@5 +0.03); 0 = off.
   */
  timeBoost: 0.4,
  /**
   * Share of the best relevance within its session that a memory gains, over the best of the recall
   * (sessionSupport; config recall.session_boost). Fraction, default 0.1; 0 = off.
   */
  sessionBoost: 0.1,
  /** Added per unit of activation to a memory also found directly (spec §4.4 step 6). */
  activationBoost: 0.3,
  /** Score per unit of activation of a memory found only by activation (spec §4.4 step 5). */
  activationOnly: 0.5,
  /** How many of the best direct hits activation spreads from. */
  activationSources: 3,
  /**
   * Vector hits below this cosine are noise, not paraphrase: hashed n-gram vectors of unrelated texts
   * still share a few buckets (cosine ≈ 0.05–0.2), while paraphrases sit near 0.6–0.9.
   */
  minVectorSimilarity: 0.25,
  /**
   * The same floor for a cue embedded by the static query table (static-query.ts), whose cosines with
   * memories' model vectors run lower: paraphrases ≈ 0.1–0.55, unrelated texts ≈ −0.1–0.17 (against
   * ≈ 0.55–0.75 and 0.1–0.3 with the model per cue). No effect on LoCoMo (R@10 0.783 at any floor
   * 0..0.25 in the offline probe: text hits keep their cosine whatever it is); a memory only the vector
   * finds (a paraphrase sharing no word) is kept from 0.05.
   */
  minStaticVectorSimilarity: 0.05,
  /**
   * Share of a session neighbour's BM25 score a memory receives (config recall.session_neighbour_weight).
   * Fraction, default 0.5, range 0..1; 0 switches the signal off. On the LoCoMo dev conversations 0.5
   * was best (bench/results/retrieval-locomo.json).
   */
  sessionNeighbourWeight: 0,
  /**
   * Turn context of the text search (config recall.turn_context; text-index.ts): each turn's words are
   * read with `turnContext` × those of the turns just before and after it in its session and half that
   * of the turns two away. Fraction, default 0.5, range 0..1; 0 = off. It does what the neighbour
   * weight did, better (LoCoMo dev: see bench/results/retrieval-locomo.json), so that defaults to 0.
   */
  turnContext: 0.5,
  /** Text hits asked of each store when a neighbour signal is on: more turns get a share of a cue's words. */
  neighbourTextHits: 50,
};
export type RecallScoring = typeof defaultRecallScoring;

/**
 * recall.vector_weight by default with the "lexical" embedder (config rules.ts): its cosines measure
 * shared stems, not meaning, so the vector signal is a second BM25 and weighs less.
 */
export const LEXICAL_VECTOR_WEIGHT = 0.4;

const DAY_MS = 86_400_000;

/** Cosine of two emotions over the eight Plutchik dimensions, clipped at 0; 0 if either is neutral. */
export function emotionalCongruence(a: EmotionVector, b: EmotionVector): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const dimension of EMOTION_DIMENSIONS) {
    dot += a[dimension] * b[dimension];
    na += a[dimension] ** 2;
    nb += b[dimension] ** 2;
  }
  if (na === 0 || nb === 0) return 0;
  return Math.max(0, dot / Math.sqrt(na * nb));
}

export function recency(lastAccessMs: number, nowMs: number, days = defaultRecallScoring.recencyDays): number {
  return Math.exp(-Math.max(0, nowMs - lastAccessMs) / (days * DAY_MS));
}

/** Share of the neighbour weight lent to the turns two away (LoCoMo dev probe: 0.2 at weight 0.5). */
const SECOND_HOP_SHARE = 0.4;

/**
 * The text score of every memory after session neighbours lend it `weight` × their BM25 score and
 * the turns two away 0.4·`weight` × theirs: own + weight · Σ neighbours + 0.4·weight · Σ two away. A
 * memory with no text hit of its own but a neighbour that has one is included. `neighboursOf` lists a
 * memory's session neighbours (both directions). Pure.
 */

export function withSessionNeighbours(text: ReadonlyMap<string, number>, neighboursOf: (id: string) => readonly string[], weight: number): Map<string, number> {
  const spread = new Map(text);
  if (!(weight > 0)) return spread;
  for (const [id, score] of text) {
    if (!(score > 0)) continue;
    const near = new Set(neighboursOf(id));
    near.delete(id);
    const twoAway = new Set([...near].flatMap((neighbour) => neighboursOf(neighbour)).filter((other) => other !== id && !near.has(other)));
    for (const neighbour of near) spread.set(neighbour, (spread.get(neighbour) ?? 0) + weight * score);
    for (const other of twoAway) spread.set(other, (spread.get(other) ?? 0) + SECOND_HOP_SHARE * weight * score);
  }
  return spread;
}

/**
 * Who a transcript line is attributed to: `Name: text` or `[any date] Name: text`, Name one to three
 * capitalised words. null for any other text. Pure.
 */
export function attributedSpeaker(text: string | null | undefined): string | null {
  if (!text) return null;
  const match = ATTRIBUTION.exec(text);
  return match === null ? null : match[1]!;
}
const ATTRIBUTION = /^(?:\[[^\]\n]{0,80}\]\s*)?(\p{Lu}[\p{L}'’.-]*(?: \p{Lu}[\p{L}'’.-]*){0,2}):\s/u;

/** Whether `cue` names `name` as a whole word, case-sensitively ("Caroline's" counts). Pure. */
export function cueNames(cue: string, name: string): boolean {
  let from = 0;
  for (;;) {
    const at = cue.indexOf(name, from);
    if (at < 0) return false;
    const before = at === 0 ? '' : cue[at - 1]!;
    const after = cue[at + name.length] ?? '';
    if (!WORD_CHAR.test(before) && !WORD_CHAR.test(after)) return true;
    from = at + 1;
  }
}
const WORD_CHAR = /[\p{L}\p{N}_]/u;

/**
 * The cue as the embedder sees it: a person the cue asks about becomes the speaker of the memories
 * that answer ("When did Caroline go…?" → "When did I go…?", "Caroline's" → "my"), because people
 * write about themselves in the first person. A capitalised word that does not start the cue or a
 * sentence is taken for a name; ALL-CAPS words are left alone. On LoCoMo this lifts the dense channel's
 * R@10 from 0.40 to 0.55. Only the vector query is rewritten; BM25 sees the cue as given. Pure.
 */
export function firstPersonCue(cue: string): string {
  return cue.replace(/(?<=[\p{L}\p{N},;:] )\p{Lu}\p{Ll}+(?:'s|’s)(?![\p{L}])/gu, 'my').replace(/(?<=[\p{L}\p{N},;:] )\p{Lu}\p{Ll}+(?![\p{L}'’])/gu, 'I');
}

export interface Candidate {
  record: MemoryRecord;
  /** Raw BM25 score, when the text side found it. */
  text?: number;
  /** Cosine similarity, when the vector side found it. */
  vector?: number;
  /** Found by the temporal range of the cue. */
  temporal?: boolean;
}

export interface ScoringContext {
  nowMs: number;
  /** The fidelity of a record now (closed-form decay). */
  fidelityOf: (record: MemoryRecord) => number;
  cueHasText: boolean;
  cueHasVector: boolean;
  /** The cue's text, when it has one (attribution); optional for callers that score without it. */
  cueText?: string | null;
  cueEmotion: EmotionVector | null;
  scoring?: RecallScoring;
}

export function modulation(record: MemoryRecord, context: ScoringContext): number {
  const s = context.scoring ?? defaultRecallScoring;
  const fidelity = context.fidelityOf(record);
  const congruence = context.cueEmotion ? emotionalCongruence(context.cueEmotion, record.emotion) : 0;
  const attributed = s.attributionBoost > 0 && context.cueText ? attributedTo(record, context.cueText) : 0;
  const phrase = s.phraseBoost > 0 && context.cueText ? phraseMatch(context.cueText, textOf(record.content)) : 0;
  const timely = s.timeBoost > 0 && context.cueText && asksWhen(context.cueText) && mentionsTime(textOf(record.content)) ? 1 : 0;
  return (
    (1 - s.fidelityWeight + s.fidelityWeight * fidelity) *
    (1 + s.recencyBoost * recency(Date.parse(record.last_accessed_at), context.nowMs, s.recencyDays)) *
    (1 + s.congruenceBoost * congruence) *
    (1 + s.attributionBoost * attributed) *
    (1 + s.phraseBoost * phrase) *
    (1 + s.timeBoost * timely)
  );
}

const WHEN = /^\s*when\b/i;
/** A leading `[date]` of a transcript line: the time it was said, not a time it names. */
const DATE_PREFIX = /^\s*\[[^\]]*\]\s*/;
const TIME_WORDS =
  /\b(?:yesterday|today|tonight|tomorrow|last|next|ago|week|weekend|month|year|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october|november|december|recently|just|soon|since|\d{4})\b/i;

/** Whether a cue asks when something happened ("When did Melanie paint a sunrise?"). Pure. */
export function asksWhen(cue: string): boolean {
  return WHEN.test(cue);
}

/**
 * Whether a memory's own words name a time ("last Friday", "two weeks ago", "in 2022"), its leading
 * `[date]` aside. Broad on purpose ("may", "just"): it only lifts memories a when-question found. Pure.
 */
export function mentionsTime(text: string | null | undefined): boolean {
  return !!text && TIME_WORDS.test(text.replace(DATE_PREFIX, ''));
}

/**
 * The bonus of each scored memory for the company it keeps: weight × the best relevance among the
 * memories of its session / the best relevance of all (see the top of this file). Memories without a
 * session get none. Pure.
 */
export function sessionSupport(relevance: ReadonlyMap<string, number>, sessionOf: (id: string) => string | undefined, weight: number): Map<string, number> {
  const bonus = new Map<string, number>();
  if (!(weight > 0)) return bonus;
  let best = 0;
  const bestInSession = new Map<string, number>();
  for (const [id, score] of relevance) {
    best = Math.max(best, score);
    const session = sessionOf(id);
    if (session !== undefined) bestInSession.set(session, Math.max(bestInSession.get(session) ?? 0, score));
  }
  if (!(best > 0)) return bonus;
  for (const id of relevance.keys()) {
    const session = sessionOf(id);
    if (session !== undefined) bonus.set(id, (weight * bestInSession.get(session)!) / best);
  }
  return bonus;
}

/** 1 when `record` is a transcript line of someone `cue` names, else 0. */
function attributedTo(record: MemoryRecord, cue: string): number {
  const speaker = attributedSpeaker(textOf(record.content));
  return speaker !== null && cueNames(cue, speaker) ? 1 : 0;
}

/** The match term of every candidate, keyed by id. Temporal-only matches score their fidelity (spec §4.4 step 4). */
export function matchScores(candidates: Candidate[], context: ScoringContext): Map<string, number> {
  const fuse = fuser(candidates, context);
  const scores = new Map<string, number>();
  for (const candidate of candidates) {
    let match = fuse(candidate);
    if (candidate.text === undefined && candidate.vector === undefined && candidate.temporal) match = context.fidelityOf(candidate.record);
    scores.set(candidate.record.id, match);
  }
  return scores;
}

/** The signals the stores found for one memory: raw BM25 (neighbours included) and cosine. */
export interface Signals {
  text?: number;
  vector?: number;
}

/**
 * The match term wText·t + wVector·v (see the top of this file) of any hit among `hits`: BM25 normalised
 * by the best among them, cosine as it is (normalising it too lost 0.01 R@10 on LoCoMo with USE-lite and
 * let the lexical embedder's weak cosines weigh as much as the best text hit). Used to preselect which
 * hits to load and to score the loaded ones. Pure.
 */
export function fuser(hits: Iterable<Signals>, context: Pick<ScoringContext, 'cueHasText' | 'cueHasVector' | 'scoring'>): (hit: Signals) => number {
  const s = context.scoring ?? defaultRecallScoring;
  let bestText = 0;
  for (const hit of hits) bestText = Math.max(bestText, hit.text ?? 0);
  const both = context.cueHasText && context.cueHasVector;
  const textWeight = both ? s.textWeight : context.cueHasText ? 1 : 0;
  const vectorWeight = both ? s.vectorWeight : context.cueHasVector ? 1 : 0;
  return (hit) => textWeight * (bestText > 0 ? Math.max(0, hit.text ?? 0) / bestText : 0) + vectorWeight * Math.max(0, hit.vector ?? 0);
}

/**
 * The `count` hits best by their match term (fuser), ties by id: which hits a recall loads and scores
 * in full. Pure.
 */
export function preselect(hits: ReadonlyMap<string, Signals>, context: Pick<ScoringContext, 'cueHasText' | 'cueHasVector' | 'scoring'>, count: number): [string, Signals][] {
  const fuse = fuser(hits.values(), context);
  return [...hits].sort((a, b) => fuse(b[1]) - fuse(a[1]) || (a[0] < b[0] ? -1 : 1)).slice(0, count);
}

/**
 * How many memories found only by spreading activation, per requested one, a recall loads and scores:
 * the most activated (mostActivated). Similar-memory links of the semantic model reach ~130 memories at
 * depth 2 from three sources; loading them all was most of a recall's time, and a memory scored by
 * activation alone (activationOnly × activation × modulation) below the most activated 2 × limit rarely
 * reaches the top.
 */
export const ACTIVATED_PER_RESULT = 2;

/** The first `count` ids of `activated` (in descending activation) that are not `known`. Pure. */
export function mostActivated(activated: Iterable<string>, known: (id: string) => boolean, count: number): string[] {
  const ids: string[] = [];
  for (const id of activated) {
    if (ids.length >= count) break;
    if (!known(id)) ids.push(id);
  }
  return ids;
}
