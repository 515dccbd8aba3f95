// GPT: a single JSON object `{"memories":[{id, store, fidelity, content}]}` for a system message
// (reference docs inventory §6.3). Built by JSON.stringify per entry, so the whole text is valid JSON
// whatever the memories contain.
import type { ContextRenderer } from './context.js';
import { fidelityLabel } from './context.js';

export const gptRenderer: ContextRenderer = {
  open: '{"memories":[',
  separator: ',',
  close: ']}',
  entry: ({ id, store, fidelity, text }) => JSON.stringify({ id, store, fidelity: Number(fidelityLabel(fidelity)), content: text }),
};
