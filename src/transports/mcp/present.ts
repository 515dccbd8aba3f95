import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { dominantEmotion } from '../../cmp/emotion.js';
import type { CmpObject } from '../endpoint.js';

// How the tools answer: pretty-printed JSON or a sentence, and the recall answers in the compact shape
// a model reads (one text per memory instead of base64 content blocks).

export const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] });
export const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

function firstText(content: { blocks?: { modality: string; data: string }[] } | undefined): string {
  const block = content?.blocks?.find((candidate) => candidate.modality === 'text');
  return block ? Buffer.from(block.data, 'base64').toString('utf8') : '[non-text content]';
}

/** A recallQuery answer, each memory as its id, store, text, scores and dominant emotion. */
export function recallAnswer(result: CmpObject): CallToolResult {
  return json({
    memories: (result.memories as CmpObject[]).map(({ record, relevance_score }) => ({
      record_id: record.id,
      store: record.store,
      text: firstText(record.content),
      relevance_score,
      fidelity: record.fidelity?.score ?? 0,
      created_at: record.created_at,
      emotion: record.emotion ? dominantEmotion(record.emotion) : null,
    })),
    query_metadata: result.query_metadata,
    total_candidates: result.total_candidates,
    ...(result.context ? { context: result.context } : {}),
  });
}

/** A recallRawQuery answer, each entry as its id, session, source, speaker, visibility, secrecy and text. */
export function rawRecallAnswer(result: CmpObject): CallToolResult {
  return json({
    records: (result.records as CmpObject[]).map((record) => ({
      record_id: record.id,
      session_id: record.session_id,
      source: record.source,
      speaker: record.speaker,
      visibility: record.visibility,
      secrecy_level: record.secrecy_level,
      text: firstText(record.content),
      created_at: record.created_at,
    })),
    total_candidates: result.total_candidates,
  });
}
