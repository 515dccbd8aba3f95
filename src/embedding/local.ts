// The built-in local embedder, `local-hash-v1` (DESIGN §2.2: embeddings with no API key, no network,
// no model download). It is a signed feature-hashing bag of words: pure JS, deterministic, and built so
// that paraphrases sharing word stems land near each other in cosine space.
//
// Scheme (any change to it changes every stored vector: bump the name, e.g. `local-hash-v2`):
// 1. Normalise: NFKC (full-width letters, ligatures and compatibility forms fold to plain ones), then
//    lowercase.
// 2. Tokens are runs of letters, marks and digits (`[\p{L}\p{N}][\p{L}\p{M}\p{N}]*`). Marks are kept
//    inside a run so that Indic and Thai words (vowel signs are \p{M}) are not shattered. A run is split
//    further where it switches between CJK (Han, kana, Hangul) and other characters, because CJK text
//    has no spaces and "用Python写" is three tokens.
// 3. Word features (every non-CJK token):
//    - unigram of the stem, weight 1. The stem is Porter's (npm `stemmer`, with its y → i step re-applied
//      at the end, see porterStem), applied to words made only of Latin letters, so "deploy",
//      "deploying", "deployed", "deployment" all become "deploi". Words with digits or other scripts
//      are kept as they are.
//    - bigram of consecutive content stems, weight 0.5. It keeps a little word order ("service
//      deploy" vs "deploy service") and rewards shared phrases. Stopwords are skipped before pairing,
//      so "deploy the service" and "deployed services" share the bigram (deploy, servic).
//    - character 3- and 4-grams of the stem framed by boundary marks (^stem$), weight 0.3. They give
//      partial credit where the stemmer stops: "prod"/"product", "configure"/"config", typos, and words
//      of languages Porter does not know. N-grams come from the stem, not the surface word, so shared
//      inflections ("-ing", "-ed$") add no similarity between unrelated words.
//    A small English stopword list is dropped from all three: function words would otherwise make every
//    pair of English sentences look alike. If a text has only stopwords ("to be or not to be") they are
//    used after all, so it does not embed to zeros.
// 4. CJK features (every CJK token): each character, weight 0.5, and each pair of adjacent characters,
//    weight 1. Chinese words are mostly two characters, so bigrams act as words and single characters
//    as the partial credit. A handful of particles (的, の, は, …) give no single-character feature.
// 5. Each feature gets a 32-bit hash: FNV-1a over its UTF-16 code units, started from a per-kind seed
//    (so the unigram "the" and the trigram "the" differ), finished with MurmurHash3's fmix32 so every
//    bit is mixed. Bits 0–30 modulo the dimension pick the bucket; bit 31 picks the sign (the signed
//    hashing trick: collisions cancel on average instead of piling up).
// 6. A feature seen tf times in the text adds weight · (1 + ln tf): repetition counts, sub-linearly.
// 7. The vector is L2-normalised; a text with no features (empty, punctuation only) is all zeros.
//
// Determinism: features are accumulated in text order in a scratch table that is read in insertion
// order, sums run in float64 in that fixed order, and the only library maths are Math.log and
// Math.sqrt, so the same text gives the same bits on every run and machine.

import { stemmer } from 'stemmer';
import { invalidField } from '../cmp/errors.js';
import type { Embedder } from './embedder.js';

/** Name stored beside vectors made by this scheme. */
export const LOCAL_EMBEDDER_NAME = 'local-hash-v1';

export interface LocalEmbedderOptions {
  /** Vector length. Dimensions, default 256, range 1..65536 (configuration allows 16..4096). */
  dimension?: number;
}

export const defaultLocalEmbedderOptions = {
  dimension: 256,
} as const satisfies Required<LocalEmbedderOptions>;

/** Texts embedded between two yields to the event loop in `embed()`; ~40 µs each, so ~10 ms a slice. */
const YIELD_EVERY = 256;

export class LocalEmbedder implements Embedder {
  readonly name = LOCAL_EMBEDDER_NAME;
  readonly dimension: number;

