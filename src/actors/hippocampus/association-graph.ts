import type { StoreType } from '../../cmp/types.js';
import type { RegistryEntry } from '../store/protocol.js';

// The hippocampus's map of curated memory (spec §2.8): which store holds each record, and its
// outgoing associations with an inbound index so links are navigable both ways (DESIGN §2.5) and a
// deletion finds every record that points at it without a scan. Derived data: rebuilt from the stores
// at start and after a store restarts.

interface Node {
  store: StoreType;
  out: RegistryEntry['associations'];
}

interface SpaceGraph {
  nodes: Map<string, Node>;
  inbound: Map<string, Set<string>>;
  /** session → its newest record (id, created_at): the record a new one of the session follows. */
  sessions: Map<string, { id: string; created_at: string }>;
  /** Records per store. */
  counts: Map<StoreType, number>;
}

export class AssociationGraph {
  readonly #spaces = new Map<string, SpaceGraph>();

  #space(space: string): SpaceGraph {
    let graph = this.#spaces.get(space);
    if (!graph) this.#spaces.set(space, (graph = { nodes: new Map(), inbound: new Map(), sessions: new Map(), counts: new Map() }));
    return graph;
  }

  upsert(space: string, store: StoreType, entry: RegistryEntry): void {
    const graph = this.#space(space);
    this.#unlinkOutgoing(graph, entry.id);
    const before = graph.nodes.get(entry.id)?.store;
    if (before !== undefined) graph.counts.set(before, (graph.counts.get(before) ?? 1) - 1);
    graph.counts.set(store, (graph.counts.get(store) ?? 0) + 1);
    graph.nodes.set(entry.id, { store, out: entry.associations });
    if (entry.session !== undefined) {
      const newest = graph.sessions.get(entry.session);
      if (!newest || newest.created_at < entry.created_at || (newest.created_at === entry.created_at && newest.id < entry.id)) {
        graph.sessions.set(entry.session, { id: entry.id, created_at: entry.created_at });
      }
    }
    for (const { target_id } of entry.associations) {
      let sources = graph.inbound.get(target_id);
      if (!sources) graph.inbound.set(target_id, (sources = new Set()));
      sources.add(entry.id);
    }
  }

  /** Forgets a record; edges that point at it stay until the stores strip them (see `sourcesOf`). */
  remove(space: string, id: string): void {
    const graph = this.#spaces.get(space);
    if (!graph) return;
    this.#unlinkOutgoing(graph, id);
    const store = graph.nodes.get(id)?.store;
    if (store !== undefined) graph.counts.set(store, (graph.counts.get(store) ?? 1) - 1);
    graph.nodes.delete(id);
  }

  #unlinkOutgoing(graph: SpaceGraph, id: string): void {
    const node = graph.nodes.get(id);
    if (!node) return;
    for (const { target_id } of node.out) {
      const sources = graph.inbound.get(target_id);
      sources?.delete(id);
      if (sources?.size === 0) graph.inbound.delete(target_id);
    }
  }

  /** Replaces everything known of one store with a fresh dump of it (start, or after a restart). */
  load(store: StoreType, dump: Record<string, RegistryEntry[]>): void {
    for (const [space, graph] of this.#spaces) {
      for (const [id, node] of graph.nodes) if (node.store === store) this.remove(space, id);
    }
    for (const [space, entries] of Object.entries(dump)) for (const entry of entries) this.upsert(space, store, entry);
  }

  /** The newest record of a session still held, if any. */
  lastInSession(space: string, session: string): string | undefined {
    const graph = this.#spaces.get(space);
    const newest = graph?.sessions.get(session);
    return newest && graph!.nodes.has(newest.id) ? newest.id : undefined;
  }

  storeOf(space: string, id: string): StoreType | undefined {
    return this.#spaces.get(space)?.nodes.get(id)?.store;
  }

  outgoing(space: string, id: string): RegistryEntry['associations'] {
    return this.#spaces.get(space)?.nodes.get(id)?.out ?? [];
  }

  /** Records (other than the targets themselves) with an edge to any of `targets`, grouped by store. */
  sourcesOf(space: string, targets: Iterable<string>): Map<StoreType, string[]> {
    const graph = this.#spaces.get(space);
    const grouped = new Map<StoreType, string[]>();
    if (!graph) return grouped;
    const targetSet = new Set(targets);
    const seen = new Set<string>();
    for (const target of targetSet) {
      for (const source of graph.inbound.get(target) ?? []) {
        if (targetSet.has(source) || seen.has(source)) continue;
        seen.add(source);
        const store = graph.nodes.get(source)?.store;
        if (!store) continue;
        const sources = grouped.get(store);
        if (sources) sources.push(source);
        else grouped.set(store, [source]);
      }
    }
    return grouped;
  }

  /** Records of the space a store holds. */
  countIn(space: string, store: StoreType): number {
    return this.#spaces.get(space)?.counts.get(store) ?? 0;
  }

  /** Every space the graph knows. */
  spaces(): string[] {
    return [...this.#spaces.keys()];
  }

  /** Whether a store holds any record of the space (recall skips stores that hold none). */
  holdsAny(space: string, store: StoreType): boolean {
    return (this.#spaces.get(space)?.counts.get(store) ?? 0) > 0;
  }

  /** All ids of a space held by one store. */
  idsIn(space: string, store: StoreType): string[] {
    const graph = this.#spaces.get(space);
    if (!graph) return [];
    return [...graph.nodes].filter(([, node]) => node.store === store).map(([id]) => id);
  }

  /**
   * Links of a record in both directions (DESIGN §2 item 5: associations are navigable both ways):
   * its own outgoing edges and the edges other records have to it, each with its weight. Where both
   * directions exist the stronger weight counts.
   */
  neighbours(space: string, id: string): { id: string; weight: number; type: string }[] {
    const graph = this.#spaces.get(space);
    if (!graph) return [];
    const found = new Map<string, { id: string; weight: number; type: string }>();
    const offer = (target: string, weight: number, type: string) => {
      const existing = found.get(target);
      if (!existing || existing.weight < weight) found.set(target, { id: target, weight, type });
    };
    for (const edge of graph.nodes.get(id)?.out ?? []) offer(edge.target_id, edge.weight, edge.association_type);
    for (const source of graph.inbound.get(id) ?? []) {
      for (const edge of graph.nodes.get(source)?.out ?? []) if (edge.target_id === id) offer(source, edge.weight, edge.association_type);
    }
    return [...found.values()];
  }

  /** The weight of the strongest edge from `source` to `target`, if any. */
  edge(space: string, source: string, target: string): { weight: number; type: string } | undefined {
    let best: { weight: number; type: string } | undefined;
    for (const edge of this.#spaces.get(space)?.nodes.get(source)?.out ?? []) {
      if (edge.target_id === target && (!best || edge.weight > best.weight)) best = { weight: edge.weight, type: edge.association_type };
    }
    return best;
  }

  totalAssociations(space: string): number {
    let total = 0;
    for (const node of this.#spaces.get(space)?.nodes.values() ?? []) total += node.out.length;
    return total;
  }
}
