// The one token estimate of the context adapters. Exact counts need each model's tokenizer (a large
// download per vendor, and DESIGN §2.2 promises no network and no model files), so we estimate:
//   - a CJK character (Han, Hiragana, Katakana, Hangul, CJK punctuation, full-width forms) counts 1 token,
//     because BPE vocabularies split CJK text into about one token per character;
//   - any other UTF-16 code unit counts 1/4 token, the usual ~4 characters per token of English text;
//   - the sum is rounded up.
// The estimate is additive before rounding, so a budget can be filled piece by piece with `tokenUnits`
// and still agree with `estimateTokens` of the joined text.

/** Han, CJK punctuation, Hiragana, Katakana, Hangul syllables and Jamo, full-width forms. */
const CJK = /[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3200-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]/gu;
/** Supplementary-plane Han (CJK extensions B..): a surrogate pair, counted as one character. */
const CJK_SUPPLEMENTARY = /[\u{20000}-\u{3134f}]/gu;

/** Quarter-tokens of `text` (an integer, so sums are exact). */
export function tokenUnits(text: string): number {
  if (text === '') return 0;
  const cjk = text.match(CJK)?.length ?? 0;
  const supplementary = text.match(CJK_SUPPLEMENTARY)?.length ?? 0;
  const other = text.length - cjk - 2 * supplementary;
  return 4 * (cjk + supplementary) + other;
}

/** Estimated tokens of `text`: CJK characters 1 each, other characters 1/4 each, rounded up. */
export function estimateTokens(text: string): number {
  return unitsToTokens(tokenUnits(text));
}

export function unitsToTokens(units: number): number {
  return Math.ceil(units / 4);
}
