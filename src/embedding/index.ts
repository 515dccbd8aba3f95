// The embedding layer's public surface (DESIGN §2.2).
export { createEmbedder, type Embedder, type EmbedderConfig, type EmbedderOptions } from './embedder.js';
export {
  LocalEmbedder,
  LOCAL_EMBEDDER_NAME,
  defaultLocalEmbedderOptions,
  embedText,
  type LocalEmbedderOptions,
} from './local.js';
export {
  OpenAiCompatibleEmbedder,
  defaultOpenAiCompatibleOptions,
  type OpenAiCompatibleConfig,
  type OpenAiCompatibleOptions,
} from '../providers/openai-compatible.js';
