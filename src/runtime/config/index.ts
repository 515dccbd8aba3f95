// Server configuration (reference spec §9.2): one zod schema assembled from a file per concept, one
// `defaultConfig` built from the modules' own defaults, four sources. The public entry of this folder:
//   schema.ts      the list of sections, `configSchema`, `defaultConfig`
//   server.ts      [http] [auth] [mcp] [rate_limit] [log]
//   stores.ts      data_dir, [stores.<name>]              recall.ts      [recall]
//   providers.ts   [embedding] [llm]                      background.ts  [decay] [dream]
//   runtime.ts     [runtime] [security] [cluster]         fields.ts      the schema building blocks
//   load.ts        loadConfig, redactConfig; sources.ts the layers; rules.ts the cross-key rules;
//   issues.ts      the wording of problems; errors.ts ConfigError

export { ConfigError, type ConfigIssue } from './errors.js';
export { loadConfig, redactConfig, type LoadConfigOptions } from './load.js';
export { configSchema, defaultConfig, type CerememoryConfig, type PartialDeep } from './schema.js';
export { DEFAULT_CONFIG_FILE, ENV_PREFIX } from './sources.js';
export { STORE_NAMES, type StoreConfig, type StoreName } from './stores.js';
