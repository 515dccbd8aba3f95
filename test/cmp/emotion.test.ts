import { describe, it, expect } from 'vitest';
import { completeEmotion, dominantEmotion, neutralEmotion, parseEmotionLabel } from '../../src/cmp/emotion.js';
import { cmpErrorOf } from './cmp-error.js';

const LABEL_ERROR_TAIL = '. Use one of: joy, trust, fear, surprise, sadness, disgust, anger, anticipation';

describe('neutralEmotion', () => {
  it('is all ten dimensions at zero', () => {
    expect(neutralEmotion()).toEqual({
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
    });
  });
});

describe('completeEmotion', () => {
  it('fills missing dimensions with 0 and keeps given ones', () => {
    expect(completeEmotion({ joy: 0.8, intensity: 0.8, valence: 0.9 })).toEqual({
      ...neutralEmotion(),
      joy: 0.8,
      intensity: 0.8,
      valence: 0.9,
    });
  });

  it('keeps out-of-range values: emotion is not validated (§1.3 rule 8)', () => {
    expect(completeEmotion({ anger: 7, valence: -3 })).toMatchObject({ anger: 7, valence: -3 });
  });
});

describe('parseEmotionLabel', () => {
  it.each([
    ['joy', 'joy', 1.0],
    ['happy', 'joy', 1.0],
    ['happiness', 'joy', 1.0],
    ['trust', 'trust', 0.7],
    ['fear', 'fear', -0.8],
    ['surprise', 'surprise', 0.0],
    ['sadness', 'sadness', -1.0],
    ['sad', 'sadness', -1.0],
    ['disgust', 'disgust', -0.9],
    ['anger', 'anger', -0.9],
    ['angry', 'anger', -0.9],
    ['anticipation', 'anticipation', 0.4],
    ['anticipatory', 'anticipation', 0.4],
  ] as const)('%s sets %s to 1 with intensity 1 and valence %d', (label, dimension, valence) => {
    expect(parseEmotionLabel(label)).toEqual({ ...neutralEmotion(), [dimension]: 1, intensity: 1, valence });
  });

  it('trims and ignores case', () => {
    expect(parseEmotionLabel('  HaPpY \n')).toEqual(parseEmotionLabel('joy'));
  });

  it('rejects an unknown label with the reference text, naming the trimmed label', () => {
    const err = cmpErrorOf(() => parseEmotionLabel(' bored '));
    expect(err.code).toBe('VALIDATION_ERROR');
    expect(err.field).toBe('emotion');
    expect(err.message).toBe(`Invalid emotion label: bored${LABEL_ERROR_TAIL}`);
  });

  it('does not accept inherited object keys as labels', () => {
    expect(cmpErrorOf(() => parseEmotionLabel('constructor')).code).toBe('VALIDATION_ERROR');
  });
});

describe('dominantEmotion', () => {
  it('is null when intensity is 0, whatever the dimensions', () => {
    expect(dominantEmotion({ ...neutralEmotion(), fear: 1 })).toBeNull();
  });

  it('names the largest dimension', () => {
    expect(dominantEmotion({ ...neutralEmotion(), trust: 0.3, anger: 0.6, intensity: 0.5 })).toBe('anger');
  });

  it('breaks ties in favour of the last dimension in order', () => {
    expect(dominantEmotion({ ...neutralEmotion(), joy: 0.5, sadness: 0.5, intensity: 1 })).toBe('sadness');
  });

  it('names the last dimension when all are zero but intensity is not', () => {
    expect(dominantEmotion({ ...neutralEmotion(), intensity: 0.2 })).toBe('anticipation');
  });

  it('round-trips every label to its dimension', () => {
    expect(dominantEmotion(parseEmotionLabel('angry'))).toBe('anger');
  });
});
