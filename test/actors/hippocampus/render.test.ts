import { describe, it, expect } from 'vitest';
import { defaultRenderOptions, dropShare, fnv1a, GAP, renderHuman } from '../../../src/actors/hippocampus/render.js';
import { textBlock, textOf } from '../../../src/cmp/content.js';
import type { ContentBlock, MemoryContent } from '../../../src/cmp/types.js';
import { recordId, textContent } from '../../helpers/records.js';

const SENTENCE =
  'we walked along the harbour at dusk and talked about the old lighthouse that my grandfather kept ' +
  'for thirty years before the storm of nineteen fifty two took the lamp and the keeper house with it';
const WORDS = SENTENCE.split(' ');

const words = (content: MemoryContent) => textOf(content)!.split(/\s+/);
const gaps = (content: MemoryContent) => words(content).filter((w) => w === GAP).length;

describe('dropShare', () => {
  it('is 0 from 0.95 up, (1 − F)(1 + noise) below, capped at 0.8', () => {
    expect(defaultRenderOptions).toEqual({ pristineAbove: 0.95, maxDropShare: 0.8, noiseGain: 1 });
    expect(dropShare(0.95, 1)).toBe(0);
    expect(dropShare(0.85, 0)).toBeCloseTo(0.15, 12);
    expect(dropShare(0.7, 0.5)).toBeCloseTo(0.45, 12);
    expect(dropShare(0.1, 0)).toBe(0.8);
    expect(dropShare(Number.NaN, 0)).toBe(0.8);
  });
});

describe('renderHuman', () => {
  it('returns the content unchanged at fidelity 0.95 and above', () => {
    const content = textContent(SENTENCE, 'a walk');
    expect(renderHuman(content, 0.95, 0.9, recordId(1))).toBe(content);
    expect(renderHuman(content, 1, 0, recordId(1))).toEqual(textContent(SENTENCE, 'a walk'));
  });

  it('puts gaps into a faded memory (fidelity 0.3) and keeps some words', () => {
    const rendered = renderHuman(textContent(SENTENCE), 0.3, 0.2, recordId(1));
    expect(textOf(rendered)).toContain(GAP);
    const kept = words(rendered).filter((w) => w !== GAP);
    expect(kept.length).toBeGreaterThan(0);
    expect(words(rendered)).toHaveLength(WORDS.length);
    words(rendered).forEach((w, i) => expect([GAP, WORDS[i]]).toContain(w));
  });

  it('renders the same record the same way every time', () => {
    const a = renderHuman(textContent(SENTENCE), 0.6, 0.3, recordId(7));
    const b = renderHuman(textContent(SENTENCE), 0.6, 0.3, recordId(7));
    expect(a).toEqual(b);
  });

  it('degrades different records differently, and does not always drop the first word', () => {
    const renders = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => textOf(renderHuman(textContent(SENTENCE), 0.6, 0.3, recordId(n))));
    expect(new Set(renders).size).toBeGreaterThan(1);
    expect(renders.some((text) => !text!.startsWith(GAP))).toBe(true);
  });

  it('degrades more at lower fidelity and at higher noise, dropping a superset of words', () => {
    const id = recordId(3);
    const levels = [0.9, 0.7, 0.5, 0.3].map((f) => renderHuman(textContent(SENTENCE), f, 0.2, id));
    for (let i = 1; i < levels.length; i++) {
      expect(gaps(levels[i])).toBeGreaterThanOrEqual(gaps(levels[i - 1]));
      words(levels[i - 1]).forEach((w, j) => {
        if (w === GAP) expect(words(levels[i])[j]).toBe(GAP);
      });
    }
    expect(gaps(levels[3])).toBeGreaterThan(gaps(levels[0]));
    expect(gaps(renderHuman(textContent(SENTENCE), 0.7, 1, id))).toBeGreaterThanOrEqual(gaps(renderHuman(textContent(SENTENCE), 0.7, 0, id)));
  });

  it('drops roughly the expected share of words', () => {
    let dropped = 0;
    let total = 0;
    for (let n = 0; n < 40; n++) {
      const rendered = renderHuman(textContent(SENTENCE), 0.6, 0, recordId(n));
      dropped += gaps(rendered);
      total += WORDS.length;
    }
    expect(dropped / total).toBeGreaterThan(0.3);
    expect(dropped / total).toBeLessThan(0.5);
  });

  it('keeps whitespace, the summary, non-text blocks and the data encoding', () => {
    const image: ContentBlock = { modality: 'image', format: 'image/png', data: 'iVBORw0KGgo=', embedding: [0.1, 0.2] };
    const structured: ContentBlock = { modality: 'structured', format: 'application/json', data: Buffer.from('{"a":"b c d"}').toString('base64') };
    const text = { ...textBlock('line one here\nline  two\there'), embedding: [1, 2, 3] };
    const content: MemoryContent = { blocks: [image, text, structured], summary: 'the summary stays' };
    const rendered = renderHuman(content, 0.2, 0.5, recordId(2));
    expect(rendered.summary).toBe('the summary stays');
    expect(rendered.blocks[0]).toBe(image);
    expect(rendered.blocks[2]).toBe(structured);
    expect(rendered.blocks[1].format).toBe('text/plain');
    expect(rendered.blocks[1].embedding).toEqual([1, 2, 3]);
    const decoded = Buffer.from(rendered.blocks[1].data, 'base64').toString('utf8');
    expect(decoded.split(/\S+/)).toEqual('line one here\nline  two\there'.split(/\S+/));
    expect(content.blocks[1]).toBe(text);
  });

  it('handles multi-byte UTF-8 and leaves invalid UTF-8 alone', () => {
    const rendered = renderHuman(textContent('café naïve 東京 über straße résumé'), 0.2, 1, recordId(4));
    const out = textOf(rendered)!;
    for (const w of out.split(' ')) expect([GAP, 'café', 'naïve', '東京', 'über', 'straße', 'résumé']).toContain(w);
    const broken: ContentBlock = { modality: 'text', format: 'text/plain', data: Buffer.from([0xff, 0xfe, 0x41]).toString('base64') };
    expect(renderHuman({ blocks: [broken] }, 0.2, 1, recordId(4)).blocks[0]).toBe(broken);
  });

  it('seeds from the record id with FNV-1a', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
  });
});
