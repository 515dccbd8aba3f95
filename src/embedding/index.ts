// The embedding layer's public surface (DESIGN §2.2).
export type { Embedder, EmbedderConfig } from './embedder.js';
export { createEmbedder, connectEmbedder, defersVectors, noEmbedder, type EmbedderOptions } from './factory.js';
export { EmbeddingService } from './embed-service.js';
export { EmbedClient } from './embed-client.js';
export type { EmbedderInfo, EmbedPriority } from './embed-protocol.js';
export { UseLiteEmbedder, USE_LITE_EMBEDDER_NAME, USE_LITE_DIMENSION, prepareText } from './use-lite.js';
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
