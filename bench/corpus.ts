// One seeded, fixed corpus for every benchmark (STYLE §6.6): sentences of an agent's working life,
// generated from word lists with a small PRNG, so every run and every machine sees the same text.

const SUBJECTS = ['the user', 'the assistant', 'Alice', 'Bob', 'the build server', 'the deploy job', 'our team', 'the customer', 'the model', 'the database'];
const VERBS = ['asked about', 'fixed', 'deployed', 'reviewed', 'forgot', 'remembered', 'configured', 'measured', 'rejected', 'explained'];
const OBJECTS = [
  'the login page',
  'a memory leak',
  'the invoice export',
  'the staging cluster',
  'an API key rotation',
  'the search index',
  'the onboarding flow',
  'a flaky test',
  'the billing report',
  'the cache layer',
];
const DETAILS = [
  'before lunch',
  'after the standup',
  'on Friday evening',
  'during the incident',
  'while pairing',
  'in the retro',
  'for the third time',
  'with a workaround',
  'ahead of the release',
  'without telling anyone',
];

/** Mulberry32: tiny, fast, good enough for reproducible test data. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sentences(count: number, seed = 42): string[] {
  const random = prng(seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  return Array.from({ length: count }, (_, index) => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(DETAILS)} (note ${index}).`);
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ren', 'sa', 'to', 'vel', 'an', 'dor', 'is', 'pe', 'qua', 'ri', 'ste', 'un', 'bo', 'che', 'fa', 'gil', 'ho'];

/** A vocabulary of `size` distinct pseudo-words built from syllables (deterministic). */
export function vocabulary(size = 5000, seed = 17): string[] {
  const random = prng(seed);
  const words = new Set<string>();
  while (words.size < size) {
    const syllables = 1 + Math.floor(random() * 3) + (random() < 0.3 ? 1 : 0);
    let word = '';
    for (let index = 0; index < syllables; index++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

/** Draws ranks from a Zipf distribution (exponent ~1.07, as in natural text) over `size` items. */
export function zipf(size: number, random: () => number, exponent = 1.07): () => number {
  const cumulative = new Float64Array(size);
  let total = 0;
  for (let rank = 0; rank < size; rank++) cumulative[rank] = total += 1 / (rank + 1) ** exponent;
  return () => {
    const target = random() * total;
    let lo = 0;
    let hi = size - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * Sentences of 8–18 words drawn with Zipf frequencies from a 5,000-word vocabulary: the statistics of
 * natural text (a few very common words, a long tail of rare ones), which decide how many documents a
 * query term touches. Used where index and recall speed are measured.
 */
export function zipfSentences(count: number, seed = 42): string[] {
  const words = vocabulary();
  const random = prng(seed);
  const rank = zipf(words.length, random);
  return Array.from({ length: count }, () => {
    const length = 8 + Math.floor(random() * 11);
    return Array.from({ length }, () => words[rank()]).join(' ') + '.';
  });
}

/** Queries of 2–3 words with the corpus's own frequencies, skipping the 50 most common words. */
export function zipfQueries(count: number, seed = 99): string[] {
  const words = vocabulary();
  const random = prng(seed);
  const rank = zipf(words.length, random);
  const pick = () => {
    for (;;) {
      const r = rank();
      if (r >= 50) return words[r];
    }
  };
  return Array.from({ length: count }, (_, index) => Array.from({ length: 2 + (index % 2) }, pick).join(' '));
}
