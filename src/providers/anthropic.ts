// Anthropic Messages API: `POST {base_url}/v1/messages` with `x-api-key` and `anthropic-version`, request
// `{ model, max_tokens, system, messages: [{ role: "user", content }] }`, answer
// `{ content: [{ type: "text", text }, …] }` (text blocks joined). Summaries and relations only: the API
// has no embeddings (reference spec §4.11).
import { ProviderHttpClient, type ProviderHttpOptions } from './http-client.js';
import { llmProvider, type LlmProvider, type Prompt } from './llm-provider.js';

/** The API version header value the request and answer shapes above follow. */
export const ANTHROPIC_VERSION = '2023-06-01';
export const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export interface AnthropicConfig {
  /** Default "https://api.anthropic.com" (the "/v1/messages" path is appended). */
  baseUrl?: string;
  model: string;
  apiKey: string;
}

export function anthropicProvider(config: AnthropicConfig, options: ProviderHttpOptions = {}): LlmProvider {
  const client = new ProviderHttpClient(
    {
      label: 'LLM provider anthropic',
      baseUrlField: 'llm.base_url',
      apiKeyField: 'llm.api_key',
      baseUrl: config.baseUrl ?? ANTHROPIC_BASE_URL,
      secrets: [config.apiKey],
    },
    options,
  );
  const endpoint = client.endpoint('/v1/messages');
  const fail = (problem: string) => client.error(endpoint, problem);
  const headers = { 'x-api-key': config.apiKey, 'anthropic-version': ANTHROPIC_VERSION };
  return llmProvider(
    `anthropic:${config.model}`,
    async function completeMessage(prompt: Prompt, signal?: AbortSignal): Promise<string> {
      const body = {
        model: config.model,
        max_tokens: prompt.maxTokens,
        system: prompt.system,
        messages: [{ role: 'user', content: prompt.user }],
        temperature: 0,
      };
      const json = await client.postJson(endpoint, body, headers, signal);
      const content = (json as { content?: unknown } | null)?.content;
      if (!Array.isArray(content)) throw fail('answered without a "content" array');
      const texts = content
        .filter((block): block is { type: 'text'; text: string } => block !== null && typeof block === 'object' && block.type === 'text' && typeof block.text === 'string')
        .map((block) => block.text);
      if (texts.length === 0) throw fail('answered no text block');
      return texts.join('');
    },
    fail,
  );
}
