// Spreading activation over the association graph (reference spec §4.5, ADR-004; DESIGN §2 item 4).
//
// From each source, activation flows along links: a neighbour receives
//
//   a = a_parent · weight · decayFactor
//
// and passes it on up to `depth` hops. A node keeps the best activation that reaches it, together with
// the path that carried it — the real path, source first, which recall reports as `activation_path`
// (the reference reported `[id]`, spec §4.4 step 9). Departures from the reference and why:
// - Several sources, each the root of its own paths, each with its own starting activation (recall
//   spreads from its best few hits, weighted by their scores). Sources are never entered again: their own
//   seed stands, and they are not part of the result.
// - The reference kept only the best activation per node, so a strong path that arrived late (deeper)
//   could discard a shallower, weaker one that still had hops left, and what was reached beyond it
//   depended on neighbour order. Here a node keeps every arrival not beaten on both activation and depth,
//   so the result is the best over all simple paths within `depth`, independent of neighbour order.
// - Ties are broken by a fixed order (higher activation, then fewer hops, then the smaller path compared
//   id by id), so the same graph always yields the same paths and the same result order.
// Pure: the graph is read through `neighbours`, which should list links in both directions when the
// caller wants associations navigable both ways (DESIGN §2 item 5).

export interface ActivationOptions {
  /** Hops from a source. Hops, default 2, range ≥ 0 (0 activates nothing). */
  depth: number;
  /** Share of activation kept per hop. Fraction, default 0.5, range 0..1. */
  decayFactor: number;
  /** Activation below which a node is neither reported nor expanded. Fraction, default 0.05, range 0..1. */
  threshold: number;
  /** Links lighter than this are not followed. Weight, default 0.05, range 0..1. */
  minWeight: number;
}

/** Spec §4.5 constants; recall takes depth and minWeight from its request (§4.4 step 5). */
export const defaultActivationOptions: Readonly<ActivationOptions> = Object.freeze({
  depth: 2,
  decayFactor: 0.5,
  threshold: 0.05,
  minWeight: 0.05,
});

export interface ActivationSource {
  id: string;
  /** Starting activation: 1 for a single source, or the source's normalised recall score. */
  activation: number;
}

export interface Neighbour {
  id: string;
  /** Link weight, 0..1 (larger values are read as 1). */
  weight: number;
}

export interface Activated {
  activation: number;
  /** [source, …, this node]: the path that carried `activation`. */
  path: string[];
}

interface Label extends Activated {
  depth: number;
  alive: boolean;
}

/** Path order: element by element by UTF-16 code units (not locale), then shorter first. */
function comparePaths(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length - b.length;
}

/** The fixed preference order: higher activation, then fewer hops, then the smaller path. */
function compareLabels(a: Label, b: Label): number {
  if (a.activation !== b.activation) return b.activation - a.activation;
  if (a.depth !== b.depth) return a.depth - b.depth;
  return comparePaths(a.path, b.path);
}

/** `a` makes `b` useless: at least as strong, no deeper, and preferred. */
function dominates(a: Label, b: Label): boolean {
  return a.activation >= b.activation && a.depth <= b.depth && compareLabels(a, b) <= 0;
}

/**
 * Activation reached from `sources` over `neighbours`, keyed by node id, in descending activation (ties
 * by id). Sources are excluded; every path starts at the source it came from.
 */
export function spreadActivation(sources: ActivationSource[], neighbours: (id: string) => Neighbour[], options: Partial<ActivationOptions> = {}): Map<string, Activated> {
  const { depth, decayFactor, threshold, minWeight } = { ...defaultActivationOptions, ...options };
  const seeds = new Map<string, number>();
  for (const { id, activation } of sources) {
    if (!(activation > 0) || !Number.isFinite(activation)) continue;
    seeds.set(id, Math.max(activation, seeds.get(id) ?? 0));
  }
  const queue: Label[] = [...seeds].map(([id, activation]): Label => ({ activation, path: [id], depth: 0, alive: true })).sort(compareLabels);
  const labels = new Map<string, Label[]>();

  // FIFO, so labels are expanded depth by depth; a label can only be dominated by one of equal or
  // smaller depth, found while the previous depth is expanded, so no label dies after its expansion.
  for (let head = 0; head < queue.length; head++) {
    const label = queue[head];
    if (!label.alive || label.depth >= depth) continue;
    const onPath = new Set(label.path);
    for (const neighbour of neighbours(label.path[label.path.length - 1])) {
      if (seeds.has(neighbour.id) || onPath.has(neighbour.id)) continue;
      const weight = Math.min(1, neighbour.weight);
      if (!(weight >= minWeight)) continue;
      const activation = label.activation * weight * decayFactor;
      if (!(activation >= threshold)) continue;
      const candidate: Label = { activation, path: [...label.path, neighbour.id], depth: label.depth + 1, alive: true };
      const existing = labels.get(neighbour.id) ?? [];
      if (existing.some((other) => dominates(other, candidate))) continue;
      for (const other of existing) if (dominates(candidate, other)) other.alive = false;
      labels.set(neighbour.id, [...existing.filter((other) => other.alive), candidate]);
      queue.push(candidate);
    }
  }

  const best: [string, Label][] = [];
  for (const [id, arrivals] of labels) best.push([id, arrivals.reduce((a, b) => (compareLabels(a, b) <= 0 ? a : b))]);
  best.sort(([idA, a], [idB, b]) => b.activation - a.activation || (idA < idB ? -1 : idA > idB ? 1 : 0));
  return new Map(best.map(([id, { activation, path }]) => [id, { activation, path }]));
}
