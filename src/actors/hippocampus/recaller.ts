import { CmpError, isCmpError } from '../../cmp/errors.js';
import type {
  GraphEdge,
  GraphNode,
  RecallAssociateRequest,
  RecallAssociateResponse,
  RecallGraphRequest,
  RecallGraphResponse,
  RecallQueryRequest,
  RecallQueryResponse,
  RecallRawQueryRequest,
  RecallRawQueryResponse,
  RecalledMemory,
  RecallTimelineRequest,
  TimelineBucket,
} from '../../cmp/operations.js';
import { toTimestamp } from '../../cmp/ids.js';
import { PERSISTENT_STORES, STORE_TYPES, type MemoryRecord, type MetaEdge, type StoreType } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import { fidelityNow } from '../store/decay.js';
import { sessionOf, type Stores } from '../store/protocol.js';
import { spreadActivation } from './activation.js';
import type { AssociationGraph } from './association-graph.js';
import { cueVectors } from './cue-vectors.js';
import { rawQuery } from './raw-query.js';
import {
  ACTIVATED_PER_RESULT,
  defaultRecallScoring,
  mostActivated,
  emotionalCongruence,
  matchScores,
  modulation,
  preselect,
  sessionSupport,
  withSessionNeighbours,
  type Candidate,
  type RecallScoring,
  type ScoringContext,
} from './recall.js';
import { writeBack } from './recall-write-back.js';
import { nodeSummary, renderHuman } from './render.js';
import { groupBy } from './group-by.js';
import { groupIntoBuckets } from './timeline.js';
import type { RecallEvolution } from './evolution-keeper.js';
import type { Ledger } from './ledger.js';

// The recall operations of the hippocampus (spec §3.6–§3.10): fan out to the stores in parallel,
// fuse and score in recall.ts, spread activation over the association graph, then write back what
// recall changes (reconsolidation, Hebbian links) without making the caller wait for those writes.
// One recall in 8 files, no callback into a caller (docs/recall-path.md): rest/app.ts → operations.ts →
// coordinator.ts → here → ledger.ts (write-back) → supervised-store.ts → store/worker.ts → store-core.ts.

export interface RecallerOptions {
  stores: Stores;
  graph: AssociationGraph;
  embedder: Embedder;
  now: () => number;
  /** Where recall's write-back goes (reconsolidation, Hebbian links): sequence numbers, graph upkeep. */
  ledger: Pick<Ledger, 'apply'>;
  /** The stores' recall modes (lifecycle.set_mode); 'perfect' overrides a request's 'human'. */
  modes: { modeOf(store: StoreType): 'human' | 'perfect' };
  /** What recall learns from and feeds: the evolution keeper (spec §4.8). */
  evolution: RecallEvolution;
  activation: { decayFactor: number; threshold: number };
  /** Scoring knobs over defaultRecallScoring (recall.ts), e.g. from the `[recall]` configuration. */
  scoring?: Partial<RecallScoring>;
  log: (line: string) => void;
}

/** How many memories per requested one are loaded after the first, ids-only phase of a recall. */
const PRELOAD_FACTOR = 3;
/** How many memories holding every cue word each store reads for their word order (phrase_hits). */
const PHRASE_CANDIDATES = 100;
const byRelevance = (a: RecalledMemory, b: RecalledMemory) => b.relevance_score - a.relevance_score || (a.record.id < b.record.id ? -1 : 1);

export class Recaller {
  readonly #o: RecallerOptions;
  readonly #s: RecallScoring;

  constructor(options: RecallerOptions) {
    this.#o = options;
    this.#s = { ...defaultRecallScoring, ...options.scoring };
  }

  #fidelityOf = (record: MemoryRecord) => fidelityNow(record.fidelity, record.emotion.intensity, this.#o.now());

  // ── recall.query ──────────────────────────────────────────────────────────────────────────────

