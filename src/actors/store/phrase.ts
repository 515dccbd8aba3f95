// Word order of a cue in a memory's text (pure): recall's phrase boost (hippocampus/recall.ts), and the
// store's check of the memories holding every cue word (store-core.ts search), which lets recall load a
// memory that holds the cue word for word however far down BM25 ranks it.

/**
 * How much of `cue` `text` holds word for word: the longest run of the cue's consecutive words found
 * consecutively in the text, scored ((run − 1) / (cue words − 1))², so 1 when the whole cue appears as
 * a phrase and a part of it much less (3 of 4 words: 0.44). Runs shorter than three words count 0
 * unless they are the whole cue: two words side by side happen by chance ("the beach", or two of three
 * shuffled keywords), three rarely. Words are runs of letters and digits, compared lowercased (NFKC),
 * stopwords included: "fixed the login" is not "fixed login". 0 for a cue of fewer than two words.
 * Linear in the text for each start in the cue: cues are short. Pure.
 */
export function phraseMatch(cue: string, text: string | null | undefined): number {
  if (!text) return 0;
  const want = wordsOf(cue);
  if (want.length < 2) return 0;
  const have = wordsOf(text);
  let longest = 1;
  for (let start = 0; start + longest < want.length; start++) {
    for (let at = have.indexOf(want[start]); at >= 0 && start + longest < want.length; at = have.indexOf(want[start], at + 1)) {
      let run = 1;
      while (start + run < want.length && have[at + run] === want[start + run]) run++;
      longest = Math.max(longest, run);
    }
  }
  if (longest < Math.min(MIN_PHRASE_RUN, want.length)) return 0;
  return ((longest - 1) / (want.length - 1)) ** 2;
}
const MIN_PHRASE_RUN = 3;
const PHRASE_WORD = /[\p{L}\p{N}]+/gu;
export function wordsOf(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(PHRASE_WORD) ?? [];
}
