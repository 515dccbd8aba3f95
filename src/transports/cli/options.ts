import { InvalidArgumentError } from 'commander';
import { loadConfig, type CerememoryConfig, type PartialDeep } from '../../runtime/config/index.js';
import type { CmpObject } from '../endpoint.js';

// The global options every command shares, and the parsers of option values (commander calls them; a
// bad value becomes InvalidArgumentError, which commander prints with the option's name).

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
  serverUrl?: string;
  apiKey?: string;
  json?: boolean;
  space?: string;
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected a whole number in ${min}..${max}`);
    return parsed;
  };
}
export const port = integer(0, 65535);

export function number(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new InvalidArgumentError('expected a number');
  return parsed;
}

export const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

export function jsonArgument(value: string): CmpObject {
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return parsed as CmpObject;
  } catch (error) {
    throw new InvalidArgumentError(`invalid JSON: ${(error as Error).message}`);
  }
}

/** The configuration with the global options applied (`--config`, `--data-dir`) under `flags`. */
export function configFrom(globals: GlobalOptions, flags: PartialDeep<CerememoryConfig> = {}): CerememoryConfig {
  return loadConfig({
    file: globals.config,
    flags: { ...flags, ...(globals.dataDir === undefined ? {} : { data_dir: globals.dataDir }) },
  });
}
