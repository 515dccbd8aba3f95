// Claude: one XML element per memory inside <memories>, the shape Anthropic's prompting guide suggests
// for documents (reference docs inventory §6.3). Text and attributes are escaped, so a memory can never
// close its element or forge another one.
import type { ContextRenderer } from './context.js';
import { fidelityLabel } from './context.js';

/** XML 1.0 escaping for text and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char]);
}

const XML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export const claudeRenderer: ContextRenderer = {
  open: '<memories>\n',
  separator: '',
  close: '</memories>',
  entry: ({ id, store, fidelity, text }) => `<memory id="${escapeXml(id)}" store="${escapeXml(store)}" fidelity="${fidelityLabel(fidelity)}">` + `${escapeXml(text)}</memory>\n`,
};
