import { beforeAll, describe, expect, it } from 'vitest';
import { EXACT, encode, idsOf, recall } from '../../helpers/recall.js';
import { sharedRuntime } from '../../helpers/front-doors.js';
import { textContent } from '../../helpers/server.js';

// A cue that quotes a memory word for word ranks that memory first, even among memories that share
// every one of its words more often (recall.phrase_boost, phraseMatch in store/phrase.ts). BM25 scores a bag
// of terms: short memories repeating the cue's words outscore the one long memory that says the cue
// itself, which is how `npm run bench -- peers` lost exact 4-word phrases to a substring search at
// 10,000 memories. The same memories in a runtime with the boost off show the distractors are real.

const withPhrase = sharedRuntime();
const withoutPhrase = sharedRuntime({ flags: { recall: { phrase_boost: 0 } } });

const space = 'q-phrase';
const CUE = 'spare key under the blue flowerpot';
const TARGET = 'Note for the house sitter on Saturday: the spare key under the blue flowerpot opens the back door.';
const DISTRACTORS = [
  'The spare key and the blue key hang under the shelf by the flowerpot.',
  'Under the flowerpot we keep a spare blue key.',
  'A blue flowerpot for the spare room, the key under the mat.',
  'Key under the mat, the spare one in the blue flowerpot.',
];

describe('phrase: a cue quoting a memory word for word ranks it first', () => {
  const ids = new Map<typeof withPhrase, { target: string }>();

  beforeAll(async () => {
    for (const server of [withPhrase, withoutPhrase]) {
      for (const text of DISTRACTORS) await encode(server, space, textContent(text), { store: 'episodic' });
      ids.set(server, { target: await encode(server, space, textContent(TARGET), { store: 'episodic' }) });
    }
  });

  it('ranks the memory holding the exact phrase first', async () => {
    const body = await recall(withPhrase, space, { cue: { text: CUE }, limit: 5, ...EXACT });
    expect(idsOf(body)[0]).toBe(ids.get(withPhrase)!.target);
    // And with the MCP recall tool's defaults (activation, reconsolidation).
    const tool = await recall(withPhrase, space, { cue: { text: CUE }, limit: 5, reconsolidate: true, activation_depth: 2 });
    expect(idsOf(tool)[0]).toBe(ids.get(withPhrase)!.target);
  });

  it('without the boost (recall.phrase_boost = 0) memories sharing the words outrank it', async () => {
    const body = await recall(withoutPhrase, space, { cue: { text: CUE }, limit: 5, ...EXACT });
    expect(idsOf(body)[0]).not.toBe(ids.get(withoutPhrase)!.target);
  });
});