  constructor(options: LocalEmbedderOptions = {}) {
    const { dimension } = { ...defaultLocalEmbedderOptions, ...options };
    checkDimension(dimension);
    this.dimension = dimension;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = new Array(texts.length);
    for (let i = 0; i < texts.length; i++) {
      // A big import must not hold the event loop (MiniSearch addAllAsync habit).
      if (i > 0 && i % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      signal?.throwIfAborted();
      vectors[i] = embedText(texts[i], this.dimension);
    }
    return vectors;
  }
}

// ---- feature weights and hashing ---------------------------------------------------------------

const UNIGRAM_WEIGHT = 1;
const BIGRAM_WEIGHT = 0.5;
const CHAR_NGRAM_WEIGHT = 0.3;
const CJK_CHAR_WEIGHT = 0.5;
const CJK_BIGRAM_WEIGHT = 1;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Per-kind seeds: the FNV offset basis with one distinct byte folded in.
const SEED_UNIGRAM = Math.imul(FNV_OFFSET ^ 0x75, FNV_PRIME); // 'u'
const SEED_NGRAM = Math.imul(FNV_OFFSET ^ 0x63, FNV_PRIME); // 'c'
const SEED_CJK = Math.imul(FNV_OFFSET ^ 0x68, FNV_PRIME); // 'h'
const BIGRAM_SALT = 0x62696772; // 'bigr'
// Boundary marks of the framed stem; control characters never occur inside a token.
const WORD_START = 0x02;
const WORD_END = 0x03;

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

function fnv1a(text: string, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

// ---- stopwords and stems -----------------------------------------------------------------------

// Function words only: pronouns, articles, auxiliaries, prepositions, conjunctions and contraction
// tails ("don't" tokenises to "don" + "t"). "not" and "no" are left out on purpose: negation changes
// meaning.
const STOPWORDS = new Set(
  (
    'a an the and or but if then else so than that this these those there here ' +
    'i me my mine myself we us our ours ourselves you your yours yourself yourselves ' +
    'he him his himself she her hers herself it its itself they them their theirs themselves ' +
    'what which who whom whose when where why how ' +
    'am is are was were be been being have has had having do does did doing ' +
    'will would shall should can could may might must ' +
    'to of in on at by for with from into onto about as up down out over under ' +
    'again further once all any both each few more most other some such only own same too very just ' +
    's t d ll m re ve don doesn didn isn aren wasn weren won wouldn shouldn couldn'
  ).split(' '),
);

// Grammatical particles of Chinese and Japanese that say nothing alone; they still take part in bigrams.
const CJK_STOP_CHARS = new Set(Array.from('的了是在和也就都之与及のはがをにでともへや'));

// Porter (regular expressions) costs ~1.5 µs a word, most of the budget; texts repeat words, so stems
// are cached. Two generations approximate LRU cheaply: when the young one fills, it becomes the old one
// and the old one is dropped; a hit in the old one is copied back. The cache changes speed, never output.
const STEM_CACHE_GENERATION = 10_000;
let youngStems = new Map<string, string>();
let oldStems = new Map<string, string>();

function stemOf(word: string): string {
  let stem = youngStems.get(word);
  if (stem !== undefined) return stem;
  stem = oldStems.get(word) ?? porterStem(word);
  if (youngStems.size >= STEM_CACHE_GENERATION) {
    oldStems = youngStems;
    youngStems = new Map();
  }
  youngStems.set(word, stem);
  return stem;
}

/**
 * Porter's stem with its step 1c (y → i after a vowel-bearing stem) applied once more at the end.
 * Porter runs 1c before it strips suffixes, so "deploy" → "deploi" but "deployment" → "deploy" and
 * "employ" → "emploi" but "employment" → "employ"; re-applying the rule gives one stem to each pair.
 */
function porterStem(word: string): string {
  const stem = stemmer(word);
  const last = stem.length - 1;
  if (last < 2 || stem.charCodeAt(last) !== 0x79) return stem; // 'y'
  for (let i = 0; i < last; i++) {
    const c = stem.charCodeAt(i);
    // a e i o u, or a y that follows a consonant (Porter's vowel y)
    if (c === 0x61 || c === 0x65 || c === 0x69 || c === 0x6f || c === 0x75 || (c === 0x79 && i > 0)) {
      return `${stem.slice(0, last)}i`;
    }
  }
  return stem;
}

/** Stemmed only if every code unit is a lowercase Latin letter (ASCII or Latin-1/Extended-A/B). */
function isLatinWord(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) continue;
    if (c >= 0xdf && c <= 0x24f && c !== 0xf7) continue;
    return false;
  }
  return true;
}

function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK Unified Ideographs
    (cp >= 0x3040 && cp <= 0x30ff) || // Hiragana, Katakana
    (cp >= 0xac00 && cp <= 0xd7af) || // Hangul syllables
    (cp >= 0x3400 && cp <= 0x4dbf) || // Extension A
    (cp >= 0x1100 && cp <= 0x11ff) || // Hangul Jamo
    (cp >= 0x3130 && cp <= 0x318f) || // Hangul compatibility Jamo
    (cp >= 0x31f0 && cp <= 0x31ff) || // Katakana phonetic extensions
    (cp >= 0xf900 && cp <= 0xfaff) || // Compatibility ideographs
    (cp >= 0x20000 && cp <= 0x3134f) || // Extensions B–G
    cp === 0x3005 // 々, the ideographic iteration mark
  );
}

