import { createHash } from 'node:crypto';

// The audit log's hash chain (reference spec §8.2), as pure functions over entries and text: no file,
// no clock. Each entry commits to the previous one's hash, so changing, removing, inserting or
// reordering any entry breaks every hash after it, and `verifyChain` names the first line at fault.
// Cutting entries off the end is not detectable from the file alone (spec §8.2 "Limits").
//
// Canonical form, ours (the spec leaves it to the rewrite): JSON with object keys sorted at every
// depth, no whitespace, timestamps as `Date.toISOString()` (UTC, milliseconds, "Z"). The entry hash is
// SHA-256 over the canonical JSON of the entry without `entry_hash`, as lowercase hex.

export const AUDIT_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

/** Scalar or nested JSON with no memory text in it (the caller's promise; see audit-rules.ts). */
export type AuditSummary = Record<string, unknown>;

export interface AuditEntry {
  version: number;
  /** 1, 2, 3, … with no gaps. */
  sequence: number;
  timestamp: string;
  operation: string;
  record_ids: string[];
  store_types: string[];
  summary: AuditSummary;
  /** The previous entry's `entry_hash`; GENESIS_HASH for the first entry. */
  prev_hash: string;
  entry_hash: string;
}

export type AuditEvent = Pick<AuditEntry, 'operation' | 'record_ids' | 'store_types' | 'summary'>;

export interface ChainHead {
  /** Sequence of the last entry; 0 for an empty log. */
  sequence: number;
  /** Hash of the last entry; GENESIS_HASH for an empty log. */
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { sequence: 0, hash: GENESIS_HASH };

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${canonicalJson(child)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function hashEntry(entry: Omit<AuditEntry, 'entry_hash'>): string {
  const { version, sequence, timestamp, operation, record_ids, store_types, summary, prev_hash } = entry;
  const body = canonicalJson({ version, sequence, timestamp, operation, record_ids, store_types, summary, prev_hash });
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/** The entry that follows `head`, fields in the reference's order. */
export function nextEntry(head: ChainHead, event: AuditEvent, timestamp: Date): AuditEntry {
  const entry = {
    version: AUDIT_VERSION,
    sequence: head.sequence + 1,
    timestamp: timestamp.toISOString(),
    operation: event.operation,
    record_ids: [...event.record_ids],
    store_types: [...event.store_types],
    summary: event.summary,
    prev_hash: head.hash,
  };
  return { ...entry, entry_hash: hashEntry(entry) };
}

/** One line of the file, newline included. */
export function entryLine(entry: AuditEntry): string {
  return `${JSON.stringify(entry)}\n`;
}

export interface ChainBreak {
  /** 1-based line number of the first entry that does not verify (= its expected sequence). */
  line: number;
  reason: string;
  /** The last line has no newline: an append was cut short (a crash or power loss mid-write). */
  torn: boolean;
}

export interface ChainReport {
  /** Entries that verify, from the start up to the first break. */
  entries: number;
  /** Head after the entries that verify. */
  head: ChainHead;
  /** The first problem, if any. */
  broken?: ChainBreak;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Verifies a whole file's text; stops at the first entry that does not verify. */
export function verifyChain(text: string): ChainReport {
  let head = EMPTY_HEAD;
  if (text === '') return { entries: 0, head };
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  if (complete) lines.pop();
  for (let index = 0; index < lines.length; index += 1) {
    const lineNumber = index + 1;
    const broken = (reason: string): ChainReport => ({ entries: index, head, broken: { line: lineNumber, reason, torn: false } });
    if (!complete && index === lines.length - 1) {
      return {
        entries: index,
        head,
        broken: { line: lineNumber, reason: 'incomplete last line (no newline): an append was cut short', torn: true },
      };
    }
    const line = lines[index];
    if (line.trim() === '') return broken('blank line');
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return broken('not valid JSON');
    }
    const problem = entryProblem(parsed, head);
    if (problem !== undefined) return broken(problem);
    const entry = parsed as AuditEntry;
    head = { sequence: entry.sequence, hash: entry.entry_hash };
  }
  return { entries: lines.length, head };
}

/** Why `value` cannot follow `head`, or undefined when it can. */
function entryProblem(value: unknown, head: ChainHead): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const entry = value as Partial<AuditEntry>;
  if (entry.version !== AUDIT_VERSION) return `unsupported version ${JSON.stringify(entry.version)} (expected ${AUDIT_VERSION})`;
  if (entry.sequence !== head.sequence + 1) return `sequence ${JSON.stringify(entry.sequence)}, expected ${head.sequence + 1}`;
  if (typeof entry.timestamp !== 'string' || typeof entry.operation !== 'string') return 'missing timestamp or operation';
  if (!Array.isArray(entry.record_ids) || !Array.isArray(entry.store_types)) return 'record_ids and store_types must be lists';
  if (entry.summary === null || typeof entry.summary !== 'object' || Array.isArray(entry.summary)) return 'summary must be an object';
  if (entry.prev_hash !== head.hash) {
    return head.sequence === 0 ? 'prev_hash is not the genesis hash' : `prev_hash does not match the hash of entry ${head.sequence}`;
  }
  if (typeof entry.entry_hash !== 'string' || !HEX64.test(entry.entry_hash)) return 'entry_hash is not 64 lowercase hex digits';
  if (hashEntry(entry as AuditEntry) !== entry.entry_hash) return 'hash mismatch: the entry was changed after it was written';
  return undefined;
}
