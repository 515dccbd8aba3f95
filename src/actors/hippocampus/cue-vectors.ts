import type { Embedder } from '../../embedding/embedder.js';
import { firstPersonCue, type RecallScoring } from './recall.js';

/**
 * The query vectors of a recall cue: the embedder's vector of its text, in the first person (recall.ts
 * firstPersonCue), and the caller's own embedding; and the cosine floor of vector hits. A cue embedded
 * by the model's static query table (static-query.ts) has cosines that run lower: its own floor.
 */
export async function cueVectors(
  embedder: Embedder,
  cue: { text: string | null; embedding: number[] | null },
  scoring: Pick<RecallScoring, 'minVectorSimilarity' | 'minStaticVectorSimilarity'>,
): Promise<{ vectors: number[][]; minSimilarity: number }> {
  const vectors: number[][] = [];
  let minSimilarity = scoring.minVectorSimilarity;
  if (cue.text !== null) {
    const text = firstPersonCue(cue.text);
    const embedded = embedder.embedQuery ? await embedder.embedQuery(text) : { vector: (await embedder.embed([text]))[0], static: false };
    if (embedded.vector.some((value) => value !== 0)) {
      vectors.push(Array.from(embedded.vector));
      if (embedded.static) minSimilarity = scoring.minStaticVectorSimilarity;
    }
  }
  if (cue.embedding !== null) vectors.push(cue.embedding);
  return { vectors, minSimilarity };
}
