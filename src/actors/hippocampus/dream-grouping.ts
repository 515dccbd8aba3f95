import { textOf } from '../../cmp/content.js';
import { fromTimestamp, toTimestamp } from '../../cmp/ids.js';
import type { RawJournalRecord } from '../../cmp/types.js';

// Dream grouping (spec §4.10 `infer_dream_groups`): which raw journal records are dreamt about together.
// Explicit topics group per (space, date, session, topic); the rest is cut into topic segments at long
// gaps and at medium gaps where the words change. Pure; dream.ts plans over the groups.

/**
 * The §4.10 thresholds (spec Appendix C asks for them to stay configurable), of grouping and of the
 * summaries alike: one options object for a dream tick, kept in the lower of the two files.
 */
export interface DreamOptions {
  /** A gap longer than this always starts a new segment. Milliseconds, default 45 min, range > 0. */
  hardGapMs: number;
  /** A gap longer than this starts a new segment when the topic changes. Milliseconds, default 10 min, range > 0. */
  softGapMs: number;
  /** Jaccard overlap below which the topic "changes". Fraction, default 0.08, range 0..1. */
  minTopicOverlap: number;
  /** Tokens in an inferred topic hint. Tokens, default 3, range ≥ 1. */
  hintTokens: number;
  /** Texts quoted in a summary. Texts, default 8, range ≥ 0. */
  maxSnippets: number;
  /** Longest quoted text before "...". UTF-8 bytes, default 160. */
  snippetBytes: number;
  /** Longest summary text before "...". UTF-8 bytes, default 1200. */
  summaryBytes: number;
  /** Longest `content.summary` of a created record before "...". UTF-8 bytes, default 160. */
  contentSummaryBytes: number;
  /** Normal records a group needs to be promoted to semantic memory. Records, default 2, range ≥ 1. */
  minNormalForPromotion: number;
}

const MINUTE_MS = 60_000;

export const defaultDreamOptions: Readonly<DreamOptions> = Object.freeze({
  hardGapMs: 45 * MINUTE_MS,
  softGapMs: 10 * MINUTE_MS,
  minTopicOverlap: 0.08,
  hintTokens: 3,
  maxSnippets: 8,
  snippetBytes: 160,
  summaryBytes: 1200,
  contentSummaryBytes: 160,
  minNormalForPromotion: 2,
});

export interface DreamGroup {
  space: string;
  session_id: string;
  /** UTC calendar date of the group's `created_at`s, YYYY-MM-DD. */
  date: string;
  /** The explicit, trimmed `topic_id`; null for inferred groups. */
  raw_topic_id: string | null;
  /** The explicit topic, the top tokens joined with "+", or `auto-YYYYMMDD-{n}`. */
  topic_hint: string;
  inferred_topic: boolean;
  /** Oldest first, then by id. */
  records: RawJournalRecord[];
}

const TOPIC_STOPWORDS: ReadonlySet<string> = new Set([
  'the',
  'and',
  'for',
  'with',
  'that',
  'this',
  'from',
  'into',
  'only',
  'then',
  'than',
  'have',
  'has',
  'had',
  'were',
  'was',
  'are',
  'but',
  'not',
  'you',
  'your',
  'our',
  'raw',
  'note',
  'notes',
  'session',
  'topic',
  'summary',
  'record',
  'records',
]);

// Rust's `char::is_alphanumeric`: Alphabetic or Numeric.
const NON_ALPHANUMERIC = /[^\p{Alphabetic}\p{N}]+/gu;

/**
 * Spec §4.10 tokenizer (not the full-text analyser: no stemming): non-alphanumerics become spaces,
 * lowercase, tokens of at least 3 UTF-8 bytes, topic stopwords dropped. In order, with repeats.
 */
export function tokenizeForTopics(text: string): string[] {
  return text
    .replace(NON_ALPHANUMERIC, ' ')
    .split(' ')
    .map((token) => token.toLowerCase())
    .filter((token) => Buffer.byteLength(token, 'utf8') >= 3 && !TOPIC_STOPWORDS.has(token));
}

