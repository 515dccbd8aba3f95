import { describe, it, expect } from 'vitest';
import { neutralEmotion } from '../../src/cmp/emotion.js';
import { baseSchema, emotionSchema, forgetSchema } from '../../src/cmp/request-schemas.js';
import { parseWith } from '../../src/cmp/zod-issues.js';
import { cmpErrorOf } from './cmp-error.js';

describe('baseSchema', () => {
  it('defaults the space and omits an absent idempotency key', () => {
    expect(parseWith(baseSchema, {})).toEqual({ space: 'default' });
  });

  it('rule: header must be an object when given', () => {
    expect(cmpErrorOf(() => parseWith(baseSchema, { header: 'h' })).field).toBe('header');
  });
});

describe('emotionSchema', () => {
  it('completes a partial vector', () => {
    expect(parseWith(emotionSchema, { anger: 0.3, intensity: 0.3 })).toEqual({ ...neutralEmotion(), anger: 0.3, intensity: 0.3 });
  });

  it('rule: an unknown label keeps the reference text and takes the prefixed field', () => {
    const err = cmpErrorOf(() => parseWith(emotionSchema, 'bored', 'records.1.emotion'));
    expect(err.field).toBe('records.1.emotion');
    expect(err.message.startsWith('Invalid emotion label: bored.')).toBe(true);
  });

  it('rule: a dimension of the wrong type names the dimension', () => {
    expect(cmpErrorOf(() => parseWith(emotionSchema, { valence: true }, 'emotion')).field).toBe('emotion.valence');
  });
});

describe('forgetSchema', () => {
  it('confirm defaults to false', () => {
    expect(parseWith(forgetSchema, {}).confirm).toBe(false);
  });
});
