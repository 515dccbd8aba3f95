// Test helper: valid records and envelopes built from the src helpers, so tests name only what matters
// to them. Timestamps are fixed (T0 and offsets from it); nothing here reads the clock.
import { textBlock } from '../../src/cmp/content.js';
import { neutralEmotion } from '../../src/cmp/emotion.js';
import { derivedId, toTimestamp } from '../../src/cmp/ids.js';
import { unavailableMeta } from '../../src/cmp/meta.js';
import { defaultFidelity } from '../../src/cmp/records.js';
import type { Association, MemoryContent, MemoryRecord, RawJournalRecord } from '../../src/cmp/types.js';
import type { EventEnvelope, MutationEvent } from '../../src/actors/store/events.js';

export const T0 = '2026-04-28T12:00:00.000Z';
export const T0_MS = Date.parse(T0);

/** RFC 3339 timestamp `offsetMs` after T0. */
export function at(offsetMs: number): string {
  return toTimestamp(T0_MS + offsetMs);
}

/** A stable UUIDv7 for test record number `n`. */
export function recordId(n: number): string {
  return derivedId(T0_MS, 'test', 'record', n);
}

export function textContent(text: string, summary: string | null = null): MemoryContent {
  return { blocks: [textBlock(text)], summary };
}

export function memoryRecord(overrides: Partial<MemoryRecord> = {}): MemoryRecord {
  return {
    id: recordId(0),
    space: 'default',
    store: 'episodic',
    created_at: T0,
    updated_at: T0,
    last_accessed_at: T0,
    access_count: 0,
    content: textContent('hello'),
    fidelity: defaultFidelity(T0, { decay_rate: 0.3, stability: 86_400 }),
    emotion: neutralEmotion(),
    associations: [],
    metadata: {},
    version: 1,
    meta: unavailableMeta('encode.store', T0),
    ...overrides,
  };
}

export function rawRecord(overrides: Partial<RawJournalRecord> = {}): RawJournalRecord {
  return {
    id: recordId(0),
    space: 'default',
    session_id: 'session-1',
    turn_id: null,
    topic_id: null,
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    created_at: T0,
    updated_at: T0,
    content: textContent('hello'),
    metadata: {},
    derived_memory_ids: [],
    suppressed: false,
    meta: unavailableMeta('journal.record', T0),
    ...overrides,
  };
}

export function association(target_id: string, overrides: Partial<Association> = {}): Association {
  return { target_id, association_type: 'semantic', weight: 0.5, created_at: T0, last_co_activation: T0, ...overrides };
}

export function envelope(event: MutationEvent, overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return { space: 'default', seq: 1, at: T0, event, ...overrides };
}
