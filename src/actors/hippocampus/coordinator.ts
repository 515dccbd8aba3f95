import type { Readable, Writable } from 'node:stream';
import { createActor, fromPromise, waitFor } from 'xstate';
import { neutralEmotion } from '../../cmp/emotion.js';
import { CmpError, isCmpError } from '../../cmp/errors.js';
import { derivedId, fromTimestamp, newId, toTimestamp } from '../../cmp/ids.js';
import { normaliseMeta } from '../../cmp/meta.js';
import type {
  EncodeBatchRawRequest, EncodeBatchRawResponse, EncodeBatchRequest, EncodeBatchResponse, EncodeStoreRawRequest,
  EncodeStoreRawResponse, EncodeStoreRequest, EncodeStoreResponse, EncodeUpdateRequest, ExportRequest, ExportResponse,
  ForgetRequest, ForgetResponse, ImportRequest, ImportResponse, IntrospectRecordRequest, RecallAssociateRequest, RecallAssociateResponse, RecallGraphRequest, RecallGraphResponse,
  RecallMode, RecallQueryRequest, RecallQueryResponse, RecallRawQueryRequest, RecallRawQueryResponse,
  RecallTimelineRequest, RequestBase, StatsRequest, TimelineBucket,
} from '../../cmp/operations.js';

export interface DecayTickResponse {
  records_updated: number;
  records_below_threshold: number;
  records_pruned: number;
}

export interface DecayForecastEntry {
  record_id: string;
  current_fidelity: number;
  forecasted_fidelity: number;
  estimated_threshold_date: string | null;
}
import { MAX_BATCH_SIZE } from '../../cmp/request-schemas.js';
import { defaultFidelity, mergeMetadata, validateRecord } from '../../cmp/records.js';
import {
  PERSISTENT_STORES, STORE_TYPES, type Association, type MemoryRecord, type PartitionName, type RawJournalRecord,
  type StoreType,
} from '../../cmp/types.js';
import { formatContext } from '../../adapters/index.js';
import type { Embedder } from '../../embedding/embedder.js';
import type { LlmProvider } from '../../providers/llm-provider.js';
import { defaultDecayParams, fidelityNow, forecast } from '../store/decay.js';
import type { EventEnvelope, MutationEvent, RecordFieldUpdate } from '../store/events.js';
import { StoreIndexes } from '../store/indexes.js';
import { sessionOf, type ApplyReply, type DecayOutcome, type SpaceStats, type Stores } from '../store/protocol.js';
import { Archiver, type PreparedExport } from './archiver.js';
import { AssociationGraph } from './association-graph.js';
import { classifyStore } from './classify.js';
import { groupBy } from './group-by.js';
import { hippocampusMachine } from './machine.js';
import { SimilarLinker } from './similar-linker.js';
import { Recaller } from './recaller.js';
import { Digester } from './digester.js';
import type { ConsolidateResponse, ConsolidationPlanRequest } from './consolidation.js';
import type { DreamPlanRequest, DreamTickResponse } from './dream.js';
import { HippocampusState } from './state.js';
import type { RecallScoring } from './recall.js';
import {
  createEvolutionState, currentParams, evaluate, observeDecayTick, observeRecall, rebaseEvolution, type EvolutionMetrics,
  type EvolutionState,
} from './evolution.js';
import { timerScheduler, type Scheduler } from '../../runtime/scheduler.js';

// The hippocampus (DESIGN §1, STYLE §6.2): every CMP operation enters here. It decides what changes,
// routes each change as an event to the store actor that owns the record, and keeps the association
// graph. It holds no memory itself; the stores do.

/** Per-store parameters new records start with (DESIGN §2.1). */
export interface StoreRecordParams {
  /** Power-law exponent d. */
  decay_rate: number;
  /** Initial stability S0, seconds. */
  stability: number;
}

export interface HippocampusOptions {
  stores: Stores;
  recordParams: Record<StoreType, StoreRecordParams>;
  embedder: Embedder;
  /** LLM for dream and consolidation summaries and relations (spec §4.11); null or absent = none. */
  llm?: LlmProvider | null;
  /** Spreading activation (spec §4.5): activation kept per hop, and the floor below which it stops. */
  activation: { decayFactor: number; threshold: number };
  /** Recall scoring knobs over defaultRecallScoring (recall.ts); absent = the defaults. */
  scoring?: Partial<RecallScoring>;
  /** Cosine similarity from which a new memory is linked to an existing one (type `semantic`). */
  associationThreshold: number;
  /** Fidelity below which a decay tick deletes a record, per store (spec §4.2). */
  pruneThreshold: Record<StoreType, number>;
  /** Where the hippocampus keeps its own small state (recall mode), or null to keep it in memory. */
  statePath: string | null;
  /** Where archives are staged during export and import; default the system's temporary directory. */
  tempDir?: string;
  /** The clock, injected so tests can move time (milliseconds since the epoch). */
  now?: () => number;
  log?: (line: string) => void;
}

