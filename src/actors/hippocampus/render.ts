import { textOf, truncateUtf8 } from '../../cmp/content.js';
import type { ContentBlock, MemoryContent, MemoryRecord } from '../../cmp/types.js';

// Human-mode rendering (reference spec §4.9 as the base, §3.23; DESIGN §2.1: noise feeds rendering).
// A faded memory comes back with gaps: words of its text blocks are replaced by "...".
//
//   fidelity ≥ 0.95            → the content as stored
//   otherwise, per text block  → each word is dropped with probability
//                                p = min(maxDropShare, (1 − fidelity) · (1 + noiseGain · noise))
//
// (1 − fidelity) is the reference's own drop share (score 0.85 → 1 word in 6, 0.7 → 1 in 3); noise
// makes it worse, up to twice as many gaps for a fully noisy memory; at most 80 % of the words go, as
// in the reference, so a faded memory stays a memory. Whether a word is dropped is decided by a hash
// of (record id, block, word index) compared with p, so:
// - the same record renders the same way every time (stable across recalls and processes), and two
//   records at the same fidelity lose different words (the reference always dropped words 0, k, 2k…);
// - at lower fidelity or higher noise the dropped words are a superset of those dropped before: a
//   memory fades, it does not reshuffle.
// Whitespace between words is kept as stored. The summary, non-text blocks, embeddings and formats are
// untouched; text that is not valid UTF-8 is left alone. Perfect mode is the caller's business: it
// returns the stored content byte for byte and never calls this.

export interface RenderOptions {
  /** At or above this fidelity the content is returned unchanged. Fraction, default 0.95 (spec §4.9). */
  pristineAbove: number;
  /** Largest share of words replaced. Fraction, default 0.8 (spec §4.9's cap). */
  maxDropShare: number;
  /** How much noise adds to the drop share: ×(1 + gain·noise). Unitless, default 1, range ≥ 0. */
  noiseGain: number;
}

export const defaultRenderOptions: Readonly<RenderOptions> = Object.freeze({
  pristineAbove: 0.95,
  maxDropShare: 0.8,
  noiseGain: 1,
});

export const GAP = '...';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** 32-bit FNV-1a over the UTF-16 code units of `text`. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A uniform number in [0, 1) from a seed and two small integers (a murmur3-style finaliser). */
function unit(seed: number, block: number, word: number): number {
  let h = seed ^ Math.imul(block + 1, 0x9e3779b1) ^ Math.imul(word + 1, 0x85ebca77);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Share of words replaced at this fidelity and noise (0 at or above `pristineAbove`). */
export function dropShare(fidelity: number, noiseLevel: number, options: Partial<RenderOptions> = {}): number {
  const { pristineAbove, maxDropShare, noiseGain } = { ...defaultRenderOptions, ...options };
  const f = Number.isNaN(fidelity) ? 0 : Math.min(1, Math.max(0, fidelity));
  if (f >= pristineAbove) return 0;
  const n = Number.isNaN(noiseLevel) ? 0 : Math.min(1, Math.max(0, noiseLevel));
  return Math.min(maxDropShare, (1 - f) * (1 + Math.max(0, noiseGain) * n));
}

function degradeText(text: string, share: number, seed: number, block: number): string {
  let word = 0;
  return text.replace(/\S+/g, (token) => (unit(seed, block, word++) < share ? GAP : token));
}

/** `content` as a person would recall it at this fidelity and noise (see the header). */
export function renderHuman(content: MemoryContent, fidelity: number, noiseLevel: number, recordId: string, options: Partial<RenderOptions> = {}): MemoryContent {
  const share = dropShare(fidelity, noiseLevel, options);
  if (share === 0) return content;
  const seed = fnv1a(recordId);
  const blocks = content.blocks.map((block, index): ContentBlock => {
    if (block.modality !== 'text') return block;
    let text: string;
    try {
      text = strictUtf8.decode(Buffer.from(block.data, 'base64'));
    } catch {
      return block;
    }
    return { ...block, data: Buffer.from(degradeText(text, share, seed, index), 'utf8').toString('base64') };
  });
  return { ...content, blocks };
}

/** The reference's graph node label: the summary, else the text cut to 80 bytes (UTF-8 safe) + "...". */
export function nodeSummary(record: MemoryRecord): string {
  if (record.content.summary) return record.content.summary;
  return truncateUtf8(textOf(record.content) ?? '', 80);
}
