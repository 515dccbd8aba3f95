import { describe, it, expect } from 'vitest';
import { classifyStore, looksProcedural, STRONG_EMOTION_INTENSITY } from '../../../src/actors/hippocampus/classify.js';
import { neutralEmotion } from '../../../src/cmp/emotion.js';
import type { EmotionVector } from '../../../src/cmp/types.js';
import { textContent } from '../../helpers/records.js';

const feeling = (intensity: number): EmotionVector => ({ ...neutralEmotion(), fear: intensity, intensity, valence: -0.8 });

describe('classifyStore', () => {
  it('rule 1: a summary means semantic, even an empty one', () => {
    expect(classifyStore(textContent('we met at the cafe', 'cafe meeting'), null)).toBe('semantic');
    expect(classifyStore(textContent('we met at the cafe', ''), null)).toBe('semantic');
  });

  it('rule 1 comes first: a summary wins over numbered steps and strong emotion', () => {
    expect(classifyStore(textContent('1. open the box\n2. lift the lid', 'unboxing'), feeling(1))).toBe('semantic');
  });

  it('rule 2: a text opening with "how to" is procedural', () => {
    expect(classifyStore(textContent('How to reset the router: hold the button'), null)).toBe('procedural');
  });

  it('rule 2: two numbered lines are procedural', () => {
    expect(classifyStore(textContent('Deploy:\n1. build the image\n2) push it'), null)).toBe('procedural');
  });

  it('rule 2: one numbered line alone is not procedural', () => {
    expect(classifyStore(textContent('Notes from today\n1. the meeting ran late'), null)).toBe('episodic');
  });

  it('rule 2 comes before rule 3: steps with strong emotion are procedural', () => {
    expect(classifyStore(textContent('- run\n- hide'), feeling(0.9))).toBe('procedural');
  });

  it('rule 3: emotion intensity at the threshold 0.7 is emotional', () => {
    expect(STRONG_EMOTION_INTENSITY).toBe(0.7);
    expect(classifyStore(textContent('the car skidded on ice'), feeling(0.7))).toBe('emotional');
  });

  it('rule 3: emotion intensity 0.69 is episodic', () => {
    expect(classifyStore(textContent('the car skidded on ice'), feeling(0.69))).toBe('episodic');
  });

  it('rule 4: anything else is episodic', () => {
    expect(classifyStore(textContent('lunch with Sam on Tuesday'), null)).toBe('episodic');
    expect(classifyStore({ blocks: [{ modality: 'image', format: 'image/png', data: 'AAAA' }] }, neutralEmotion())).toBe('episodic');
  });

  it('never chooses working memory', () => {
    const inputs = [textContent('x'), textContent('x', 's'), textContent('how to x')];
    for (const content of inputs) expect(classifyStore(content, feeling(1))).not.toBe('working');
  });
});

describe('looksProcedural', () => {
  it.each([
    'how to bake bread',
    '  How do I rotate the keys?',
    'how do we ship',
    'Steps to reproduce: open the app',
    'Instructions: mix well',
    'Recipe: pancakes',
    '- preheat the oven\n- mix the flour',
    'Step 1: unplug it\nStep 2: wait',
    '* one\r\n* two',
  ])('is true for %j', (text) => {
    expect(looksProcedural(text)).toBe(true);
  });

  it.each([
    "How tomorrow went is anyone's guess",
    'How do icebergs form?',
    'Stepson toured the city',
    'Instructionsless chaos',
    'In 2024. We moved.\n1999. We met.',
    '1.no space after the number\n2.none here either',
    'I asked how to fix it',
  ])('is false for %j', (text) => {
    expect(looksProcedural(text)).toBe(false);
  });
});