export type BackgroundJob = 'decay' | 'dream';

/** How many similar memories a new one is linked to, at most. */
export const INFERRED_LINKS = 3;
/** Weight of the link from a memory to the one before it in the same session. */
export const SESSION_LINK_WEIGHT = 0.8;

/** Sequential links of `encode.batch` with `infer_associations` (spec §3.2). */
export const SEQUENTIAL_LINK_WEIGHT = 0.7;

interface PlannedRecord {
  record: MemoryRecord;
  manualAssociations: number;
}

export class Hippocampus {
  readonly #stores: Stores;
  readonly #params: Record<StoreType, StoreRecordParams>;
  readonly #now: () => number;
  readonly graph = new AssociationGraph();
  readonly #sequences = new Map<string, number>();
  readonly #actor;
  readonly #embedder: Embedder;
  readonly #associationThreshold: number;
  readonly #log: (line: string) => void;
  readonly #recaller: Recaller;
  readonly #digester: Digester;
  readonly #archiver: Archiver;
  readonly #linker: SimilarLinker;
  #mode: RecallMode = 'human';
  readonly #state: HippocampusState;
  #evolution: EvolutionState;
  #loadError: unknown;

  constructor(options: HippocampusOptions) {
    this.#stores = options.stores;
    this.#params = options.recordParams;
    this.#now = options.now ?? Date.now;
    this.#embedder = options.embedder;
    this.#associationThreshold = options.associationThreshold;
    this.#state = new HippocampusState(options.statePath);
    this.#mode = this.#state.read().mode;
    // Evolution starts from the configured parameters; learned ones survive restarts unless the
    // configuration changed them (then the new configuration is the new baseline).
    const configured = createEvolutionState(
      Object.fromEntries(STORE_TYPES.map((store) => [store, {
        decay_exponent: options.recordParams[store].decay_rate,
        initial_stability_secs: options.recordParams[store].stability,
        prune_threshold: options.pruneThreshold[store],
        retrieval_boost: defaultDecayParams[store].retrieval_boost,
      }])),
    );
    this.#evolution = rebaseEvolution(this.#state.read().evolution, configured);
    const log = options.log ?? ((line: string) => console.error(line));
    this.#log = log;
    this.#digester = new Digester({
      stores: this.#stores,
      graph: this.graph,
      embedder: this.#embedder,
      now: this.#now,
      newId: () => newId(this.#now()),
      recordParams: {
        episodic: { decay_rate: options.recordParams.episodic.decay_rate, stability: options.recordParams.episodic.stability },
        semantic: { decay_rate: options.recordParams.semantic.decay_rate, stability: options.recordParams.semantic.stability },
      },
      write: async (space, store, event, vectors) => {
        const reply = await this.#stores[store].apply(this.#envelope(space, toTimestamp(this.#now()), event), vectors);
        if (store !== 'raw_journal') this.#absorb(space, store, reply);
      },
      cleanUp: (space, removed) => this.#cleanUpAfterRemoval(space, removed, toTimestamp(this.#now())),
      llm: options.llm ?? null,
      log,
    });
    this.#archiver = new Archiver({
      stores: this.#stores,
      graph: this.graph,
      now: this.#now,
      ...(options.tempDir === undefined ? {} : { tempDir: options.tempDir }),
      write: async (space, store, event) => {
        const at = toTimestamp(this.#now());
        const reply = await this.#stores[store].apply(this.#envelope(space, at, event));
        if (store !== 'raw_journal') this.#absorb(space, store, reply);
        if (reply.evicted?.length) await this.#cleanUpAfterRemoval(space, reply.evicted, at);
        return reply;
      },
      log,
    });
    this.#linker = new SimilarLinker({
      stores: this.#stores,
      threshold: this.#associationThreshold,
      maxLinks: INFERRED_LINKS,
      write: async (space, store, event) => {
        this.#absorb(space, store, await this.#stores[store].apply(this.#envelope(space, toTimestamp(this.#now()), event)));
      },
      running: () => this.#actor.getSnapshot().matches('ready'),
      log,
    });
    this.#recaller = new Recaller({
      stores: this.#stores,
      graph: this.graph,
      embedder: this.#embedder,
      now: this.#now,
      write: async (space, store, event) => {
        this.#absorb(space, store, await this.#stores[store].apply(this.#envelope(space, toTimestamp(this.#now()), event)));
      },
      modeOf: (store) => this.modeOf(store),
      retrievalBoost: (store) => currentParams(this.#evolution, store).retrieval_boost,
      observeRecall: (store, hitRate) => this.#observe((state) => observeRecall(state, store, hitRate)),
      activation: options.activation,
      scoring: options.scoring,
      log,
    });
    this.#actor = createActor(
      hippocampusMachine.provide({
        actors: {
          load: fromPromise<void>(async () => {
            try {
              await this.#load();
            } catch (error) {
              this.#loadError = error;
              throw error;
            }
          }),
        },
      }),
    );
  }

  /** Loads the association graph and the per-space sequences from the stores, then serves. */
  async start(): Promise<void> {
    this.#actor.start();
    const state = await waitFor(this.#actor, (snapshot) => snapshot.status === 'done' || snapshot.matches('ready'));
    if (!state.matches('ready')) throw this.#loadError ?? new CmpError('INTERNAL_ERROR', 'hippocampus failed to start');
  }

  /** Records written whose similar-memory links are still to be inferred (best effort, after the write). */
  get linksPending(): number {
    return this.#linker.queued;
  }

  /** Refuses new operations from now on; those already running finish. Background work stops. */
  stop(): void {
    this.stopBackground();
    this.#linker.stop();
    this.#actor.send({ type: 'STOP' });
    // A full disk must not stop the shutdown: the stores still have to close (issue 14, defect 7).
    this.#saveStateQuietly();
  }

  readonly #background = new Map<BackgroundJob, { stop: () => void; running: boolean }>();

  /**
   * Background work (spec §4.2, §4.10): every `intervalMs`, a decay tick at the present moment (duration
   * 0: real time has passed) or a dream tick with the reference's background settings, over every space.
   * A run still going when the next is due is not doubled. Failures are logged, never thrown.
   */
  startBackground(job: BackgroundJob, intervalMs: number, log: (line: string) => void, scheduler: Scheduler = timerScheduler): void {
    this.stopBackground(job);
    const entry = { running: false, stop: () => {} };
    entry.stop = scheduler.every(intervalMs, () => {
      if (entry.running) return;
      entry.running = true;
      void this.#runBackground(job)
        .catch((error: unknown) => log(`background ${job} failed: ${String(error)}`))
        .finally(() => (entry.running = false));
    });
    this.#background.set(job, entry);
  }

  async #runBackground(job: BackgroundJob): Promise<void> {
    for (const space of [...this.#sequences.keys()]) {
      if (job === 'decay') await this.decayTick({ space, tick_duration_seconds: 0 });
      else {
        await this.dreamTick({
          space, session_id: null, dry_run: false, max_groups: 50, include_private_scratch: false, include_sealed: false,
          promote_semantic: true, secrecy_levels: null,
        });
      }
    }
  }

  stopBackground(job?: BackgroundJob): void {
    for (const [name, entry] of this.#background) {
      if (job !== undefined && name !== job) continue;
      entry.stop();
      this.#background.delete(name);
    }
  }

  backgroundEnabled(job: BackgroundJob): boolean {
    return this.#background.has(job);
  }

  #accepting(): void {
    const snapshot = this.#actor.getSnapshot();
    if (snapshot.matches('ready')) return;
    const state = snapshot.matches('starting') ? 'starting' : 'shutting down';
    throw new CmpError('STORE_UNAVAILABLE', `the memory service is ${state}; retry shortly`, { retryAfter: 1 });
  }

  async #load(): Promise<void> {
    await Promise.all(
      (Object.keys(this.#stores) as PartitionName[]).map(async (name) => {
        const { sequences } = await this.#stores[name].whenReady();
        for (const [space, seq] of Object.entries(sequences)) {
          this.#sequences.set(space, Math.max(seq, this.#sequences.get(space) ?? 0));
        }
        if (name !== 'raw_journal') this.graph.load(name, await this.#stores[name].registry());
      }),
    );
  }

  /** After a store actor restarts, what it holds is the truth: reload its part of the graph. */
  async resync(name: PartitionName): Promise<void> {
    const { sequences } = await this.#stores[name].whenReady();
    for (const [space, seq] of Object.entries(sequences)) {
      this.#sequences.set(space, Math.max(seq, this.#sequences.get(space) ?? 0));
    }
    if (name !== 'raw_journal') this.graph.load(name, await this.#stores[name].registry());
  }

  #envelope(space: string, at: string, event: MutationEvent, idempotencyKey?: string): EventEnvelope {
    const seq = (this.#sequences.get(space) ?? 0) + 1;
    this.#sequences.set(space, seq);
    return { space, seq, at, event, ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }) };
  }

  /**
   * The time of the first attempt of an idempotent request, if any store applied it: a retry reuses it
   * so that derived ids and timestamps come out the same.
   */
  async #firstAttempt(space: string, key: string | undefined, stores: Iterable<PartitionName>): Promise<Map<PartitionName, ApplyReply['replayed']>> {
    const found = new Map<PartitionName, ApplyReply['replayed']>();
    if (key === undefined) return found;
    await Promise.all(
      [...new Set(stores)].map(async (name) => {
        const entry = await this.#stores[name].findIdempotent(space, key);
        if (entry) found.set(name, entry);
      }),
    );
    return found;
  }

  // ── encode ────────────────────────────────────────────────────────────────────────────────────

  async encodeStore(request: EncodeStoreRequest): Promise<EncodeStoreResponse> {
    this.#accepting();
    const { space, idempotency_key, ...item } = request;
    const [result] = await this.#encode(space, idempotency_key, [item], false, 'encode.store');
    return result.response;
  }

  async encodeBatch(request: EncodeBatchRequest): Promise<EncodeBatchResponse> {
    this.#accepting();
    if (request.records.length > MAX_BATCH_SIZE) {
      throw new CmpError('VALIDATION_ERROR', `Batch size ${request.records.length} exceeds maximum of ${MAX_BATCH_SIZE}`, { field: 'records' });
    }
    const results = await this.#encode(request.space, request.idempotency_key, request.records, request.infer_associations, 'encode.store');
    const pairs = request.infer_associations ? Math.max(0, results.length - 1) : 0;
    return { results: results.map((result) => result.response), associations_inferred: 2 * pairs };
  }

  async #encode(
    space: string,
    key: string | undefined,
    items: Omit<EncodeStoreRequest, 'space' | 'idempotency_key'>[],
    linkSequence: boolean,
    trigger: string,
  ): Promise<{ response: EncodeStoreResponse; record: MemoryRecord }[]> {
    const stores = items.map((item) => item.store ?? classifyStore(item.content, item.emotion));
    const replayed = await this.#firstAttempt(space, key, stores);
    const firstAt = [...replayed.values()][0]?.at;
    const atMs = firstAt === undefined ? this.#now() : fromTimestamp(firstAt);
    const at = toTimestamp(atMs);

    const planned: PlannedRecord[] = items.map((item, index) => {
      const id = key === undefined ? newId(atMs) : derivedId(atMs, space, key, index);
      const associations: Association[] = item.associations.map((manual) => ({
        ...manual, created_at: at, last_co_activation: at,
      }));
      const record: MemoryRecord = {
        id, space, store: stores[index], created_at: at, updated_at: at, last_accessed_at: at, access_count: 0,
        content: item.content,
        fidelity: defaultFidelity(at, {
          decay_rate: currentParams(this.#evolution, stores[index]).decay_exponent,
          stability: this.#params[stores[index]].stability,
        }),
        emotion: item.emotion ?? neutralEmotion(),
        associations,
        metadata: mergeMetadata(item.metadata, item.context),
        version: 1,
        meta: normaliseMeta(item.meta, trigger, at),
      };
      return { record, manualAssociations: associations.length };
    });
    if (linkSequence) linkSequential(planned.map((plan) => plan.record), at);
    this.#linkSessions(space, planned.map((plan) => plan.record), at);
    // Every item was validated when its request was parsed (src/cmp/requests.ts) and the rest of each
    // record is built here, valid by construction, so the whole batch is known good before any write.

    const byStore = groupBy(planned.map((plan) => plan.record), (record) => record.store);
    await Promise.all(
      [...byStore].map(async ([store, records]) => {
        if (replayed.has(store)) return;
        const event: MutationEvent = { type: 'records.put', records, fresh: true };
        const reply = await this.#stores[store].apply(this.#envelope(space, at, event, key));
        this.#absorb(space, store, reply);
        if (reply.evicted?.length) await this.#cleanUpAfterRemoval(space, reply.evicted, at);
      }),
    );
    // Similar memories are linked once the stores have the new records' vectors (similar-linker.ts).
    if (this.#embedder.dimension > 0) {
      const fresh = planned.map((plan) => plan.record).filter((record) => !replayed.has(record.store) && StoreIndexes.embeddableText(record) !== '');
      const batch = fresh.map((record) => record.id);
      for (const [store, records] of groupBy(fresh, (record) => record.store)) {
        const existing = (record: MemoryRecord) => record.associations.filter((edge) => edge.association_type === 'semantic').map((edge) => edge.target_id);
        this.#linker.add(space, store, records.map((record) => ({ id: record.id, existing: existing(record) })), batch, at);
      }
    }
    return planned.map(({ record, manualAssociations }) => ({
      record,
      response: { record_id: record.id, store: record.store, initial_fidelity: record.fidelity.score, associations_created: manualAssociations },
    }));
  }

  /**
   * Links new memories in time (reference §4.7): to the previous memory of the same session (type
   * `temporal`). Similar memories are linked after the write (`#linkSimilar`), once their vectors exist.
   */
  #linkSessions(space: string, records: MemoryRecord[], at: string): void {
    const previousInSession = new Map<string, string>();
    for (const record of records) {
      const session = sessionOf(record);
      if (session === undefined) continue;
      const previous = previousInSession.get(session) ?? this.graph.lastInSession(space, session);
      previousInSession.set(session, record.id);
      if (previous === undefined || record.associations.some((edge) => edge.target_id === previous && edge.association_type === 'temporal')) continue;
      record.associations.push({ target_id: previous, association_type: 'temporal', weight: SESSION_LINK_WEIGHT, created_at: at, last_co_activation: at });
    }
  }

  /**
   * Brings the graph up to date with what a store acknowledged. A removal unmaps a record only from the
   * store it left: a record that moved (import, keep_imported) is already mapped to its new store.
   */
  #absorb(space: string, store: StoreType, reply: ApplyReply): void {
    for (const id of reply.removed) if (this.graph.storeOf(space, id) === store) this.graph.remove(space, id);
    for (const entry of reply.written) this.graph.upsert(space, store, entry);
  }

  /** After records left (forget, eviction): strip the edges that pointed at them, in their owners' stores. */
  async #cleanUpAfterRemoval(space: string, removed: string[], at: string): Promise<void> {
    const sources = this.graph.sourcesOf(space, removed);
    await Promise.all(
      [...sources].map(async ([store, sourceIds]) => {
        const event: MutationEvent = { type: 'associations.stripped', source_ids: sourceIds, target_ids: removed };
        this.#absorb(space, store, await this.#stores[store].apply(this.#envelope(space, at, event)));
      }),
    );
  }

  async encodeUpdate(request: EncodeUpdateRequest): Promise<void> {
    this.#accepting();
    const { space, record_id } = request;
    const store = await this.#locate(space, record_id);
    const current = await this.#stores[store].get(space, record_id);
    if (!current) throw notFound(record_id);
    const at = toTimestamp(this.#now());
    const fields: RecordFieldUpdate = {};
    if (request.content !== undefined) fields.content = request.content;
    if (request.emotion !== undefined) fields.emotion = request.emotion;
    if (request.metadata !== undefined) fields.metadata = request.metadata;
    if (request.meta !== undefined) fields.meta = normaliseMeta(request.meta, 'encode.update', at);
    validateRecord({ ...current, ...fields }, '');
    const reply = await this.#stores[store].apply(
      this.#envelope(space, at, { type: 'record.updated', id: record_id, fields }, request.idempotency_key),
    );
    if (reply.missing.includes(record_id)) throw notFound(record_id);
    this.#absorb(space, store, reply);
  }

  async encodeStoreRaw(request: EncodeStoreRawRequest): Promise<EncodeStoreRawResponse> {
    this.#accepting();
    const { space, idempotency_key, ...item } = request;
    const [response] = await this.#encodeRaw(space, idempotency_key, [item]);
    return response;
  }

  async encodeBatchRaw(request: EncodeBatchRawRequest): Promise<EncodeBatchRawResponse> {
    this.#accepting();
    return { results: await this.#encodeRaw(request.space, request.idempotency_key, request.records) };
  }

  async #encodeRaw(
    space: string,
    key: string | undefined,
    items: Omit<EncodeStoreRawRequest, 'space' | 'idempotency_key'>[],
  ): Promise<EncodeStoreRawResponse[]> {
    const replayed = await this.#firstAttempt(space, key, ['raw_journal']);
    const firstAt = replayed.get('raw_journal')?.at;
    const atMs = firstAt === undefined ? this.#now() : fromTimestamp(firstAt);
    const at = toTimestamp(atMs);
    const records: RawJournalRecord[] = items.map((item, index) => ({
      id: key === undefined ? newId(atMs) : derivedId(atMs, space, key, index),
      space,
      session_id: item.session_id,
      turn_id: item.turn_id,
      topic_id: item.topic_id,
      source: item.source,
      speaker: item.speaker,
      visibility: item.visibility,
      secrecy_level: item.secrecy_level,
      created_at: at,
      updated_at: at,
      content: item.content,
      metadata: item.metadata,
      derived_memory_ids: [],
      suppressed: false,
      meta: normaliseMeta(item.meta, 'encode.store_raw', at),
    }));
    if (!replayed.has('raw_journal')) {
      const event: MutationEvent = { type: 'records.put', records, fresh: true };
      await this.#stores.raw_journal.apply(this.#envelope(space, at, event, key));
    }
    return records.map((record) => ({
      record_id: record.id, session_id: record.session_id, visibility: record.visibility, secrecy_level: record.secrecy_level,
    }));
  }

  // ── recall ────────────────────────────────────────────────────────────────────────────────────

  async recallQuery(request: RecallQueryRequest): Promise<RecallQueryResponse> {
    this.#accepting();
    const response = await this.#recaller.query(request);
    // Formatting is pure and transport-independent, so every transport gets `context` from this one place.
    if (request.format == null) return response;
    const budgetTokens = request.budget_tokens ?? undefined;
    return { ...response, context: formatContext(response.memories, { model: request.format, budgetTokens }) };
  }

  async recallAssociate(request: RecallAssociateRequest): Promise<RecallAssociateResponse> {
    this.#accepting();
    return this.#recaller.associate(request);
  }

  async recallTimeline(request: RecallTimelineRequest): Promise<{ buckets: TimelineBucket[] }> {
    this.#accepting();
    return this.#recaller.timeline(request);
  }

  async recallGraph(request: RecallGraphRequest): Promise<RecallGraphResponse> {
    this.#accepting();
    return this.#recaller.graphQuery(request);
  }

  async recallRaw(request: RecallRawQueryRequest): Promise<RecallRawQueryResponse> {
    this.#accepting();
    return this.#recaller.raw(request);
  }

  /**
   * lifecycle.set_mode (spec §3.14). Unlike the reference, `scope` is honoured — only those stores
   * change — and the modes survive a restart. Without a scope every store takes the mode.
   */
  setMode(mode: RecallMode, scope: StoreType[] | null = null): void {
    this.#accepting();
    const state = this.#state.read();
    if (scope === null || scope.length === 0) {
      this.#mode = mode;
      this.#state.write({ ...state, mode, store_modes: {} });
      return;
    }
    const store_modes = { ...state.store_modes };
    for (const store of scope) store_modes[store] = mode;
    this.#state.write({ ...state, store_modes });
  }

  /** The recall mode of one store: perfect forces byte-exact rendering whatever a request asks. */
  modeOf(store: StoreType): RecallMode {
    return this.#state.read().store_modes?.[store] ?? this.#mode;
  }

  /**
   * Feeds an observation to the evolution engine (spec §4.8) and re-evaluates; the adjusted parameters
   * are live at once (DESIGN §2 item 7). Saved now after a decay tick, at most every few seconds after
   * recalls (which are many), and at shutdown.
   */
  #observe(observation: (state: EvolutionState) => EvolutionState, saveNow = false): void {
    this.#evolution = evaluate(observation(this.#evolution)).state;
    if (saveNow) this.#saveStateQuietly();
    else if (this.#now() - this.#evolutionSavedAt > 5000) {
      // After the answer, and never its failure: a recall is a read, and learned parameters missing
      // a save cost nothing a later save does not restore (issue 14, defect 7: recall failed on a full disk).
      this.#evolutionSavedAt = this.#now();
      setImmediate(() => this.#saveStateQuietly());
    }
  }

  #evolutionSavedAt = 0;

  /** saveState for learned state: a failure is logged, not thrown. */
  #saveStateQuietly(): void {
    try {
      this.saveState();
    } catch (error) {
      this.#log(`hippocampus state not saved (kept in memory, saved again later): ${String(error)}`);
    }
  }

  /** Writes the persisted state (mode, evolution). */
  saveState(): void {
    this.#evolutionSavedAt = this.#now();
    this.#state.write({ ...this.#state.read(), mode: this.#mode, evolution: this.#evolution });
  }

  /** introspect.evolution (spec §3.21), with the live parameters of every store. */
  evolution(): EvolutionMetrics & { current_parameters: Record<string, unknown> } {
    this.#accepting();
    return {
      ...this.#evolution.metrics,
      current_parameters: Object.fromEntries(STORE_TYPES.map((store) => [store, currentParams(this.#evolution, store)])),
    };
  }

  get mode(): RecallMode {
    return this.#mode;
  }

  // ── decay ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * lifecycle.decay_tick (spec §3.13, §4.2 with closed-form decay): every persistent store moves its
   * records' tick clock, in its own worker, and deletes those below its prune threshold; the
   * hippocampus then strips the links that pointed at them. Working memory never decays.
   */
  async decayTick(request: RequestBase & { tick_duration_seconds: number }): Promise<DecayTickResponse> {
    this.#accepting();
    const { space } = request;
    const at = toTimestamp(this.#now());
    const outcomes: [StoreType, DecayOutcome][] = [];
    // One store after another (issue 4): on two cores, four workers ticking at once left recall no core,
    // and a recall waits for every store. One at a time, a recall meets at most one busy worker, which
    // answers between the steps of its tick; the tick takes the sum of the stores' times, well under 1 s
    // at 100,000 records.
    for (const store of PERSISTENT_STORES) {
      // One event per store: the store evaluates its decay table and writes the tick in one batch.
      const seq = (this.#sequences.get(space) ?? 0) + 1;
      this.#sequences.set(space, seq);
      const outcome = await this.#stores[store].decay(space, {
        seq, at, tick_duration_secs: request.tick_duration_seconds, prune_threshold: currentParams(this.#evolution, store).prune_threshold,
      });
      for (const id of outcome.pruned) this.graph.remove(space, id);
      outcomes.push([store, outcome]);
    }
    this.#observe((state) => outcomes.reduce((next, [store, outcome]) => observeDecayTick(next, store, outcome.fidelity_histogram), state), true);
    const pruned = outcomes.flatMap(([, outcome]) => outcome.pruned);
    if (pruned.length > 0) await this.#cleanUpAfterRemoval(space, pruned, at);
    return {
      records_updated: outcomes.reduce((sum, [, outcome]) => sum + outcome.updated, 0),
      records_below_threshold: outcomes.reduce((sum, [, outcome]) => sum + outcome.below_threshold, 0),
      records_pruned: pruned.length,
    };
  }

  /** lifecycle.dream_tick (spec §3.12, §4.10). */
  async dreamTick(request: RequestBase & DreamPlanRequest): Promise<DreamTickResponse> {
    this.#accepting();
    return this.#digester.dreamTick(request.space, request);
  }

  /** lifecycle.consolidate (spec §3.11, §4.6; idempotent, DESIGN §2 item 6). */
  async consolidate(request: RequestBase & ConsolidationPlanRequest): Promise<ConsolidateResponse> {
    this.#accepting();
    return this.#digester.consolidate(request.space, request);
  }

  /** introspect.decay_forecast (spec §3.20): what a tick at `forecast_at` would find, in closed form. */
  async decayForecast(request: RequestBase & { record_ids: string[]; forecast_at: string }): Promise<{ forecasts: DecayForecastEntry[] }> {
    this.#accepting();
    const at = Date.parse(request.forecast_at);
    const nowMs = this.#now();
    const forecasts: DecayForecastEntry[] = [];
    for (const id of request.record_ids) {
      const store = await this.#locate(request.space, id);
      const record = await this.#stores[store].get(request.space, id);
      if (!record) throw notFound(id);
      const predicted = forecast(record.fidelity, record.emotion.intensity, at, currentParams(this.#evolution, store).prune_threshold);
      forecasts.push({
        record_id: id,
        current_fidelity: fidelityNow(record.fidelity, record.emotion.intensity, nowMs),
        forecasted_fidelity: predicted.fidelity,
        estimated_threshold_date: predicted.threshold_at_ms === null ? null : toTimestamp(predicted.threshold_at_ms),
      });
    }
    return { forecasts };
  }

  // ── introspect ────────────────────────────────────────────────────────────────────────────────

  async introspectRecord(request: IntrospectRecordRequest): Promise<MemoryRecord> {
    this.#accepting();
    const store = await this.#locate(request.space, request.record_id);
    const record = await this.#stores[store].get(request.space, request.record_id);
    if (!record || !('store' in record)) throw notFound(request.record_id);
    return record;
  }

  /** Where a record lives: the graph knows; if it does not (it is derived data), ask the stores. */
  async #locate(space: string, id: string): Promise<StoreType> {
    const known = this.graph.storeOf(space, id);
    if (known) return known;
    for (const store of ['working', ...PERSISTENT_STORES] as const) {
      if (await this.#stores[store].get(space, id)) return store;
    }
    throw notFound(id);
  }

  async stats(request: StatsRequest): Promise<Record<string, unknown>> {
    this.#accepting();
    const { space } = request;
    const perStore = Object.fromEntries(
      await Promise.all(STORE_TYPES.map(async (store) => [store, await this.#stores[store].stats(space)] as const)),
    ) as Record<StoreType, SpaceStats>;
    const raw = await this.#stores.raw_journal.stats(space);
    const curated = Object.values(perStore);
    const totalRecords = curated.reduce((sum, stats) => sum + stats.records, 0);
    const fidelitySum = curated.reduce((sum, stats) => sum + stats.fidelity_sum, 0);
    const created = curated.flatMap((stats) => [stats.oldest_created_at, stats.newest_created_at]).filter((at): at is string => at !== null);
    created.sort();
    return {
      space,
      total_records: totalRecords,
      records_by_store: Object.fromEntries(STORE_TYPES.map((store) => [store, perStore[store].records])),
      total_associations: this.graph.totalAssociations(space),
      avg_fidelity: totalRecords === 0 ? 0 : fidelitySum / totalRecords,
      avg_fidelity_by_store: Object.fromEntries(
        STORE_TYPES.filter((store) => perStore[store].records > 0).map((store) => [store, perStore[store].fidelity_sum / perStore[store].records]),
      ),
      oldest_record: created[0] ?? null,
      newest_record: created.at(-1) ?? null,
      total_recall_count: curated.reduce((sum, stats) => sum + stats.access_sum, 0),
      raw_journal_records: raw.records,
      raw_journal_pending_dream: raw.raw_pending_dream,
      vector_index_records: curated.reduce((sum, stats) => sum + stats.indexed_vectors, 0),
      vector_backlog: curated.reduce((sum, stats) => sum + stats.vector_backlog, 0),
      vector_search_backend: 'hnsw',
      embedder: `${this.#embedder.name}/${this.#embedder.dimension}`,
      dream_episodic_summaries: perStore.episodic.dream_episodic_summaries,
      dream_semantic_nodes: perStore.semantic.dream_semantic_nodes,
      evolution_metrics: this.#evolution.metrics,
      background_decay_enabled: this.backgroundEnabled('decay'),
      background_dream_enabled: this.backgroundEnabled('dream'),
    };
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────

  /**
   * lifecycle.export (spec §3.16, §7): streams a CMA archive into `out` (ended when complete) and
   * answers its metadata. Transports decide where the bytes go: inline (REST), chunks (gRPC), a file (CLI).
   */
  async exportArchive(request: ExportRequest, out: Writable): Promise<ExportResponse> {
    this.#accepting();
    return this.#archiver.export(request, out);
  }

  /**
   * lifecycle.export in two steps, for transports that send the metadata before the bytes (gRPC's
   * first chunk): the archive is staged and its metadata final; `writeTo(out)` sends it, `discard()`
   * cleans up.
   */
  async prepareExport(request: ExportRequest): Promise<PreparedExport> {
    this.#accepting();
    return this.#archiver.prepareExport(request);
  }

  /** lifecycle.import (spec §3.17, §7) from a byte stream; nothing is written unless all of it verifies. */
  async importArchive(request: ImportRequest, source: Readable | AsyncIterable<Uint8Array>): Promise<ImportResponse> {
    this.#accepting();
    return this.#archiver.import(request, source);
  }

  async forget(request: ForgetRequest): Promise<ForgetResponse> {
    this.#accepting();
    if (request.confirm !== true) {
      throw new CmpError('FORGET_UNCONFIRMED', "Forget requires explicit confirmation. Set 'confirm: true' to proceed.", { field: 'confirm' });
    }
    const { space } = request;
    const targets = new Map<string, StoreType>();
    const add = (id: string, store: StoreType | undefined) => {
      if (store) targets.set(id, store);
    };
    for (const id of request.record_ids) {
      const store = this.graph.storeOf(space, id);
      add(id, store);
      if (store && request.cascade) for (const edge of this.graph.outgoing(space, id)) add(edge.target_id, this.graph.storeOf(space, edge.target_id));
    }
    if (request.store) for (const id of this.graph.idsIn(space, request.store)) add(id, request.store);
    if (request.temporal_range) {
      const start = fromTimestamp(request.temporal_range.start);
      const end = fromTimestamp(request.temporal_range.end);
      await Promise.all(
        STORE_TYPES.map(async (store) => {
          for (const id of await this.#stores[store].idsCreatedBetween(space, start, end)) add(id, store);
        }),
      );
    }
    const affected = new Set(targets.values());
    const replayed = await this.#firstAttempt(space, request.idempotency_key, affected);
    const at = toTimestamp(this.#now());
    const byStore = groupBy([...targets], ([, store]) => store);
    let deleted = 0;
    const removed: string[] = [];
    await Promise.all(
      [...byStore].map(async ([store, entries]) => {
        const earlier = replayed.get(store);
        if (earlier) {
          deleted += earlier.removed.length;
          return;
        }
        const ids = entries.map(([id]) => id);
        const reply = await this.#stores[store].apply(this.#envelope(space, at, { type: 'records.deleted', ids }, request.idempotency_key));
        this.#absorb(space, store, reply);
        deleted += reply.removed.length;
        removed.push(...reply.removed);
      }),
    );
    if (removed.length > 0) await this.#cleanUpAfterRemoval(space, removed, at);
    return { records_deleted: deleted };
  }
}

function notFound(id: string): CmpError {
  return new CmpError('RECORD_NOT_FOUND', `Record not found: ${id}`, { field: 'record_id' });
}


/** Spec §3.2: consecutive records are linked both ways (sequential, 0.7), one link per (target, type). */
function linkSequential(records: MemoryRecord[], at: string): void {
  const link = (from: MemoryRecord, to: MemoryRecord) => {
    const exists = from.associations.some((edge) => edge.target_id === to.id && edge.association_type === 'sequential');
    if (!exists) {
      from.associations.push({ target_id: to.id, association_type: 'sequential', weight: SEQUENTIAL_LINK_WEIGHT, created_at: at, last_co_activation: at });
    }
  };
  for (let index = 1; index < records.length; index++) {
    link(records[index - 1], records[index]);
    link(records[index], records[index - 1]);
  }
}