// ---- the scratch feature table -----------------------------------------------------------------
// One per module, reused by every call (embedText is synchronous, so calls never interleave). Features
// are keyed by their full 32-bit hash and get slots in insertion order; the vector is summed over the
// slots in that order. The lookup is an open-addressing table (linear probing) whose entries count as
// empty unless stamped with the current call's generation, so nothing is cleared between calls. A Map
// did the same job at twice the cost of the whole rest of the scheme.

const INITIAL_SLOTS = 256;
/** A huge text grows the scratch; past this many slots it is given back after the call. */
const RETAINED_SLOTS = 65_536;

let slotHash = new Int32Array(INITIAL_SLOTS);
let slotCount = new Float64Array(INITIAL_SLOTS);
let slotWeight = new Float64Array(INITIAL_SLOTS);
let slots = 0;

let tableMask = INITIAL_SLOTS * 2 - 1; // size - 1, size a power of two, kept above twice the slot count
let tableKey = new Int32Array(tableMask + 1);
let tableSlot = new Int32Array(tableMask + 1);
let tableStamp = new Uint32Array(tableMask + 1);
let generation = 1;

function addFeature(hash: number, weight: number): void {
  let i = hash & tableMask;
  while (tableStamp[i] === generation) {
    if (tableKey[i] === hash) {
      slotCount[tableSlot[i]] += 1;
      return;
    }
    i = (i + 1) & tableMask;
  }
  tableStamp[i] = generation;
  tableKey[i] = hash;
  tableSlot[i] = slots;
  if (slots === slotHash.length) growSlots();
  slotHash[slots] = hash;
  slotCount[slots] = 1;
  slotWeight[slots] = weight;
  slots++;
  if (slots * 2 > tableMask) growTable();
}

function growSlots(): void {
  const size = slotHash.length * 2;
  const hash = new Int32Array(size);
  const count = new Float64Array(size);
  const weight = new Float64Array(size);
  hash.set(slotHash);
  count.set(slotCount);
  weight.set(slotWeight);
  slotHash = hash;
  slotCount = count;
  slotWeight = weight;
}

function growTable(): void {
  const size = (tableMask + 1) * 2;
  tableMask = size - 1;
  tableKey = new Int32Array(size);
  tableSlot = new Int32Array(size);
  tableStamp = new Uint32Array(size);
  generation = 1;
  for (let s = 0; s < slots; s++) {
    let i = slotHash[s] & tableMask;
    while (tableStamp[i] === generation) i = (i + 1) & tableMask;
    tableStamp[i] = generation;
    tableKey[i] = slotHash[s];
    tableSlot[i] = s;
  }
}

function resetSlots(): void {
  slots = 0;
  if (slotHash.length > RETAINED_SLOTS) {
    slotHash = new Int32Array(INITIAL_SLOTS);
    slotCount = new Float64Array(INITIAL_SLOTS);
    slotWeight = new Float64Array(INITIAL_SLOTS);
    tableMask = INITIAL_SLOTS * 2 - 1;
    tableKey = new Int32Array(tableMask + 1);
    tableSlot = new Int32Array(tableMask + 1);
    tableStamp = new Uint32Array(tableMask + 1);
    generation = 1;
    return;
  }
  if (generation === 0xffffffff) {
    tableStamp.fill(0);
    generation = 0;
  }
  generation++;
}

// ---- feature extraction ------------------------------------------------------------------------

const TOKEN = /[\p{L}\p{N}][\p{L}\p{M}\p{N}]*/gu;

/** The previous content word's unigram hash, for bigrams; forgotten at a text's start and at CJK runs. */
let previousWordHash = 0;
let hasPreviousWord = false;

function addWordFeatures(word: string, keepStopwords: boolean): boolean {
  if (!keepStopwords && STOPWORDS.has(word)) return false;
  const stem = isLatinWord(word) ? stemOf(word) : word;
  const wordHash = fnv1a(stem, 0, stem.length, SEED_UNIGRAM);
  addFeature(fmix32(wordHash), UNIGRAM_WEIGHT);
  if (hasPreviousWord) {
    // Order matters: only the first word's hash is multiplied.
    addFeature(fmix32(Math.imul(previousWordHash, 0x9e3779b1) ^ wordHash ^ BIGRAM_SALT), BIGRAM_WEIGHT);
  }
  previousWordHash = wordHash;
  hasPreviousWord = true;
  // Character 3- and 4-grams of ^stem$, hashed incrementally: one pass per start position.
  const framed = stem.length + 2;
  for (let start = 0; start + 3 <= framed; start++) {
    let h = SEED_NGRAM;
    for (let i = start; i < start + 3; i++) h = Math.imul(h ^ framedUnit(stem, i), FNV_PRIME);
    addFeature(fmix32(h), CHAR_NGRAM_WEIGHT);
    if (start + 4 <= framed) {
      h = Math.imul(h ^ framedUnit(stem, start + 3), FNV_PRIME);
      addFeature(fmix32(h), CHAR_NGRAM_WEIGHT);
    }
  }
  return true;
}

