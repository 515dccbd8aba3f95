// Remote providers (reference spec §4.11), all off by default: LLMs for summaries and relations, and the
// remote embedders the embedding seam (src/embedding) can use instead of the local one.
import { invalidField } from '../cmp/errors.js';
import { anthropicProvider } from './anthropic.js';
import { geminiProvider } from './gemini.js';
import type { ProviderHttpOptions } from './http-client.js';
import type { LlmProvider } from './llm-provider.js';
import { openAiCompatibleProvider } from './openai-compatible.js';
import { requireProviderKeys } from './requirements.js';

export { anthropicProvider, ANTHROPIC_BASE_URL, ANTHROPIC_VERSION, type AnthropicConfig } from './anthropic.js';
export { geminiProvider, GeminiEmbedder, GEMINI_BASE_URL, type GeminiConfig, type GeminiEmbedderConfig } from './gemini.js';
export { ProviderHttpClient, defaultProviderHttpOptions, type ProviderHttpOptions } from './http-client.js';
export { llmProvider, parseRelations, MAX_RELATIONS, type ExtractedRelation, type LlmProvider, type Prompt } from './llm-provider.js';
export {
  OpenAiCompatibleEmbedder,
  openAiCompatibleProvider,
  defaultOpenAiCompatibleOptions,
  type OpenAiCompatibleChatConfig,
  type OpenAiCompatibleConfig,
  type OpenAiCompatibleOptions,
} from './openai-compatible.js';

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** The `[llm]` configuration section, as far as building a provider needs it. */
export interface LlmConfig {
  provider: 'none' | 'openai_compatible' | 'anthropic' | 'gemini';
  base_url?: string;
  model?: string;
  api_key?: string;
  timeout_ms: number;
  max_retries: number;
}

/** The configured LLM provider, or null for "none" (the built-in, no-network behaviour). */
export function createLlmProvider(config: LlmConfig, options: Omit<ProviderHttpOptions, 'timeoutMs' | 'retries'> = {}): LlmProvider | null {
  if (config.provider === 'none') return null;
  requireProviderKeys('llm', config);
  const model = config.model!;
  const http: ProviderHttpOptions = { ...options, timeoutMs: config.timeout_ms, retries: config.max_retries };
  switch (config.provider) {
    case 'openai_compatible':
      return openAiCompatibleProvider({ baseUrl: config.base_url ?? OPENAI_BASE_URL, model, apiKey: config.api_key }, http);
    case 'anthropic':
      return anthropicProvider({ baseUrl: config.base_url, model, apiKey: config.api_key! }, http);
    case 'gemini':
      return geminiProvider({ baseUrl: config.base_url, model, apiKey: config.api_key! }, http);
    default:
      throw invalidField('llm.provider', `expected "none", "openai_compatible", "anthropic" or "gemini", got ${JSON.stringify((config as { provider: unknown }).provider)}`);
  }
}
