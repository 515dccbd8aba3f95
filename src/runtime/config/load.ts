// Loads the configuration: defaults < TOML file < env `CEREMEMORY_*` < flags, merged, then validated
// whole (reference spec §9.2). Every value remembers which source set it, so an error names the key
// path *and* where it came from ("config: http.port (from env CEREMEMORY_HTTP__PORT): expected an
// integer in 0..65535, got \"x\""). Objects are strict: an unknown key is an error naming it, which is
// how typos get caught.

import { homedir } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { fromZodIssue, toConfigIssue, type RawIssue } from './issues.js';
import { applyProviderDefaults, crossFieldIssues } from './rules.js';
import { configSchema, defaultConfig, type CerememoryConfig, type PartialDeep } from './schema.js';
import { envLayer, leafLayer, mergeInto, readTomlLayer, type Layer, type Plain } from './sources.js';

export interface LoadConfigOptions {
  /** TOML file to read; it must exist. Without it, `cerememory.toml` in `cwd` is read if present. */
  file?: string;
  /** Environment to read `CEREMEMORY_*` and HOME from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence values (CLI flags, tests). `undefined` leaves mean "not given". */
  flags?: PartialDeep<CerememoryConfig>;
  /**
   * Directory that `file`, `./cerememory.toml` and a relative `data_dir` resolve against. Default
   * `process.cwd()`.
   */
  cwd?: string;
}

/**
 * Loads, merges and validates the configuration. Throws a ConfigError listing every problem found
 * in any source; never returns a partly valid config. `data_dir` comes back absolute.
 */
export function loadConfig(options: LoadConfigOptions = {}): CerememoryConfig {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const sourceIssues: ConfigIssue[] = [];

  const layers: Layer[] = [leafLayer(structuredClone(defaultConfig) as Plain, 'defaults')];
  const file = readTomlLayer(options.file, cwd, sourceIssues);
  if (file) layers.push(file);
  layers.push(envLayer(env, sourceIssues));
  if (options.flags) layers.push(leafLayer(options.flags as Plain, 'flags'));

  const merged: Plain = {};
  const provenance = new Map<string, string>();
  for (const layer of layers) mergeInto(merged, layer.data);
  for (const layer of layers) {
    for (const [path, source] of layer.sources) {
      for (const key of provenance.keys()) if (key.startsWith(`${path}.`)) provenance.delete(key);
      // Delete first so iteration order stays precedence order (sourceOf relies on it).
      provenance.delete(path);
      provenance.set(path, source);
    }
  }
  applyProviderDefaults(merged, provenance);

  const raw: RawIssue[] = [];
  const parsed = configSchema.safeParse(merged, { reportInput: true });
  if (!parsed.success) raw.push(...parsed.error.issues.flatMap(fromZodIssue));
  raw.push(...crossFieldIssues(merged, provenance));

  const issues = [...sourceIssues, ...raw.map((issue) => toConfigIssue(issue, provenance))];
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const config = parsed.data;
  config.data_dir = resolveDataDir(config.data_dir, env, cwd);
  if (config.security.audit_log_path !== undefined) config.security.audit_log_path = resolveDataDir(config.security.audit_log_path, env, cwd);
  return config;
}

/** A copy safe to log: API keys and passphrases become "[REDACTED]". */
export function redactConfig(config: CerememoryConfig): CerememoryConfig {
  const copy = structuredClone(config);
  copy.auth.api_keys = copy.auth.api_keys.map(() => REDACTED);
  if (copy.embedding.api_key !== undefined) copy.embedding.api_key = REDACTED;
  if (copy.llm.api_key !== undefined) copy.llm.api_key = REDACTED;
  if (copy.security.store_encryption_passphrase !== undefined) copy.security.store_encryption_passphrase = REDACTED;
  return copy;
}

const REDACTED = '[REDACTED]';

function resolveDataDir(dataDir: string, env: NodeJS.ProcessEnv, cwd: string): string {
  let dir = dataDir;
  if (dir === '~' || dir.startsWith('~/')) {
    const home = env.HOME || env.USERPROFILE || homedir();
    dir = home + dir.slice(1);
  }
  return resolvePath(cwd, dir);
}