function framedUnit(stem: string, i: number): number {
  if (i === 0) return WORD_START;
  if (i > stem.length) return WORD_END;
  return stem.charCodeAt(i - 1);
}

function addCjkFeatures(text: string, start: number, end: number): void {
  hasPreviousWord = false;
  let previousChar = -1;
  for (let i = start; i < end; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (!CJK_STOP_CHARS.has(text.slice(i, i + width))) {
      addFeature(fmix32(fnv1a(text, i, i + width, SEED_CJK)), CJK_CHAR_WEIGHT);
    }
    if (previousChar >= 0) addFeature(fmix32(fnv1a(text, previousChar, i + width, SEED_CJK)), CJK_BIGRAM_WEIGHT);
    previousChar = i;
    i += width;
  }
}

/** Splits a token into CJK and non-CJK runs; returns whether a word feature was added. */
function addMixedToken(token: string, keepStopwords: boolean): boolean {
  let added = false;
  let runStart = 0;
  let runIsCjk = false;
  for (let i = 0; i <= token.length; ) {
    const cp = i < token.length ? token.codePointAt(i)! : -1;
    const cjk = cp >= 0 && isCjk(cp);
    if (i === token.length || (i > runStart && cjk !== runIsCjk)) {
      if (i > runStart) {
        if (runIsCjk) {
          addCjkFeatures(token, runStart, i);
          added = true;
        } else if (addWordFeatures(token.slice(runStart, i), keepStopwords)) {
          added = true;
        }
      }
      runStart = i;
    }
    if (i === token.length) break;
    runIsCjk = cjk;
    i += cp > 0xffff ? 2 : 1;
  }
  return added;
}

/** Fills the scratch table; returns how many tokens were skipped as stopwords. */
function extractFeatures(text: string, keepStopwords: boolean): number {
  resetSlots();
  hasPreviousWord = false;
  let stopwords = 0;
  TOKEN.lastIndex = 0;
  for (let match = TOKEN.exec(text); match !== null; match = TOKEN.exec(text)) {
    const token = match[0];
    let plain = true;
    for (let i = 0; i < token.length; i++) {
      if (token.charCodeAt(i) >= 0x1100) {
        plain = false;
        break;
      }
    }
    const added = plain ? addWordFeatures(token, keepStopwords) : addMixedToken(token, keepStopwords);
    if (!added) stopwords++;
  }
  return stopwords;
}

// ---- the vector --------------------------------------------------------------------------------

let accumulator = new Float64Array(defaultLocalEmbedderOptions.dimension);

/**
 * Embeds one text with the `local-hash-v1` scheme (file header), synchronously: the hot path for
 * encode and recall. Returns a unit-length vector of `dimension` floats, or all zeros for a text with
 * no letters or digits.
 */
export function embedText(text: string, dimension: number): Float32Array {
  checkDimension(dimension);
  const normalised = text.normalize('NFKC').toLowerCase();
  const skipped = extractFeatures(normalised, false);
  if (slots === 0 && skipped > 0) extractFeatures(normalised, true);

  if (accumulator.length < dimension) accumulator = new Float64Array(dimension);
  const sums = accumulator;
  sums.fill(0, 0, dimension);
  for (let s = 0; s < slots; s++) {
    const hash = slotHash[s];
    const value = slotWeight[s] * (1 + Math.log(slotCount[s]));
    const bucket = (hash & 0x7fffffff) % dimension;
    sums[bucket] += hash < 0 ? -value : value;
  }
  resetSlots();

  let squares = 0;
  for (let i = 0; i < dimension; i++) squares += sums[i] * sums[i];
  const vector = new Float32Array(dimension);
  if (squares === 0) return vector;
  const scale = 1 / Math.sqrt(squares);
  for (let i = 0; i < dimension; i++) vector[i] = sums[i] * scale;
  return vector;
}

function checkDimension(dimension: number): void {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 65_536) {
    throw invalidField('embedding.dimension', `expected an integer from 1 to 65536, got ${String(dimension)}`);
  }
}
