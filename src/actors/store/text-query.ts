import { tokenize } from './tokenize.js';

// The query language of text-index.ts searches (see TextIndex.search): words are alternatives, a
// quoted phrase must match whole, `-word` / `-"phrase"` exclude.

/** A query as groups of terms: a group matches a document holding all of its terms. */
export interface ParsedQuery {
  /** Alternatives: a document must match at least one. */
  should: string[][];
  /** Exclusions: a document matching any of them is dropped. */
  mustNot: string[][];
}

// `-"phrase"`, `"phrase"` (an unclosed quote runs to the end), or any other run of non-spaces.
const CLAUSE = /(-?)"([^"]*)(?:"|$)|(\S+)/g;

export function parseQuery(query: string): ParsedQuery {
  const should: string[][] = [];
  const mustNot: string[][] = [];
  const seen = new Set<string>();
  for (const [, negated, phrase, bare] of query.matchAll(CLAUSE)) {
    if (phrase !== undefined) {
      const terms = [...new Set(tokenize(phrase))];
      if (terms.length > 0) (negated === '-' ? mustNot : should).push(terms);
    } else if (bare.startsWith('-')) {
      // One word may yield several terms ("-e-mail", a CJK run): exclude only documents with all of them.
      const terms = [...new Set(tokenize(bare.slice(1)))];
      if (terms.length > 0) mustNot.push(terms);
    } else {
      for (const term of tokenize(bare)) {
        if (seen.has(term)) continue;
        seen.add(term);
        should.push([term]);
      }
    }
  }
  return { should, mustNot };
}
