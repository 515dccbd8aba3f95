import { stemmer } from 'stemmer';

// The one analyser of the full-text index (reference spec §5.1), run on documents and queries alike so
// that both sides always produce the same terms. Differs from the reference (Tantivy "default") on
// purpose in three ways: Latin-script words are Porter-stemmed ("deploying" finds "deployed"), a short
// stopword list is dropped, and CJK text becomes single characters plus character bigrams — the
// reference kept a whole CJK run as one token, so "東京" never matched inside "東京タワー".
//
// Any change to what this file emits changes the terms stored in persisted index snapshots: bump
// TOKENIZER_VERSION so that old snapshots are refused and rebuilt instead of silently missing hits.

/** Version of the term stream; recorded in every text-index snapshot (see text-index.ts). */
export const TOKENIZER_VERSION = 1;

/**
 * Longest word kept, in code points. Longer runs are ids, hashes or base64 noise, not words
 * (the reference drops tokens over 40 bytes). CJK runs are never dropped: they are split first.
 */
export const MAX_TOKEN_LENGTH = 40;

/**
 * Dropped after lowercasing, before stemming. Deliberately tiny: BM25's IDF already makes common words
 * nearly worthless, so this list only saves postings on the most frequent English function words. Words
 * that carry meaning in a memory ("not", "no", "what", "who") are kept.
 */
export const STOPWORDS: ReadonlySet<string> = new Set(['the', 'a', 'an', 'of', 'to', 'in', 'and', 'or', 'is', 'are', 'was', 'were', 'be', 'on', 'at', 'for', 'with', 'it', 'this', 'that']);

// A word starts with a letter or digit and continues with letters, digits or combining marks (\p{M}),
// so scripts whose vowel signs are marks (Devanagari, Tamil…) and decomposed accents stay whole.
const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}]*/gu;
// Han, Hiragana, Katakana, Hangul letters or digits. Script_Extensions so that "ー" (U+30FC, script
// Common) stays inside a katakana run; the lookahead excludes the shared punctuation "、" "。".
const CJK_CHAR = String.raw`(?=[\p{L}\p{N}])[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]`;
const HAS_CJK = new RegExp(CJK_CHAR, 'u');
// Every CJK letter is above U+10FF; this plain test spares most texts the costly script lookups.
const ABOVE_U10FF = /[^\u0000-\u10ff]/;
const CJK_OR_OTHER = new RegExp(`(${CJK_CHAR})+|(?:(?!${CJK_CHAR}).)+`, 'gu');
const LATIN_WORD = /^[\p{scx=Latin}\p{N}\p{M}]+$/u;

// Stemming is the costly step and a corpus has a few thousand distinct words; remember them. Bounded so
// a stream of unique tokens (ids, typos) cannot grow it without limit.
const STEM_CACHE_LIMIT = 50_000;
const stemCache = new Map<string, string>();

/** The Porter stem of a lowercased Latin-script word; other words are returned unchanged. */
export function stem(word: string): string {
  const cached = stemCache.get(word);
  if (cached !== undefined) return cached;
  const stemmed = LATIN_WORD.test(word) ? stemmer(word) : word;
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear();
  stemCache.set(word, stemmed);
  return stemmed;
}

/**
 * The index terms of `text`, in order, with repeats (term frequency matters to BM25): NFKC, lowercase,
 * words of letters/digits, CJK runs as characters and bigrams, long words and stopwords dropped,
 * Latin-script words stemmed.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const normal = text.normalize('NFKC').toLowerCase();
  const words = normal.match(WORD);
  if (words === null) return tokens;
  const mayHaveCjk = ABOVE_U10FF.test(normal);
  for (const word of words) {
    if (mayHaveCjk && HAS_CJK.test(word)) addMixed(word, tokens);
    else addWord(word, tokens);
  }
  return tokens;
}

function addWord(word: string, tokens: string[]): void {
  if (word.length > MAX_TOKEN_LENGTH && codePoints(word) > MAX_TOKEN_LENGTH) return;
  if (STOPWORDS.has(word)) return;
  tokens.push(stem(word));
}

// A word that holds CJK characters, possibly glued to other letters ("api呼び出し").
function addMixed(word: string, tokens: string[]): void {
  for (const [part, cjkChar] of word.matchAll(CJK_OR_OTHER)) {
    if (cjkChar !== undefined) addCjkRun(part, tokens);
    // Re-matched so that a stray combining mark after a CJK character does not become a token.
    else for (const other of part.match(WORD) ?? []) addWord(other, tokens);
  }
}

// Every character, and every pair of neighbours: one-character words ("人") and two-character
// compounds ("東京") both match without a dictionary, the usual CJK bigram analysis.
function addCjkRun(run: string, tokens: string[]): void {
  const chars = Array.from(run);
  for (let i = 0; i < chars.length; i++) {
    tokens.push(chars[i]);
    if (i + 1 < chars.length) tokens.push(chars[i] + chars[i + 1]);
  }
}

function codePoints(word: string): number {
  let count = 0;
  for (const _ of word) count++;
  return count;
}
