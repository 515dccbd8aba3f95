// Gemini: one Markdown section per memory, `## Memory [<id>] (store: …, fidelity: …)` then the text
// (reference docs inventory §6.3). A text line starting with "#" is escaped with a backslash so a memory
// cannot open a section of its own.
import type { ContextRenderer } from './context.js';
import { fidelityLabel } from './context.js';

export function escapeMarkdownHeadings(text: string): string {
  return text.replace(/^([ \t]*)#/gm, '$1\\#');
}

export const geminiRenderer: ContextRenderer = {
  open: '',
  separator: '\n',
  close: '',
  entry: ({ id, store, fidelity, text }) => `## Memory [${id}] (store: ${store}, fidelity: ${fidelityLabel(fidelity)})\n\n${escapeMarkdownHeadings(text)}\n`,
};
