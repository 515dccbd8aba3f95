import { createHash } from 'node:crypto';
import { redactJson, redactText } from './redact.js';

// Capture Events (reference spec §9.3): one JSON object per stdin line, describing something an agent
// or a tool did. This file turns a line into the raw-journal record the server's
// `POST /v1/encode/raw/batch` takes, redacted. Pure: the working directory is passed in.

export const EVENT_TYPES = ['user_message', 'assistant_message', 'tool_call', 'tool_result', 'command', 'file_change', 'session_summary', 'error'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const SPEAKERS = ['user', 'assistant', 'tool', 'system'] as const;
const VISIBILITIES = ['normal', 'private_scratch', 'sealed'] as const;
const SECRECY_LEVELS = ['public', 'sensitive', 'secret'] as const;

type RawSource = 'conversation' | 'tool_io' | 'summary';
type Speaker = (typeof SPEAKERS)[number];

const SOURCE_OF: Record<EventType, RawSource> = {
  user_message: 'conversation',
  assistant_message: 'conversation',
  tool_call: 'tool_io',
  tool_result: 'tool_io',
  command: 'tool_io',
  file_change: 'tool_io',
  session_summary: 'summary',
  error: 'tool_io',
};

const SPEAKER_OF: Record<EventType, Speaker> = {
  user_message: 'user',
  assistant_message: 'assistant',
  tool_call: 'tool',
  tool_result: 'tool',
  command: 'tool',
  file_change: 'system',
  session_summary: 'system',
  error: 'system',
};

/** One record of an `encode.batch_raw` request, as the recorder sends and spools it. */
export interface RawRecord {
  session_id: string;
  turn_id: string | null;
  topic_id: string | null;
  source: RawSource;
  speaker: Speaker;
  visibility: (typeof VISIBILITIES)[number];
  secrecy_level: (typeof SECRECY_LEVELS)[number];
  content: { blocks: { modality: 'text'; format: 'text/plain'; data: string }[] };
  metadata: Record<string, unknown>;
  meta?: unknown;
}

export interface NormalisedEvent {
  record: RawRecord;
  /** Set when the event carries an explicit identity (turn_id, action_id or timestamp): the dedupe key. */
  identity: string | null;
}

/** A line the recorder refuses; `message` names the field. */
export class CaptureEventError extends Error {
  override name = 'CaptureEventError';
}

// RFC 3339 date-time: full date, `T` (or space, RFC 3339 §5.6 note), time, optional fraction, Z or offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function optionalString(event: Record<string, unknown>, field: string): string | null {
  const value = event[field];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new CaptureEventError(`${field}: must be a string`);
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function oneOf<T extends string>(event: Record<string, unknown>, field: string, allowed: readonly T[], fallback: T): T {
  const value = optionalString(event, field);
  if (value === null) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new CaptureEventError(`${field}: must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** Parses one JSONL line into a Capture Event object, or throws CaptureEventError. */
export function parseCaptureLine(line: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new CaptureEventError(`invalid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CaptureEventError('expected a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * Validates a Capture Event and maps it to a redacted raw record. `cwd` is recorded as
 * `metadata.recorder_cwd` so a reader can tell which project the event came from.
 */
export function normaliseEvent(event: Record<string, unknown>, cwd: string): NormalisedEvent {
  const sessionId = optionalString(event, 'session_id');
  if (sessionId === null) throw new CaptureEventError('session_id: required and must not be blank');
  if (event.event_type === undefined || event.event_type === null) throw new CaptureEventError(`event_type: required (one of ${EVENT_TYPES.join(', ')})`);
  const eventType = oneOf<EventType>(event, 'event_type', EVENT_TYPES, 'session_summary');

  if (event.content === undefined || event.content === null) throw new CaptureEventError('content: required');
  // Non-string content is redacted as JSON first (so secret-named keys go whole), then as text.
  const text = redactText(typeof event.content === 'string' ? event.content : JSON.stringify(redactJson(event.content)));
  if (text.trim() === '') throw new CaptureEventError('content: must not be blank');

  const turnId = optionalString(event, 'turn_id');
  const topicId = optionalString(event, 'topic_id');
  const actionId = optionalString(event, 'action_id');
  const captureSource = optionalString(event, 'source');
  const timestamp = optionalString(event, 'timestamp');
  if (timestamp !== null && (!RFC3339.test(timestamp) || Number.isNaN(Date.parse(timestamp)))) {
    throw new CaptureEventError(`timestamp: must be an RFC 3339 date-time (got "${timestamp}")`);
  }
  const speaker = oneOf<Speaker>(event, 'speaker', SPEAKERS, SPEAKER_OF[eventType]);
  const visibility = oneOf(event, 'visibility', VISIBILITIES, 'normal');
  // Captured events default to sensitive: they are unreviewed transcripts (§9.3).
  const secrecyLevel = oneOf(event, 'secrecy_level', SECRECY_LEVELS, 'sensitive');

  const metadata: Record<string, unknown> = { recorder: 'cerememory-recorder', event_type: eventType };
  if (actionId !== null) metadata.action_id = redactText(actionId);
  if (captureSource !== null) metadata.capture_source = redactText(captureSource);
  if (timestamp !== null) metadata.observed_at = timestamp;
  metadata.recorder_cwd = cwd;
  if (event.metadata !== undefined && event.metadata !== null) metadata.capture_metadata = redactJson(event.metadata);

  const record: RawRecord = {
    session_id: sessionId,
    turn_id: turnId,
    topic_id: topicId,
    source: SOURCE_OF[eventType],
    speaker,
    visibility,
    secrecy_level: secrecyLevel,
    content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from(text, 'utf8').toString('base64') }] },
    metadata,
  };
  // MetaMemory is forwarded only when the caller supplied it, never invented.
  if (event.meta !== undefined && event.meta !== null) record.meta = redactJson(event.meta);

  const hasIdentity = turnId !== null || actionId !== null || timestamp !== null;
  const identity = hasIdentity
    ? createHash('sha256')
        .update(JSON.stringify([sessionId, eventType, turnId, actionId, timestamp, captureSource, text]))
        .digest('hex')
    : null;
  return { record, identity };
}

/**
 * Remembers the identities of the last `capacity` events (512 in the reference) and says whether an
 * event was already seen. Events without an explicit identity are never duplicates: the same words
 * said twice are two events.
 */
export class DedupeWindow {
  readonly #seen = new Set<string>();
  constructor(readonly capacity = 512) {}

  isDuplicate(identity: string | null): boolean {
    if (identity === null) return false;
    if (this.#seen.has(identity)) return true;
    this.#seen.add(identity);
    if (this.#seen.size > this.capacity) this.#seen.delete(this.#seen.values().next().value as string);
    return false;
  }
}
