// The sources of a configuration, lowest first: defaults, the TOML file, env `CEREMEMORY_*`, flags.
// Each becomes a layer: its data plus the source label of every leaf it sets, so an error can say
// where a value came from.

import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { TomlError, parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { schemaAt } from './schema.js';

export const ENV_PREFIX = 'CEREMEMORY_';
export const DEFAULT_CONFIG_FILE = 'cerememory.toml';

/**
 * `CEREMEMORY_*` variables that belong to other programs (the MCP stdio proxy, the recorder, the
 * opt-in e2e tests) and are not configuration keys; every other `CEREMEMORY_*` is, so a typo fails.
 */
const FOREIGN_ENV = /^CEREMEMORY_(SERVER_|RECORDER_|LLM_E2E$)/;

/** Comma-list spellings kept from the reference (spec §9.2), next to the general `__` form. */
const ENV_ALIASES: Record<string, readonly string[]> = {
  CEREMEMORY_AUTH_API_KEYS: ['auth', 'api_keys'],
  CEREMEMORY_HTTP_TRUSTED_PROXY_CIDRS: ['http', 'trusted_proxy_cidrs'],
  CEREMEMORY_HTTP_ALLOWED_HOSTS: ['http', 'allowed_hosts'],
};

export type Plain = Record<string, unknown>;

export interface Layer {
  data: Plain;
  /** Source label per dotted leaf path. */
  sources: Map<string, string>;
}

export function leafLayer(data: Plain, label: string): Layer {
  const sources = new Map<string, string>();
  (function walk(value: unknown, path: string) {
    if (isPlainObject(value)) {
      for (const [key, child] of Object.entries(value)) {
        if (child !== undefined) walk(child, path === '' ? key : `${path}.${key}`);
      }
    } else if (path !== '') {
      sources.set(path, label);
    }
  })(data, '');
  return { data, sources };
}

export function readTomlLayer(file: string | undefined, cwd: string, issues: ConfigIssue[]): Layer | undefined {
  const explicit = file !== undefined;
  const filePath = resolvePath(cwd, file ?? DEFAULT_CONFIG_FILE);
  const label = file ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(filePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    const problem = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory, not a file' : `cannot be read (${code ?? String(error)})`;
    issues.push({ path: '', source: `file ${filePath}`, message: problem });
    return undefined;
  }
  try {
    return leafLayer(parseToml(text) as Plain, label);
  } catch (error) {
    const firstLine = error instanceof Error ? error.message.split('\n')[0] : String(error);
    const detail = firstLine.replace(/^Invalid TOML document: /, '');
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    issues.push({ path: '', source: `file ${filePath}`, message: `invalid TOML${where}: ${detail}` });
    return undefined;
  }
}

/**
 * `CEREMEMORY_A__B=v` sets `a.b`. Strings are coerced by the type the schema expects at that path:
 * numbers, booleans ("true"/"false", any case), comma lists for arrays (entries trimmed, empty ones
 * dropped). What cannot be coerced stays a string so the schema reports it with the variable's name.
 */
export function envLayer(env: NodeJS.ProcessEnv, issues: ConfigIssue[]): Layer {
  const data: Plain = {};
  const sources = new Map<string, string>();
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !FOREIGN_ENV.test(name))
    .sort();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    const path = ENV_ALIASES[name] ?? name.slice(ENV_PREFIX.length).toLowerCase().split('__');
    const dotted = path.join('.');
    const previous = sources.get(dotted);
    if (previous !== undefined) {
      const other = previous.replace(/^env /, '');
      issues.push({ path: dotted, source: `env ${name}`, message: `also set by ${other}; set only one` });
      continue;
    }
    setPath(data, path, coerceEnv(value, schemaAt(path)));
    sources.set(dotted, `env ${name}`);
  }
  return { data, sources };
}

function coerceEnv(value: string, schema: z.ZodType | undefined): unknown {
  if (schema instanceof z.ZodNumber) {
    return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : value;
  }
  if (schema instanceof z.ZodBoolean) {
    const lowered = value.trim().toLowerCase();
    return lowered === 'true' ? true : lowered === 'false' ? false : value;
  }
  if (schema instanceof z.ZodArray) {
    const element = schema.element as z.ZodType;
    return value
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map((entry) => coerceEnv(entry, element));
  }
  return value;
}

// --- merging ---------------------------------------------------------------------------------

export function isPlainObject(value: unknown): value is Plain {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep merge where tables merge key by key and anything else (arrays included) replaces. */
export function mergeInto(target: Plain, source: Plain): void {
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    const current = target[key];
    if (isPlainObject(value)) {
      const next: Plain = isPlainObject(current) ? current : {};
      mergeInto(next, value);
      define(target, key, next);
    } else {
      define(target, key, Array.isArray(value) ? [...value] : value);
    }
  }
}

function setPath(target: Plain, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const child = node[key];
    if (isPlainObject(child)) {
      node = child;
    } else {
      const next: Plain = {};
      define(node, key, next);
      node = next;
    }
  }
  define(node, path[path.length - 1], value);
}

/** Plain assignment would let a `__proto__` key from a file reach the prototype. */
function define(target: Plain, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
