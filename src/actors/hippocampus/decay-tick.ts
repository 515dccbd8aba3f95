import { toTimestamp } from '../../cmp/ids.js';
import type { RequestBase } from '../../cmp/operations.js';
import { PERSISTENT_STORES, type StoreType } from '../../cmp/types.js';
import type { DecayOutcome } from '../store/protocol.js';
import type { EvolutionKeeper } from './evolution-keeper.js';
import type { Ledger } from './ledger.js';

// lifecycle.decay_tick (spec §3.13, §4.2 with closed-form decay): every persistent store moves its
// records' tick clock, in its own worker, and deletes those below its (evolved) prune threshold; the
// links that pointed at them are stripped after. Working memory never decays.

export interface DecayTickResponse {
  records_updated: number;
  records_below_threshold: number;
  records_pruned: number;
}

export interface DecayTickContext {
  ledger: Ledger;
  evolution: EvolutionKeeper;
  now: () => number;
}

export async function decayTick({ ledger, evolution, now }: DecayTickContext, request: RequestBase & { tick_duration_seconds: number }): Promise<DecayTickResponse> {
  const { space } = request;
  const at = toTimestamp(now());
  const outcomes: [StoreType, DecayOutcome][] = [];
  // One store after another (issue 4): on two cores, four workers ticking at once left recall no core,
  // and a recall waits for every store. One at a time, a recall meets at most one busy worker, which
  // answers between the steps of its tick; the tick takes the sum of the stores' times, well under 1 s
  // at 100,000 records.
  for (const store of PERSISTENT_STORES) {
    const outcome = await ledger.decay(space, store, {
      at,
      tick_duration_secs: request.tick_duration_seconds,
      prune_threshold: evolution.params(store).prune_threshold,
    });
    outcomes.push([store, outcome]);
  }
  evolution.observeDecayTick(outcomes.map(([store, outcome]) => [store, outcome.fidelity_histogram]));
  const pruned = outcomes.flatMap(([, outcome]) => outcome.pruned);
  if (pruned.length > 0) await ledger.cleanUpAfterRemoval(space, pruned, at);
  return {
    records_updated: outcomes.reduce((sum, [, outcome]) => sum + outcome.updated, 0),
    records_below_threshold: outcomes.reduce((sum, [, outcome]) => sum + outcome.below_threshold, 0),
    records_pruned: pruned.length,
  };
}
