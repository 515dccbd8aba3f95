// One seeded, fixed corpus for every benchmark (STYLE §6.6): sentences of an agent's working life,
// generated from word lists with a small PRNG, so every run and every machine sees the same text.

const SUBJECTS = ['the user', 'the assistant', 'Alice', 'Bob', 'the build server', 'the deploy job', 'our team', 'the customer', 'the model', 'the database'];
const VERBS = ['asked about', 'fixed', 'deployed', 'reviewed', 'forgot', 'remembered', 'configured', 'measured', 'rejected', 'explained'];
const OBJECTS = ['the login page', 'a memory leak', 'the invoice export', 'the staging cluster', 'an API key rotation', 'the search index', 'the onboarding flow', 'a flaky test', 'the billing report', 'the cache layer'];
const DETAILS = ['before lunch', 'after the standup', 'on Friday evening', 'during the incident', 'while pairing', 'in the retro', 'for the third time', 'with a workaround', 'ahead of the release', 'without telling anyone'];

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
