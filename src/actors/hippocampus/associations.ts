// Hebbian association learning (DESIGN §2 item 5; the reference never changed a weight after creation,
// spec §1.7). Two rules, both pure:
//
// Strengthen — memories recalled together are linked together, in both directions:
//   w ← w + η·(1 − w)            an existing link moves a share η of the way to 1 (never past it)
//   w ← w_new                    no link yet: a weak one is created
// Only the top few results take part (a long tail of weak matches was not really "recalled together"),
// and the number of pairs is bounded so one recall costs at most 2·maxPairs link writes.
//
// Weaken — a link not used fades slowly towards a floor:
//   w(Δ) = f + (w − f) · 2^(−Δ/h)      Δ = time since its last co-activation, h = halfLifeDays, f = min(w, floor)
// The excess over the floor halves every h days. Unused links should stop steering spreading activation
// (at the floor, 0.05·0.5 per hop stays under the 0.05 activation threshold, spec §4.5) but never
// disappear: an explicit link the user or consolidation made must stay navigable (recall.associate,
// recall.graph), so weakening never deletes and never goes below the floor; a link already lighter than
// the floor is left as it is. The rule is exponential because exponential decay is memoryless: applying
// it over Δ1 and then Δ2 gives exactly the result of Δ1 + Δ2, so it may be evaluated at read time from
// `last_co_activation` (the stored weight being the weight at that moment), or persisted by a periodic
// job that passes the time since its own previous run — either way the tick period does not matter
// (the same property DESIGN §2.1 demands of fidelity decay). Do not persist a weight weakened from
// `last_co_activation` without moving that timestamp, or the same interval is counted twice.
//
// Callers pass `existingEdge` the weight as it stands now (weakened), so strengthening starts from it.

export interface CoActivationOptions {
  /** η, share of the remaining distance to 1 gained per co-activation. Fraction, default 0.1, range 0..1. */
  learningRate: number;
  /** Weight of a link created by co-activation. Weight, default 0.1, range 0..1. */
  newEdgeWeight: number;
  /** Most unordered pairs considered per recall (each updates both directions). Pairs, default 10, range ≥ 0. */
  maxPairs: number;
}

export const defaultCoActivationOptions: Readonly<CoActivationOptions> = Object.freeze({
  learningRate: 0.1,
  newEdgeWeight: 0.1,
  maxPairs: 10,
});

export interface WeakeningOptions {
  /** Days for the excess over the floor to halve. Days, default 90, range > 0. */
  halfLifeDays: number;
  /** Weight below which weakening never goes. Weight, default 0.05, range 0..1. */
  floor: number;
}

export const defaultWeakeningOptions: Readonly<WeakeningOptions> = Object.freeze({
  halfLifeDays: 90,
  floor: 0.05,
});

export interface LinkUpdate {
  source_id: string;
  target_id: string;
  /** The new weight, 0..1. */
  weight: number;
  /** True when no link existed: the caller creates one (and chooses its association type). */
  created: boolean;
}

const DAY_MS = 86_400_000;

function clampWeight(weight: number): number {
  return Number.isNaN(weight) ? 0 : Math.min(1, Math.max(0, weight));
}

/**
 * The links to write after a recall returned `recalledIds` (best first). Pairs are taken in rank order —
 * (0,1), (0,2), (1,2), (0,3), (1,3), (2,3), … — until `maxPairs`, so the default 10 covers exactly the
 * top five results; each pair yields one update per direction, each direction from its own weight.
 * Duplicate ids count once, at their best rank.
 */
export function coActivationUpdates(
  recalledIds: string[],
  existingEdge: (sourceId: string, targetId: string) => { weight: number } | undefined,
  options: Partial<CoActivationOptions> = {},
): LinkUpdate[] {
  const { learningRate, newEdgeWeight, maxPairs } = { ...defaultCoActivationOptions, ...options };
  const eta = clampWeight(learningRate);
  const ids = [...new Set(recalledIds)];
  const updates: LinkUpdate[] = [];
  const strengthen = (source_id: string, target_id: string) => {
    const edge = existingEdge(source_id, target_id);
    if (edge === undefined) {
      updates.push({ source_id, target_id, weight: clampWeight(newEdgeWeight), created: true });
    } else {
      const w = clampWeight(edge.weight);
      updates.push({ source_id, target_id, weight: clampWeight(w + eta * (1 - w)), created: false });
    }
  };
  let pairs = 0;
  for (let j = 1; j < ids.length && pairs < maxPairs; j++) {
    for (let i = 0; i < j && pairs < maxPairs; i++, pairs++) {
      strengthen(ids[i], ids[j]);
      strengthen(ids[j], ids[i]);
    }
  }
  return updates;
}

/**
 * A link's weight `nowMs`, unused since `lastCoActivationMs`: the excess over the floor halves every
 * `halfLifeDays`; never below min(weight, floor). No time passed (or a future/unreadable timestamp)
 * leaves the weight as it is.
 */
export function weakenedWeight(weight: number, lastCoActivationMs: number, nowMs: number, options: Partial<WeakeningOptions> = {}): number {
  const { halfLifeDays, floor } = { ...defaultWeakeningOptions, ...options };
  const w = clampWeight(weight);
  const f = Math.min(w, clampWeight(floor));
  const days = (nowMs - lastCoActivationMs) / DAY_MS;
  if (!(days > 0) || !Number.isFinite(days)) return w;
  if (!(halfLifeDays > 0)) return f;
  return f + (w - f) * 2 ** (-days / halfLifeDays);
}