  async query(request: RecallQueryRequest): Promise<RecallQueryResponse> {
    const { space, cue, limit } = request;
    if (cue.image !== null || cue.audio !== null) {
      throw new CmpError('MODALITY_UNSUPPORTED', `${cue.image !== null ? 'Image' : 'Audio'} recall requires a configured provider`, {
        field: cue.image !== null ? 'cue.image' : 'cue.audio',
      });
    }
    const nowMs = this.#o.now();
    const stores = request.stores ? [...new Set(request.stores)] : [...STORE_TYPES];
    const strategies: string[] = [];
    const { vectors, minSimilarity } = await cueVectors(this.#o.embedder, cue, this.#s);
    const candidates = new Map<string, Candidate>();
    const unavailable: StoreType[] = [];
    let scanned = 0;

    let truncated = 0;
    const prefetched = new Map<string, MemoryRecord>();
    if (cue.text !== null || vectors.length > 0) {
      if (cue.text !== null) strategies.push('text');
      if (vectors.length > 0) strategies.push('vector');
      const k = Math.max(limit * 2, 10);
      // Two phases: the stores answer with scored ids only; the best ids by match score are then loaded
      // (shipping and parsing every hit's record was most of a recall's time): PRELOAD_FACTOR × limit by
      // match, and those holding the cue word for word, whom the phrase boost lifts (recall.ts). Stores
      // holding nothing in this space are not asked (the graph counts every store's records).
      const holding = stores.filter((store) => this.#o.graph.holdsAny(space, store));
      const neighbourWeight = this.#s.sessionNeighbourWeight;
      const near = this.#s.turnContext;
      const textK = neighbourWeight > 0 || near > 0 ? Math.max(k, this.#s.neighbourTextHits) : k;
      const context = near > 0 ? { near, far: near / 2 } : undefined;
      const phraseCandidates = this.#s.phraseBoost > 0 ? PHRASE_CANDIDATES : 0;
      const results = await this.#fanOut(holding, unavailable, (store) =>
        this.#o.stores[store].search(space, { text: cue.text, vectors, k, textK, context, minSimilarity, withRecords: false, phraseCandidates }),
      );
      const hits = new Map<string, { text?: number; vector?: number }>();
      const textScores = new Map<string, number>();
      const inOrder = new Set<string>();
      for (const result of results) {
        for (const hit of result.phrase_hits ?? []) inOrder.add(hit.id);
        for (const hit of result.text_hits) textScores.set(hit.id, Math.max(textScores.get(hit.id) ?? 0, hit.score));
        for (const hit of result.vector_hits) hits.set(hit.id, { ...hits.get(hit.id), vector: Math.max(hits.get(hit.id)?.vector ?? 0, hit.similarity) });
      }
      const sessionNeighbours = (id: string) =>
        this.#o.graph
          .neighbours(space, id)
          .filter((edge) => edge.type === 'temporal')
          .map((edge) => edge.id);
      for (const [id, text] of withSessionNeighbours(textScores, sessionNeighbours, neighbourWeight)) hits.set(id, { ...hits.get(id), text });
      scanned += hits.size;
      const fusion = { cueHasText: cue.text !== null, cueHasVector: vectors.length > 0, scoring: this.#s };
      const chosen = preselect(hits, fusion, Math.max(limit * PRELOAD_FACTOR, 30));
      const chosenIds = new Set(chosen.map(([id]) => id));
      const phrased = new Map([...inOrder].filter((id) => hits.has(id) && !chosenIds.has(id)).map((id) => [id, hits.get(id)!]));
      for (const entry of preselect(phrased, fusion, limit * PRELOAD_FACTOR)) {
        chosen.push(entry);
        chosenIds.add(entry[0]);
      }
      truncated = hits.size - chosen.length;
      // Prefetch what activation will most likely reach from the best hits, in the same round trip.
      const speculative =
        request.activation_depth > 0
          ? mostActivated(
              spreadActivation(
                chosen.slice(0, this.#s.activationSources).map(([id]) => ({ id, activation: 1 })),
                (id) => this.#o.graph.neighbours(space, id),
                { depth: request.activation_depth, decayFactor: this.#o.activation.decayFactor, threshold: this.#o.activation.threshold, minWeight: 0.05 },
              ).keys(),
              (id) => chosenIds.has(id),
              limit * ACTIVATED_PER_RESULT,
            )
          : [];
      const loaded = await this.#load(space, [...chosenIds, ...speculative], unavailable);
      for (const [id, record] of loaded) prefetched.set(id, record);
      for (const [id, hit] of chosen) {
        const record = loaded.get(id);
        if (!record) continue;
        const candidate: Candidate = { record };
        if (hit.text !== undefined) candidate.text = hit.text;
        if (hit.vector !== undefined) candidate.vector = hit.vector;
        candidates.set(id, candidate);
      }
    }
    if (cue.temporal) {
      strategies.push('temporal');
      const start = Date.parse(cue.temporal.start);
      const end = Date.parse(cue.temporal.end);
      const found = await this.#fanOut(stores, unavailable, (store) => this.#o.stores[store].createdBetween(space, start, end, 10_000));
      for (const record of found.flat()) {
        scanned += 1;
        const existing = candidates.get(record.id);
        if (existing) existing.temporal = true;
        else candidates.set(record.id, { record, temporal: true });
      }
    }
    if (strategies.length === 0) return this.#recent(request, stores, nowMs);
    if (unavailable.length === stores.length) {
      throw new CmpError('STORE_UNAVAILABLE', 'no store could be searched; retry shortly', { retryAfter: 1 });
    }

    // Filters before scoring: temporal range (when given, it bounds every path) and fidelity.
    let fidelityFiltered = 0;
    const passes = (record: MemoryRecord) => {
      if (!stores.includes(record.store)) return false;
      if (cue.temporal) {
        const created = Date.parse(record.created_at);
        if (created < Date.parse(cue.temporal.start) || created > Date.parse(cue.temporal.end)) return false;
      }
      if (request.min_fidelity !== null && !request.include_decayed && this.#fidelityOf(record) < request.min_fidelity) {
        fidelityFiltered += 1;
        return false;
      }
      return true;
    };
    const direct = [...candidates.values()].filter((candidate) => passes(candidate.record));

    const context: ScoringContext = {
      nowMs,
      fidelityOf: this.#fidelityOf,
      cueHasText: cue.text !== null,
      cueHasVector: vectors.length > 0,
      cueText: cue.text,
      cueEmotion: cue.emotion,
      scoring: this.#s,
    };
    const matches = matchScores(direct, context);
    const scored = new Map<string, RecalledMemory>();
    for (const candidate of direct) {
      const relevance = (matches.get(candidate.record.id) ?? 0) * modulation(candidate.record, context);
      if (relevance <= 0) continue;
      scored.set(candidate.record.id, { record: candidate.record, relevance_score: relevance, activation_path: null, rendered_content: candidate.record.content });
    }

    // Spreading activation from the strongest direct hits, over links in both directions.
    if (request.activation_depth > 0 && scored.size > 0) {
      strategies.push('activation');
      const top = [...scored.values()].sort(byRelevance).slice(0, this.#s.activationSources);
      const best = top[0].relevance_score;
      const activated = spreadActivation(
        top.map((memory) => ({ id: memory.record.id, activation: memory.relevance_score / best })),
        (id) => this.#o.graph.neighbours(space, id),
        { depth: request.activation_depth, decayFactor: this.#o.activation.decayFactor, threshold: this.#o.activation.threshold, minWeight: 0.05 },
      );
      const considered = new Set(mostActivated(activated.keys(), (id) => scored.has(id), limit * ACTIVATED_PER_RESULT));
      const missing = [...considered].filter((id) => !prefetched.has(id));
      const loaded = missing.length > 0 ? await this.#load(space, missing, unavailable) : new Map<string, MemoryRecord>();
      for (const [id, record] of prefetched) if (!loaded.has(id)) loaded.set(id, record);
      for (const [id, { activation, path }] of activated) {
        const existing = scored.get(id);
        if (existing) {
          existing.relevance_score += this.#s.activationBoost * activation;
          existing.activation_path = path;
          continue;
        }
        if (!considered.has(id)) continue;
        const record = loaded.get(id);
        if (!record || !passes(record)) continue;
        scanned += 1;
        scored.set(id, {
          record,
          relevance_score: this.#s.activationOnly * activation * modulation(record, context),
          activation_path: path,
          rendered_content: record.content,
        });
      }
    }

    const relevance = new Map([...scored].map(([id, memory]) => [id, memory.relevance_score]));
    const support = sessionSupport(relevance, (id) => sessionOf(scored.get(id)!.record), this.#s.sessionBoost);
    for (const [id, bonus] of support) scored.get(id)!.relevance_score += bonus;
    const ranked = [...scored.values()].sort(byRelevance);
    const memories = ranked.slice(0, limit);
    // Hit rate: how much of what was asked for came back (the reference counted scores > 0, which every
    // returned memory of ours has).
    if (memories.length > 0 && limit > 0) this.#o.evolution.observeRecall(memories[0].record.store, memories.length / limit);
    if (request.reconsolidate) writeBack(this.#o, space, memories, nowMs);
    this.#render(memories, request.recall_mode);
    return {
      memories,
      activation_trace: null,
      total_candidates: ranked.length + truncated,
      query_metadata: {
        total_records_scanned: scanned,
        stores_searched: stores.filter((store) => !unavailable.includes(store)),
        fidelity_filtered: fidelityFiltered,
        strategies,
        ...(unavailable.length > 0 ? { stores_unavailable: unavailable } : {}),
      },
    };
  }

  /**
   * Asks every store in parallel. A store that is restarting (STORE_UNAVAILABLE) is skipped and named in
   * `unavailable`, so recall degrades to the stores that answer instead of failing while one restarts;
   * any other failure fails the recall.
   */
  async #fanOut<T>(stores: StoreType[], unavailable: StoreType[], ask: (store: StoreType) => Promise<T>): Promise<T[]> {
    const settled = await Promise.allSettled(stores.map(ask));
    const answers: T[] = [];
    settled.forEach((result, index) => {
      if (result.status === 'fulfilled') answers.push(result.value);
      else if (isCmpError(result.reason) && result.reason.code === 'STORE_UNAVAILABLE') {
        if (!unavailable.includes(stores[index])) unavailable.push(stores[index]);
      } else throw result.reason;
    });
    return answers;
  }

  /** A recall with no cue lists the most recent memories (DESIGN §2 item 4), scored by fidelity. */
  async #recent(request: RecallQueryRequest, stores: StoreType[], nowMs: number): Promise<RecallQueryResponse> {
    const unavailable: StoreType[] = [];
    const filtering = request.min_fidelity !== null && !request.include_decayed;
    const passes = (record: MemoryRecord) => !filtering || this.#fidelityOf(record) >= request.min_fidelity!;
    // The filter applies before the limit: while a store's newest records fail it, ask that store for
    // more (doubling), until `limit` of them pass or it has no more.
    const newest = async (store: StoreType) => {
      for (let ask = request.limit; ; ask *= 2) {
        const records = await this.#o.stores[store].recent(request.space, ask);
        if (!filtering || records.length < ask || records.filter(passes).length >= request.limit) return records;
      }
    };
    const found = (await this.#fanOut(stores, unavailable, newest)).flat();
    if (unavailable.length === stores.length) {
      throw new CmpError('STORE_UNAVAILABLE', 'no store could be searched; retry shortly', { retryAfter: 1 });
    }
    found.sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || (a.id < b.id ? 1 : -1));
    let fidelityFiltered = 0;
    const kept = found.filter((record) => {
      if (passes(record)) return true;
      fidelityFiltered += 1;
      return false;
    });
    const memories = kept.slice(0, request.limit).map((record) => ({
      record,
      relevance_score: this.#fidelityOf(record),
      activation_path: null,
      rendered_content: record.content,
    }));
    // A listing is not a cue: its memories are refreshed, but being listed together links nothing.
    if (request.reconsolidate) writeBack(this.#o, request.space, memories, nowMs, false);
    this.#render(memories, request.recall_mode);
    return {
      memories,
      activation_trace: null,
      total_candidates: kept.length,
      query_metadata: {
        total_records_scanned: found.length,
        stores_searched: stores.filter((store) => !unavailable.includes(store)),
        fidelity_filtered: fidelityFiltered,
        strategies: ['recent'],
        ...(unavailable.length > 0 ? { stores_unavailable: unavailable } : {}),
      },
    };
  }

  /** Human mode degrades the rendered text with fidelity; perfect mode returns it byte for byte. */
  #render(memories: RecalledMemory[], requested: 'human' | 'perfect'): void {
    for (const memory of memories) {
      const mode = this.#o.modes.modeOf(memory.record.store) === 'perfect' ? 'perfect' : requested;
      memory.rendered_content = mode === 'perfect' ? memory.record.content : renderHuman(memory.record.content, this.#fidelityOf(memory.record), memory.record.fidelity.noise_level, memory.record.id);
    }
  }

  /**
   * The records of `ids`, wherever they live. With `unavailable`, a store that is restarting is skipped
   * and named there (recall.query degrades); without it, any failure fails the call.
   */
  async #load(space: string, ids: string[], unavailable?: StoreType[]): Promise<Map<string, MemoryRecord>> {
    const found = new Map<string, MemoryRecord>();
    const byStore = groupBy(
      ids.filter((id) => this.#o.graph.storeOf(space, id) !== undefined),
      (id) => this.#o.graph.storeOf(space, id)!,
    );
    const load = async ([store, storeIds]: [StoreType, string[]]) => {
      for (const record of await this.#o.stores[store].getMany(space, storeIds)) if (record) found.set(record.id, record);
    };
    if (unavailable) await this.#fanOut([...byStore.keys()], unavailable, (store) => load([store, byStore.get(store)!]));
    else await Promise.all([...byStore].map(load));
    return found;
  }

  // ── recall.associate ─────────────────────────────────────────────────────────────────────────

  async associate(request: RecallAssociateRequest): Promise<RecallAssociateResponse> {
    const { space, record_id } = request;
    if (!this.#o.graph.storeOf(space, record_id)) throw new CmpError('RECORD_NOT_FOUND', `Record not found: ${record_id}`, { field: 'record_id' });
    const types = request.association_types ? new Set<string>(request.association_types) : null;
    const activated = spreadActivation([{ id: record_id, activation: 1 }], (id) => this.#o.graph.neighbours(space, id).filter((edge) => !types || id !== record_id || types.has(edge.type)), {
      depth: request.depth,
      decayFactor: this.#o.activation.decayFactor,
      threshold: this.#o.activation.threshold,
      minWeight: request.min_weight,
    });
    const ranked = [...activated].sort((a, b) => b[1].activation - a[1].activation || (a[0] < b[0] ? -1 : 1)).slice(0, request.limit);
    const loaded = await this.#load(
      space,
      ranked.map(([id]) => id),
    );
    const memories: RecalledMemory[] = [];
    for (const [id, { activation, path }] of ranked) {
      const record = loaded.get(id);
      if (record) memories.push({ record, relevance_score: activation, activation_path: path, rendered_content: record.content });
    }
    return { memories, total_candidates: memories.length };
  }

  // ── recall.timeline ──────────────────────────────────────────────────────────────────────────

  async timeline(request: RecallTimelineRequest): Promise<{ buckets: TimelineBucket[] }> {
    const start = Date.parse(request.range.start);
    const end = Date.parse(request.range.end);
    const found = (await Promise.all(PERSISTENT_STORES.map((store) => this.#o.stores[store].createdBetween(request.space, start, end, 100_000)))).flat();
    const kept = found.filter((record) => {
      if (request.min_fidelity !== null && this.#fidelityOf(record) < request.min_fidelity) return false;
      if (request.emotion_filter && !(emotionalCongruence(request.emotion_filter, record.emotion) > 0.5)) return false;
      return true;
    });
    kept.sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at) || (a.id < b.id ? -1 : 1));
    const buckets = groupIntoBuckets(kept, (record) => Date.parse(record.created_at), request.granularity);
    return {
      buckets: buckets.map((bucket) => ({
        start: toTimestamp(bucket.start),
        end: toTimestamp(bucket.end),
        count: bucket.items.length,
        memories: bucket.items.map((record) => ({ record, relevance_score: this.#fidelityOf(record), activation_path: null, rendered_content: record.content })),
      })),
    };
  }

  // ── recall.graph ─────────────────────────────────────────────────────────────────────────────

  async graphQuery(request: RecallGraphRequest): Promise<RecallGraphResponse> {
    const { space } = request;
    const seeds: string[] = [];
    if (request.center_id !== null) {
      if (this.#o.graph.storeOf(space, request.center_id)) seeds.push(request.center_id);
    } else {
      for (const store of PERSISTENT_STORES) {
        for (const id of this.#o.graph.idsIn(space, store)) {
          if (seeds.length >= request.limit_nodes) break;
          seeds.push(id);
        }
      }
    }
    const edgeTypes = request.edge_types ? new Set(request.edge_types.map((type) => type.toLowerCase())) : null;
    const depthOf = new Map<string, number>(seeds.map((id) => [id, 0]));
    const order: string[] = [];
    const edges: GraphEdge[] = [];
    const queue = [...seeds];
    while (queue.length > 0 && order.length < request.limit_nodes) {
      const id = queue.shift()!;
      order.push(id);
      const depth = depthOf.get(id)!;
      if (depth >= request.depth) continue;
      for (const edge of this.#o.graph.outgoing(space, id)) {
        if (edgeTypes && !edgeTypes.has(edge.association_type)) continue;
        if (edges.length >= 10 * request.limit_nodes) break;
        edges.push({ source: id, target: edge.target_id, edge_type: edge.association_type, weight: edge.weight });
        if (!depthOf.has(edge.target_id)) {
          depthOf.set(edge.target_id, depth + 1);
          queue.push(edge.target_id);
        }
      }
    }
    const loaded = await this.#load(space, order);
    const nodes: GraphNode[] = [];
    const metaEdges: MetaEdge[] = [];
    for (const id of order) {
      const record = loaded.get(id);
      if (!record) continue;
      const node: GraphNode = { id, store: record.store, summary: nodeSummary(record), fidelity: this.#fidelityOf(record) };
      if (request.include_meta) {
        node.meta = record.meta;
        for (const edge of record.meta.context_edges) metaEdges.push({ ...edge, source_id: edge.source_id ?? id });
      }
      nodes.push(node);
    }
    const kept = new Set(nodes.map((node) => node.id));
    return {
      nodes,
      edges: edges.filter((edge) => kept.has(edge.source) && kept.has(edge.target)),
      total_nodes: nodes.length,
      meta_edges: metaEdges,
    };
  }

  // ── recall.raw_query ─────────────────────────────────────────────────────────────────────────

  raw(request: RecallRawQueryRequest): Promise<RecallRawQueryResponse> {
    return rawQuery(this.#o.stores.raw_journal, request);
  }
}
