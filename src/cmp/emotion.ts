// Emotion vectors (reference spec §1.6): construction, the canonical label parser used by MCP and the
// CLI, and the reverse mapping to a label. Emotion values are deliberately not range-checked (§1.3 rule 8).
import { CmpError } from './errors.js';
import { EMOTION_DIMENSIONS, type EmotionDimension, type EmotionVector } from './types.js';

export function neutralEmotion(): EmotionVector {
  return {
    joy: 0,
    trust: 0,
    fear: 0,
    surprise: 0,
    sadness: 0,
    disgust: 0,
    anger: 0,
    anticipation: 0,
    intensity: 0,
    valence: 0,
  };
}

/** A partial vector made whole: dimensions the caller left out are 0 (§1.6 "partial objects"). */
export function completeEmotion(partial: Partial<EmotionVector>): EmotionVector {
  const vector = neutralEmotion();
  for (const key of Object.keys(vector) as (keyof EmotionVector)[]) {
    const value = partial[key];
    if (typeof value === 'number') vector[key] = value;
  }
  return vector;
}

/** Label (and alias) → the Plutchik dimension it sets and the valence it implies (§1.6 table). */
const LABELS: Readonly<Record<string, { dimension: EmotionDimension; valence: number }>> = {
  joy: { dimension: 'joy', valence: 1.0 },
  happy: { dimension: 'joy', valence: 1.0 },
  happiness: { dimension: 'joy', valence: 1.0 },
  trust: { dimension: 'trust', valence: 0.7 },
  fear: { dimension: 'fear', valence: -0.8 },
  surprise: { dimension: 'surprise', valence: 0.0 },
  sadness: { dimension: 'sadness', valence: -1.0 },
  sad: { dimension: 'sadness', valence: -1.0 },
  disgust: { dimension: 'disgust', valence: -0.9 },
  anger: { dimension: 'anger', valence: -0.9 },
  angry: { dimension: 'anger', valence: -0.9 },
  anticipation: { dimension: 'anticipation', valence: 0.4 },
  anticipatory: { dimension: 'anticipation', valence: 0.4 },
};

/**
 * Trimmed, case-insensitive label → a vector with that dimension, intensity 1 and the label's valence.
 * The message names the trimmed input, as the reference does.
 */
export function parseEmotionLabel(label: string): EmotionVector {
  const trimmed = label.trim();
  const entry = Object.hasOwn(LABELS, trimmed.toLowerCase()) ? LABELS[trimmed.toLowerCase()] : undefined;
  if (entry === undefined) {
    throw new CmpError('VALIDATION_ERROR', `Invalid emotion label: ${trimmed}. Use one of: ${EMOTION_DIMENSIONS.join(', ')}`, { field: 'emotion' });
  }
  const vector = neutralEmotion();
  vector[entry.dimension] = 1;
  vector.intensity = 1;
  vector.valence = entry.valence;
  return vector;
}

/** The label shown for a vector: null when intensity is 0; on ties the last dimension in order wins. */
export function dominantEmotion(vector: EmotionVector): EmotionDimension | null {
  if (vector.intensity === 0) return null;
  let best: EmotionDimension = EMOTION_DIMENSIONS[0];
  for (const dimension of EMOTION_DIMENSIONS) {
    if (vector[dimension] >= vector[best]) best = dimension;
  }
  return best;
}
