import { STORE_TYPES, type StoreType } from '../../cmp/types.js';
import { defaultDecayParams, type DecayParams } from '../store/decay.js';
import { createEvolutionState, currentParams, evaluate, observeDecayTick, observeRecall, rebaseEvolution, type EvolutionMetrics, type EvolutionState } from './evolution.js';
import type { HippocampusState } from './state.js';

// The evolution engine's live state (spec §4.8, DESIGN §2 item 7) and its persistence: the parameters
// every store runs with now, the observations that move them (recalls, decay ticks), and when they are
// saved to the hippocampus state file (state.ts). evolution.ts decides; this file keeps and saves.

export interface EvolutionKeeperOptions {
  state: HippocampusState;
  /** Each store's configured baseline (decay exponent, stability, prune threshold). */
  configured: Record<StoreType, { decay_rate: number; stability: number; prune_threshold: number }>;
  now: () => number;
  log: (line: string) => void;
}

/** The evolution engine as recall sees it: the live retrieval boost, and how full an answer was (rule 2). */
export interface RecallEvolution {
  retrievalBoost(store: StoreType): number;
  observeRecall(store: StoreType, hitRate: number): void;
}

/** Recalls are many: after one, the learned state is saved at most this often, ms. */
const RECALL_SAVE_INTERVAL_MS = 5000;

export class EvolutionKeeper implements RecallEvolution {
  readonly #state: HippocampusState;
  readonly #now: () => number;
  readonly #log: (line: string) => void;
  #evolution: EvolutionState;
  #savedAt = 0;

  constructor(options: EvolutionKeeperOptions) {
    this.#state = options.state;
    this.#now = options.now;
    this.#log = options.log;
    const configured = createEvolutionState(
      Object.fromEntries(
        STORE_TYPES.map((store) => [
          store,
          {
            decay_exponent: options.configured[store].decay_rate,
            initial_stability_secs: options.configured[store].stability,
            prune_threshold: options.configured[store].prune_threshold,
            retrieval_boost: defaultDecayParams[store].retrieval_boost,
          },
        ]),
      ),
    );
    // Learned parameters survive a restart, store by store, unless the configuration changed that
    // store's baseline: then the new configuration is where it starts again (issue 18, the restart bug).
    this.#evolution = rebaseEvolution(this.#state.read().evolution, configured);
  }

  /** The live parameters of `store`. */
  params(store: StoreType): DecayParams {
    return currentParams(this.#evolution, store);
  }

  retrievalBoost(store: StoreType): number {
    return this.params(store).retrieval_boost;
  }

  /** How full a recall's answer was (spec §4.8 rule 2). Saved later, never inside the recall. */
  observeRecall(store: StoreType, hitRate: number): void {
    this.#observe((state) => observeRecall(state, store, hitRate));
  }

  /** The fidelity histograms a decay tick found, per store; saved at once (ticks are rare). */
  observeDecayTick(histograms: [StoreType, readonly number[]][]): void {
    this.#observe((state) => histograms.reduce((next, [store, histogram]) => observeDecayTick(next, store, histogram), state), true);
  }

  get metrics(): EvolutionMetrics {
    return this.#evolution.metrics;
  }

  /** introspect.evolution (spec §3.21), with the live parameters of every store. */
  report(): EvolutionMetrics & { current_parameters: Record<string, unknown> } {
    return {
      ...this.#evolution.metrics,
      current_parameters: Object.fromEntries(STORE_TYPES.map((store) => [store, this.params(store)])),
    };
  }

  /** Writes the learned state to the state file; throws what the file system throws. */
  save(): void {
    this.#savedAt = this.#now();
    this.#state.write({ ...this.#state.read(), evolution: this.#evolution });
  }

  /** `save`, with a failure logged, not thrown: a full disk must not fail a recall or stop a shutdown (issue 14, defect 7). */
  saveQuietly(): void {
    try {
      this.save();
    } catch (error) {
      this.#log(`hippocampus state not saved (kept in memory, saved again later): ${String(error)}`);
    }
  }

  /** Re-evaluates after an observation; the adjusted parameters are live at once (DESIGN §2 item 7). */
  #observe(observation: (state: EvolutionState) => EvolutionState, saveNow = false): void {
    this.#evolution = evaluate(observation(this.#evolution)).state;
    if (saveNow) this.saveQuietly();
    else if (this.#now() - this.#savedAt > RECALL_SAVE_INTERVAL_MS) {
      // After the answer, and never its failure: a recall is a read, and learned parameters missing
      // a save cost nothing a later save does not restore.
      this.#savedAt = this.#now();
      setImmediate(() => this.saveQuietly());
    }
  }
}
