import { textOf } from '../../cmp/content.js';
import type { EmotionVector, MemoryContent, StoreType } from '../../cmp/types.js';

// Automatic store routing when a caller names no store. The reference's one rule (a summary means
// semantic knowledge) comes first; then a deterministic classifier of our own, in this order:
//   1. content.summary present                         → semantic   (reference spec §4.3)
//   2. procedure: text opening with "how to"/"how do"/"steps to"/"instructions", or at least two
//      lines that are numbered or bulleted steps       → procedural
//   3. strong emotion: emotion.intensity ≥ 0.7         → emotional
//   4. anything else                                   → episodic
// Working memory is never chosen automatically: it is scratch space the caller asks for.

export const STRONG_EMOTION_INTENSITY = 0.7;

// Whole words only: "How tomorrow went" or "How do icebergs form" do not open a procedure.
const PROCEDURE_OPENING = /^\s*(how\s+to|how\s+do\s+(i|you|we)|steps?\s+to|instructions?|recipe)\b/i;
const STEP_LINE = /^\s*(\d{1,3}[.)]|[-*•]|step\s+\d{1,3}\s*[:.)-]?)\s+\S/i;

export function looksProcedural(text: string): boolean {
  if (PROCEDURE_OPENING.test(text)) return true;
  let steps = 0;
  for (const line of text.split(/\r?\n/)) if (STEP_LINE.test(line) && ++steps >= 2) return true;
  return false;
}

export function classifyStore(content: MemoryContent, emotion: EmotionVector | null): StoreType {
  if (content.summary !== undefined && content.summary !== null) return 'semantic';
  const text = textOf(content);
  if (text !== null && looksProcedural(text)) return 'procedural';
  if (emotion !== null && emotion.intensity >= STRONG_EMOTION_INTENSITY) return 'emotional';
  return 'episodic';
}