/** |A ∩ B| / |A ∪ B|; 1 when either set is empty (nothing to disagree about). */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 1;
  let shared = 0;
  for (const token of b) if (a.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

/**
 * Spec §4.10 `infer_dream_groups` over candidate records: explicit `topic_id` groups per (date, session,
 * topic); the rest per (date, session) in time order, cut at long gaps and at medium gaps where the topic
 * changes. Sorted by (first record time, session, hint); at most `max_groups`.
 */
export function inferDreamGroups(records: RawJournalRecord[], options: { max_groups: number } & Partial<DreamOptions>): DreamGroup[] {
  const o = { ...defaultDreamOptions, ...options };
  const explicit = new Map<string, DreamGroup>();
  const untopical = new Map<string, RawJournalRecord[]>();
  for (const record of [...records].sort(byTimeThenId)) {
    const date = utcDate(record.created_at);
    const topic = record.topic_id?.trim() ?? '';
    if (topic !== '') {
      const key = JSON.stringify([record.space, date, record.session_id, topic]);
      let group = explicit.get(key);
      if (group === undefined) {
        group = {
          space: record.space,
          session_id: record.session_id,
          date,
          raw_topic_id: topic,
          topic_hint: topic,
          inferred_topic: false,
          records: [],
        };
        explicit.set(key, group);
      }
      group.records.push(record);
    } else {
      const key = JSON.stringify([record.space, date, record.session_id]);
      untopical.set(key, [...(untopical.get(key) ?? []), record]);
    }
  }
  const groups = [...explicit.values()];
  for (const bucket of untopical.values()) groups.push(...segment(bucket, o));
  groups.sort((a, b) => timeOf(a.records[0]) - timeOf(b.records[0]) || compareBytes(a.session_id, b.session_id) || compareBytes(a.topic_hint, b.topic_hint) || compareBytes(a.space, b.space));
  return groups.slice(0, Math.max(0, o.max_groups));
}

/** One (space, date, session) bucket, oldest first, cut into inferred topic segments. */
function segment(records: RawJournalRecord[], o: DreamOptions): DreamGroup[] {
  const segments: RawJournalRecord[][] = [];
  let current: RawJournalRecord[] = [];
  let tokens = new Set<string>();
  for (const record of records) {
    const own = new Set(tokenizeForTopics(textOf(record.content) ?? ''));
    const previous = current.at(-1);
    if (previous !== undefined) {
      const gap = timeOf(record) - timeOf(previous);
      if (gap > o.hardGapMs || (gap > o.softGapMs && jaccard(tokens, own) < o.minTopicOverlap)) {
        segments.push(current);
        current = [];
        tokens = new Set();
      }
    }
    current.push(record);
    for (const token of own) tokens.add(token);
  }
  if (current.length > 0) segments.push(current);
  return segments.map((members, index) => {
    const first = members[0];
    const date = utcDate(first.created_at);
    return {
      space: first.space,
      session_id: first.session_id,
      date,
      raw_topic_id: null,
      topic_hint: topicHint(members, o.hintTokens) ?? `auto-${date.replaceAll('-', '')}-${index}`,
      inferred_topic: true,
      records: members,
    };
  });
}

/**
 * The `count` most frequent tokens (ties alphabetical) of the segment's normal, non-secret records —
 * only text that may be quoted in a summary may name its topic — joined with "+"; null without tokens.
 */
function topicHint(records: RawJournalRecord[], count: number): string | null {
  const frequency = new Map<string, number>();
  for (const record of records) {
    if (record.visibility !== 'normal' || record.secrecy_level === 'secret') continue;
    for (const token of tokenizeForTopics(textOf(record.content) ?? '')) {
      frequency.set(token, (frequency.get(token) ?? 0) + 1);
    }
  }
  if (frequency.size === 0) return null;
  return [...frequency]
    .sort(([a, fa], [b, fb]) => fb - fa || compareBytes(a, b))
    .slice(0, Math.max(1, count))
    .map(([token]) => token)
    .join('+');
}

/** Byte-wise (code point) order, as Rust compares strings. */
export function compareBytes(a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function timeOf(record: RawJournalRecord): number {
  return fromTimestamp(record.created_at);
}

function byTimeThenId(a: RawJournalRecord, b: RawJournalRecord): number {
  return timeOf(a) - timeOf(b) || compareBytes(a.id, b.id);
}

function utcDate(timestamp: string): string {
  return toTimestamp(fromTimestamp(timestamp)).slice(0, 10);
}
