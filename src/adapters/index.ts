// Context adapters: recall.query memories → prompt text for a model family, within a token budget.
// Transports (REST, Connect, MCP, CLI) call `formatContext`; nothing here does I/O.
import type { RecalledMemory } from '../cmp/operations.js';
import { claudeRenderer } from './claude.js';
import { renderContext, type ContextFormat, type ContextRenderer, type FormatContextOptions, type FormattedContext } from './context.js';
import { geminiRenderer } from './gemini.js';
import { gptRenderer } from './gpt.js';

export { CONTEXT_FORMATS, type ContextEntry, type ContextFormat, type ContextRenderer, type FormatContextOptions, type FormattedContext, type OmittedReason } from './context.js';
export { escapeXml } from './claude.js';
export { estimateTokens } from './tokens.js';

const renderers: Record<ContextFormat, ContextRenderer> = {
  claude: claudeRenderer,
  gpt: gptRenderer,
  gemini: geminiRenderer,
};

/** The memories of a recall as one prompt block for `options.model`, within `options.budgetTokens`. */
export function formatContext(memories: readonly RecalledMemory[], options: FormatContextOptions): FormattedContext {
  return renderContext(options.model, renderers[options.model], memories, options.budgetTokens);
}
