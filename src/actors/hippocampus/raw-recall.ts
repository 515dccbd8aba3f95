import type { RecallRawQueryRequest } from '../../cmp/operations.js';
import { textOf } from '../../cmp/content.js';
import type { RawJournalRecord } from '../../cmp/types.js';

// Forensic recall of the raw journal (spec §3.7, §1.9): which raw records a request may see, and in
// what order. Visibility and secrecy filter reversibly; nothing is ever deleted by them.

/** Spec §1.9: private scratch and sealed records only when asked for; `secret` only when listed. */
export function rawVisible(record: RawJournalRecord, request: RecallRawQueryRequest): boolean {
  if (record.suppressed) return false;
  if (record.visibility === 'private_scratch' && !request.include_private_scratch) return false;
  if (record.visibility === 'sealed' && !request.include_sealed) return false;
  const levels = request.secrecy_levels ?? ['public', 'sensitive'];
  return levels.includes(record.secrecy_level);
}

/**
 * Every filter of a raw recall. The time range applies whenever it is given (the reference ignored it
 * with a session and a query together; we do not). A query must appear in the record's text as a
 * case-insensitive substring: the text index only narrows the candidates.
 */
export function rawMatches(record: RawJournalRecord, request: RecallRawQueryRequest): boolean {
  if (!rawVisible(record, request)) return false;
  if (request.session_id !== null && record.session_id !== request.session_id) return false;
  if (request.temporal) {
    const created = Date.parse(record.created_at);
    if (created < Date.parse(request.temporal.start) || created > Date.parse(request.temporal.end)) return false;
  }
  if (request.query !== null) {
    const text = textOf(record.content);
    if (text === null || !text.toLowerCase().includes(request.query.toLowerCase())) return false;
  }
  return true;
}

/** Oldest first, then by id (spec §3.7). */
export function byCreation(a: RawJournalRecord, b: RawJournalRecord): number {
  return Date.parse(a.created_at) - Date.parse(b.created_at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
