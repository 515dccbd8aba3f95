// The problems of one load as ConfigIssues: zod's issues and the cross-field rules' (rules.ts) worded
// for a person, each naming the key path and the source of the value, with "did you mean" for unknown keys.

import { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { ENV_PREFIX } from './sources.js';
import { schemaAt, type Path } from './schema.js';
import { decayShape } from './stores.js';

export interface RawIssue {
  path: Path;
  /** A function when the wording depends on the source (env hints name the variable to use). */
  message: string | ((source: string) => string);
  /** Whose source to cite when it differs from `path` (e.g. the `provider` that made `base_url` required). */
  sourcePath?: Path;
}

/** Values never echoed in error messages. */
export const SECRET_PATHS = ['auth.api_keys', 'embedding.api_key', 'llm.api_key', 'security.store_encryption_passphrase'];

export function fromZodIssue(issue: z.core.$ZodIssue): RawIssue[] {
  const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: [...path, key],
      message: (source: string) => unknownKeyMessage(path, key, source.startsWith('env ')),
    }));
  }
  const dotted = path.join('.');
  const secret = SECRET_PATHS.some((p) => dotted === p || dotted.startsWith(`${p}.`));
  const got = issue.input === undefined ? 'got nothing' : secret ? 'got a value that is not shown' : `got ${show(issue.input)}`;
  return [{ path, message: `${issue.message}, ${got}` }];
}

function unknownKeyMessage(parent: Path, key: string, fromEnv: boolean): string {
  if (parent.join('.') === 'stores.raw_journal' && key in decayShape) {
    return `unknown key "${key}" (the raw journal never decays, so it has no decay settings)`;
  }
  const hint = suggestKey(parent, key);
  if (hint === undefined) return `unknown key "${key}"`;
  const spelled = fromEnv ? ENV_PREFIX + hint.map(String).join('__').toUpperCase() : hint.join('.');
  return `unknown key "${key}" (did you mean ${spelled}?)`;
}

/**
 * A near-miss sibling, or a single `_` that should have been a level separator (`http_port` → `http.port`).
 */
function suggestKey(parent: Path, key: string): Path | undefined {
  const here = schemaAt(parent);
  if (!(here instanceof z.ZodObject)) return undefined;
  const siblings = Object.keys(here.shape);
  const near = siblings.find((sibling) => editDistance(sibling, key) <= 2);
  if (near !== undefined) return [...parent, near];
  for (let i = key.indexOf('_'); i > 0; i = key.indexOf('_', i + 1)) {
    const split = [...parent, key.slice(0, i), key.slice(i + 1)];
    if (schemaAt(split) !== undefined) return split;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? String(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function toConfigIssue(issue: RawIssue, provenance: Map<string, string>): ConfigIssue {
  const source = sourceOf((issue.sourcePath ?? issue.path).join('.'), provenance);
  const message = typeof issue.message === 'function' ? issue.message(source) : issue.message;
  return { path: issue.path.join('.'), source, message };
}

/**
 * The source of a path: its own entry, else the last source that set something under it, else its nearest
 * ancestor's.
 */
function sourceOf(path: string, provenance: Map<string, string>): string {
  const own = provenance.get(path);
  if (own !== undefined) return own;
  let below: string | undefined;
  for (const [key, source] of provenance) if (key.startsWith(`${path}.`)) below = source;
  if (below !== undefined) return below;
  for (let cut = path.lastIndexOf('.'); cut > 0; cut = path.lastIndexOf('.', cut - 1)) {
    const ancestor = provenance.get(path.slice(0, cut));
    if (ancestor !== undefined) return ancestor;
  }
  return 'defaults';
}
