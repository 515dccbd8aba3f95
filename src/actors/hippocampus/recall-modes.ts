import type { RecallMode } from '../../cmp/operations.js';
import type { StoreType } from '../../cmp/types.js';
import type { HippocampusState } from './state.js';

// The recall mode of each store (lifecycle.set_mode, spec §3.14), kept in the hippocampus state file
// (state.ts) so it survives a restart, which the reference's did not.

export class RecallModes {
  readonly #state: HippocampusState;

  constructor(state: HippocampusState) {
    this.#state = state;
  }

  /** The mode of every store not set apart by a scoped set_mode. */
  get mode(): RecallMode {
    return this.#state.read().mode;
  }

  /** The recall mode of one store: perfect forces byte-exact rendering whatever a request asks. */
  modeOf(store: StoreType): RecallMode {
    return this.#state.read().store_modes?.[store] ?? this.mode;
  }

  /** Unlike the reference, `scope` is honoured: only those stores change. No scope: every store. */
  set(mode: RecallMode, scope: StoreType[] | null): void {
    const state = this.#state.read();
    if (scope === null || scope.length === 0) {
      this.#state.write({ ...state, mode, store_modes: {} });
      return;
    }
    const store_modes = { ...state.store_modes };
    for (const store of scope) store_modes[store] = mode;
    this.#state.write({ ...state, store_modes });
  }
}
