// How records read in the console: text out of base64 content blocks, numbers and times at a glance.

export const STORES = ['episodic', 'semantic', 'procedural', 'emotional', 'working'] as const;
export type Store = (typeof STORES)[number];

export const EMOTIONS = ['joy', 'trust', 'fear', 'surprise', 'sadness', 'disgust', 'anger', 'anticipation'] as const;

export const ASSOCIATION_TYPES = ['temporal', 'spatial', 'semantic', 'emotional', 'causal', 'sequential', 'cross_modal', 'user_defined'] as const;

/** Colours per store, shared by the timeline and the graph. */
export const STORE_COLORS: Record<Store, string> = {
  episodic: '#2f6fdf',
  semantic: '#2a9d5c',
  procedural: '#b7791f',
  emotional: '#d53f8c',
  working: '#718096',
};

export interface Block {
  modality: string;
  format: string;
  data: string;
}

export interface Content {
  blocks: Block[];
  summary?: string | null;
}

export function decodeBase64Text(data: string): string {
  try {
    const bytes = Uint8Array.from(atob(data), (char) => char.charCodeAt(0));
    return new TextDecoder().decode(bytes);
  } catch {
    return '';
  }
}

/** The text of a content: its text blocks, else its summary, else a note of what it holds. */
export function contentText(content: Content | undefined): string {
  if (!content) return '';
  const text = content.blocks
    .filter((block) => block.modality === 'text')
    .map((block) => decodeBase64Text(block.data))
    .join('\n');
  if (text.trim() !== '') return text;
  if (content.summary) return content.summary;
  return content.blocks.map((block) => `[${block.modality} ${block.format}]`).join(' ');
}

export function short(text: string, length = 80): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1)}…`;
}

export function fidelity(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(3);
}

export function when(timestamp: string | null | undefined): string {
  if (!timestamp) return '–';
  const date = new Date(timestamp);
  return Number.isNaN(date.getTime()) ? timestamp : date.toLocaleString();
}

export type Emotion = Record<string, number>;

/** "joy 0.80 · valence +0.60" — the strongest dimension, or "neutral". */
export function emotionText(emotion: Emotion | undefined): string {
  if (!emotion) return '–';
  let best: string | null = null;
  for (const name of EMOTIONS) if ((emotion[name] ?? 0) > 0 && (best === null || emotion[name]! > emotion[best]!)) best = name;
  const valence = emotion.valence ?? 0;
  const tone = `valence ${valence >= 0 ? '+' : ''}${valence.toFixed(2)}`;
  return best === null || (emotion.intensity ?? 0) === 0 ? `neutral · ${tone}` : `${best} ${emotion[best]!.toFixed(2)} · ${tone}`;
}

export interface Meta {
  capture_status?: string;
  intent?: string | null;
  rationale?: string | null;
  decision?: string | null;
  trigger?: string | null;
  goals?: string[];
  tags?: string[];
  assumptions?: string[];
  confidence?: number | null;
  alternatives?: { option: string; reason?: string | null; chosen: boolean }[];
}

/** The "why" of a memory in one line (meta-memory, DESIGN: intent, rationale, decision, tags). */
export function whyText(meta: Meta | undefined): string {
  if (!meta) return '';
  const parts = [
    meta.intent ? `intent: ${meta.intent}` : null,
    meta.rationale ? `why: ${meta.rationale}` : null,
    meta.decision ? `decided: ${meta.decision}` : null,
    meta.tags && meta.tags.length > 0 ? `#${meta.tags.join(' #')}` : null,
  ].filter((part) => part !== null);
  return parts.length > 0 ? parts.join(' · ') : meta.trigger ? `trigger: ${meta.trigger}` : '';
}
