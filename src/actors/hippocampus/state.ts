import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RecallMode } from '../../cmp/operations.js';
import type { StoreType } from '../../cmp/types.js';
import type { EvolutionState } from './evolution.js';

// The hippocampus's own small state, kept in one JSON file beside the store partitions and replaced
// atomically (write a temporary file, rename): the recall mode of lifecycle.set_mode and the evolution
// engine's learned parameters, both of which the reference lost at every restart (spec §3.14, §4.8).
// A missing or unreadable file means the defaults.

export interface PersistedState {
  version: 1;
  /** The mode of every store not named in `store_modes`. */
  mode: RecallMode;
  /** Stores set apart by a scoped set_mode. */
  store_modes?: Partial<Record<StoreType, RecallMode>>;
  evolution?: EvolutionState;
}

const defaults: PersistedState = { version: 1, mode: 'human' };

export class HippocampusState {
  readonly #path: string | null;
  #current: PersistedState;

  constructor(path: string | null) {
    this.#path = path;
    this.#current = path === null ? { ...defaults } : load(path);
  }

  read(): PersistedState {
    return this.#current;
  }

  write(next: PersistedState): void {
    this.#current = next;
    if (this.#path === null) return;
    mkdirSync(dirname(this.#path), { recursive: true });
    writeFileSync(`${this.#path}.tmp`, JSON.stringify(next) + '\n');
    renameSync(`${this.#path}.tmp`, this.#path);
  }
}

function load(path: string): PersistedState {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<PersistedState>;
    const state: PersistedState = { ...defaults, mode: parsed.mode === 'perfect' ? 'perfect' : 'human' };
    if (parsed.store_modes && typeof parsed.store_modes === 'object') state.store_modes = parsed.store_modes;
    if (parsed.evolution?.version === 1) state.evolution = parsed.evolution;
    return state;
  } catch {
    return { ...defaults };
  }
}
