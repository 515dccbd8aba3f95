// The configuration's sections, listed once: the schema and the defaults below name the same sections
// in the same order (reference spec §9.2). A section's keys, ranges and defaults live in its concept's
// file; a new section is one import and one line in each list here.
//
// Defaults are not in the schema; they form the lowest source (load.ts), so "where did this value come
// from" has one answer for every key.

import { z } from 'zod';
import { decayDefaults, decaySchema, dreamDefaults, dreamSchema } from './background.js';
import { table } from './fields.js';
import { embeddingDefaults, embeddingSchema, llmDefaults, llmSchema } from './providers.js';
import { recallDefaults, recallSchema } from './recall.js';
import { clusterDefaults, clusterSchema, runtimeDefaults, runtimeSchema, securityDefaults, securitySchema } from './runtime.js';
import { authDefaults, authSchema, httpDefaults, httpSchema, logDefaults, logSchema, mcpDefaults, mcpSchema, rateLimitDefaults, rateLimitSchema } from './server.js';
import { dataDirDefault, dataDirSchema, storesDefaults, storesSchema } from './stores.js';

export const configSchema = table({
  data_dir: dataDirSchema,
  http: httpSchema,
  auth: authSchema,
  mcp: mcpSchema,
  rate_limit: rateLimitSchema,
  log: logSchema,
  decay: decaySchema,
  dream: dreamSchema,
  recall: recallSchema,
  embedding: embeddingSchema,
  llm: llmSchema,
  runtime: runtimeSchema,
  stores: storesSchema,
  security: securitySchema,
  cluster: clusterSchema,
});

export type CerememoryConfig = z.infer<typeof configSchema>;

/** Every default, by section. Deep-frozen: copy it (the loader does) before changing anything. */
export const defaultConfig: CerememoryConfig = deepFreeze({
  data_dir: dataDirDefault,
  http: httpDefaults,
  auth: authDefaults,
  mcp: mcpDefaults,
  rate_limit: rateLimitDefaults,
  log: logDefaults,
  decay: decayDefaults,
  dream: dreamDefaults,
  recall: recallDefaults,
  embedding: embeddingDefaults,
  llm: llmDefaults,
  runtime: runtimeDefaults,
  stores: storesDefaults,
  security: securityDefaults,
  cluster: clusterDefaults,
});

/** Deep partial for flags: objects become optional key by key, arrays are replaced whole. */
export type PartialDeep<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: PartialDeep<T[K]> } : T;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export type Path = readonly (string | number)[];

/** The schema expected at `path`, optional wrappers removed; undefined where no such key exists. */
export function schemaAt(path: Path): z.ZodType | undefined {
  let schema: z.ZodType | undefined = configSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject && typeof key === 'string' && Object.hasOwn(schema.shape, key)) {
      schema = schema.shape[key] as z.ZodType;
    } else if (schema instanceof z.ZodArray && typeof key === 'number') {
      schema = schema.element as z.ZodType;
    } else {
      return undefined;
    }
  }
  return unwrap(schema);
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}
