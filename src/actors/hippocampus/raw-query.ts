import type { RecallRawQueryRequest, RecallRawQueryResponse } from '../../cmp/operations.js';
import type { RawJournalRecord } from '../../cmp/types.js';
import type { Stores } from '../store/protocol.js';
import { byCreation, rawMatches } from './raw-recall.js';

/**
 * recall.raw_query (spec §3.7): the raw journal's candidates by session, text or time range, then the
 * filters of raw-recall.ts, oldest first.
 */
export async function rawQuery(journal: Stores['raw_journal'], request: RecallRawQueryRequest): Promise<RecallRawQueryResponse> {
  let candidates: RawJournalRecord[];
  if (request.session_id !== null) {
    candidates = await journal.inSession(request.space, request.session_id);
  } else if (request.query !== null) {
    // The text index narrows; the substring rule decides. Ask for plenty so narrowing loses nothing.
    const result = await journal.search(request.space, { text: request.query, vectors: [], k: Math.max(request.limit * 20, 200), minSimilarity: 1 });
    candidates = result.records;
  } else {
    candidates = await journal.createdBetween(
      request.space,
      request.temporal ? Date.parse(request.temporal.start) : 0,
      request.temporal ? Date.parse(request.temporal.end) : Number.MAX_SAFE_INTEGER,
      1_000_000,
    );
  }
  const matching = candidates.filter((record) => rawMatches(record, request)).sort(byCreation);
  return { records: matching.slice(0, request.limit), total_candidates: matching.length };
}
