import type { Readable, Writable } from 'node:stream';
import { createActor, fromPromise, waitFor } from 'xstate';
import { CmpError } from '../../cmp/errors.js';
import type { EncodeBatchRawRequest, EncodeBatchRawResponse, EncodeBatchRequest, EncodeBatchResponse, EncodeStoreRawRequest, EncodeStoreRawResponse } from '../../cmp/operations.js';
import type { EncodeStoreRequest, EncodeStoreResponse, EncodeUpdateRequest, ExportRequest, ExportResponse, ForgetRequest, ForgetResponse, ImportRequest } from '../../cmp/operations.js';
import type { ImportResponse, IntrospectRecordRequest, RecallAssociateRequest, RecallAssociateResponse, RecallGraphRequest, RecallGraphResponse, RecallMode } from '../../cmp/operations.js';
import type { RecallQueryRequest, RecallQueryResponse, RecallRawQueryRequest, RecallRawQueryResponse, RecallTimelineRequest, RequestBase, StatsRequest, TimelineBucket } from '../../cmp/operations.js';
import type { MemoryRecord, PartitionName, StoreType } from '../../cmp/types.js';
import { formatContext } from '../../adapters/index.js';
import { timerScheduler, type Scheduler } from '../../runtime/scheduler.js';
import type { PreparedExport } from './archiver.js';
import type { AssociationGraph } from './association-graph.js';
import { runBackgroundJob, type BackgroundJob, type BackgroundTicks } from './background.js';
import type { ConsolidateResponse, ConsolidationPlanRequest } from './consolidation.js';
import { decayTick, type DecayTickResponse } from './decay-tick.js';
import type { DreamPlanRequest, DreamTickResponse } from './dream.js';
import type { EvolutionMetrics } from './evolution.js';
import { forget } from './forget.js';
import { decayForecast, introspectRecord, stats, type DecayForecastEntry } from './introspect.js';
import { hippocampusMachine } from './machine.js';
import { assembleParts, type HippocampusOptions, type HippocampusParts } from './parts.js';

// The hippocampus (DESIGN §1, STYLE §6.2): every CMP operation enters here, and this file is its front
// door only: it refuses work unless the hippocampus is ready, then hands each operation to the module
// that owns it (parts.ts wires them). Changes reach the stores through the ledger (ledger.ts), which
// keeps the association graph; the hippocampus holds no memory itself, the stores do.

export type { BackgroundJob } from './background.js';
export type { DecayTickResponse } from './decay-tick.js';
export type { DecayForecastEntry } from './introspect.js';
export type { HippocampusOptions, StoreRecordParams } from './parts.js';
export { INFERRED_LINKS, SEQUENTIAL_LINK_WEIGHT, SESSION_LINK_WEIGHT } from './encoder.js';

export class Hippocampus {
  readonly graph: AssociationGraph;
  readonly #parts: HippocampusParts;
  readonly #actor;
  readonly #ticks: Record<BackgroundJob, BackgroundTicks> = { decay: this, dream: this };
  #loadError: unknown;

  constructor(options: HippocampusOptions) {
    const parts = (this.#parts = assembleParts(options));
    this.graph = parts.graph;
    const load = fromPromise<void>(async () => {
      try {
        await parts.ledger.load();
      } catch (error) {
        this.#loadError = error;
        throw error;
      }
    });
    // A background run calls the operations it was started with (startBackground's `ticks`).
    const runJob = fromPromise<void, { job: BackgroundJob }>(({ input }) => runBackgroundJob(this.#ticks[input.job], parts.ledger.spaces(), input.job));
    this.#actor = createActor(hippocampusMachine.provide({ actors: { load, runJob } }));
  }

  /** Loads the association graph and the per-space sequences from the stores, then serves. */
  async start(): Promise<void> {
    this.#actor.start();
    const state = await waitFor(this.#actor, (snapshot) => snapshot.status === 'done' || snapshot.matches('ready'));
    if (!state.matches('ready')) throw this.#loadError ?? new CmpError('INTERNAL_ERROR', 'hippocampus failed to start');
  }

  /** Refuses new operations from now on; those already running finish. Background work stops. */
  stop(): void {
    this.stopBackground();
    this.#parts.linker.stop();
    this.#actor.send({ type: 'STOP' });
    // A full disk must not stop the shutdown: the stores still have to close (issue 14, defect 7).
    this.#parts.evolution.saveQuietly();
  }

  /** After a store actor restarts, what it holds is the truth: reload its part of the graph. */
  async resync(name: PartitionName): Promise<void> {
    return this.#parts.ledger.resync(name);
  }

  /** Records written whose similar-memory links are still to be inferred (best effort, after the write). */
  get linksPending(): number {
    return this.#parts.linker.queued;
  }

  /** Background ticks every `intervalMs` over every space while ready (machine.ts), through `ticks` (the runtime's audited calls). */
  startBackground(job: BackgroundJob, intervalMs: number, log: (line: string) => void, scheduler: Scheduler = timerScheduler, ticks: BackgroundTicks = this): void {
    this.#ticks[job] = ticks;
    this.#actor.send({ type: 'BACKGROUND.START', job, settings: { intervalMs, scheduler, log } });
  }

  /** Stops `job`, or every background job. */
  stopBackground(job?: BackgroundJob): void {
    // Once stopped or failed, the machine left `ready`, and with it every timer.
    if (this.#actor.getSnapshot().status === 'done') return;
    this.#actor.send(job === undefined ? { type: 'BACKGROUND.STOP' } : { type: 'BACKGROUND.STOP', job });
  }

  backgroundEnabled(job: BackgroundJob): boolean {
    return this.#actor.getSnapshot().matches({ ready: { [job]: 'on' } } as { ready: { decay: 'on' } });
  }

  #accepting(): void {
    const snapshot = this.#actor.getSnapshot();
    if (snapshot.matches('ready')) return;
    const state = snapshot.matches('starting') ? 'starting' : 'shutting down';
    throw new CmpError('STORE_UNAVAILABLE', `the memory service is ${state}; retry shortly`, { retryAfter: 1 });
  }

  // ── encode (encoder.ts) ───────────────────────────────────────────────────────────────────────

  async encodeStore(request: EncodeStoreRequest): Promise<EncodeStoreResponse> {
    this.#accepting();
    return this.#parts.encoder.store(request);
  }

  async encodeBatch(request: EncodeBatchRequest): Promise<EncodeBatchResponse> {
    this.#accepting();
    return this.#parts.encoder.batch(request);
  }

  async encodeUpdate(request: EncodeUpdateRequest): Promise<void> {
    this.#accepting();
    return this.#parts.encoder.update(request);
  }

  async encodeStoreRaw(request: EncodeStoreRawRequest): Promise<EncodeStoreRawResponse> {
    this.#accepting();
    return this.#parts.encoder.storeRaw(request);
  }

  async encodeBatchRaw(request: EncodeBatchRawRequest): Promise<EncodeBatchRawResponse> {
    this.#accepting();
    return this.#parts.encoder.batchRaw(request);
  }

  // ── recall (recaller.ts) ──────────────────────────────────────────────────────────────────────

  async recallQuery(request: RecallQueryRequest): Promise<RecallQueryResponse> {
    this.#accepting();
    const response = await this.#parts.recaller.query(request);
    // Formatting is pure and transport-independent, so every transport gets `context` from this one place.
    if (request.format == null) return response;
    return { ...response, context: formatContext(response.memories, { model: request.format, budgetTokens: request.budget_tokens ?? undefined }) };
  }

  async recallAssociate(request: RecallAssociateRequest): Promise<RecallAssociateResponse> {
    this.#accepting();
    return this.#parts.recaller.associate(request);
  }

  async recallTimeline(request: RecallTimelineRequest): Promise<{ buckets: TimelineBucket[] }> {
    this.#accepting();
    return this.#parts.recaller.timeline(request);
  }

  async recallGraph(request: RecallGraphRequest): Promise<RecallGraphResponse> {
    this.#accepting();
    return this.#parts.recaller.graphQuery(request);
  }

  async recallRaw(request: RecallRawQueryRequest): Promise<RecallRawQueryResponse> {
    this.#accepting();
    return this.#parts.recaller.raw(request);
  }

  // ── modes and evolution (recall-modes.ts, evolution-keeper.ts) ────────────────────────────────

  /** lifecycle.set_mode (spec §3.14); the modes survive a restart. */
  setMode(mode: RecallMode, scope: StoreType[] | null = null): void {
    this.#accepting();
    this.#parts.modes.set(mode, scope);
  }

  modeOf(store: StoreType): RecallMode {
    return this.#parts.modes.modeOf(store);
  }

  get mode(): RecallMode {
    return this.#parts.modes.mode;
  }

  /** Writes the persisted state (mode, evolution). */
  saveState(): void {
    this.#parts.evolution.save();
  }

  /** introspect.evolution (spec §3.21), with the live parameters of every store. */
  evolution(): EvolutionMetrics & { current_parameters: Record<string, unknown> } {
    this.#accepting();
    return this.#parts.evolution.report();
  }

  // ── lifecycle and introspect (decay-tick.ts, digester.ts, archiver.ts, forget.ts, introspect.ts) ──

  async decayTick(request: RequestBase & { tick_duration_seconds: number }): Promise<DecayTickResponse> {
    this.#accepting();
    return decayTick({ ...this.#parts.reads, ledger: this.#parts.ledger }, request);
  }

  async dreamTick(request: RequestBase & DreamPlanRequest): Promise<DreamTickResponse> {
    this.#accepting();
    return this.#parts.digester.dreamTick(request.space, request);
  }

  async consolidate(request: RequestBase & ConsolidationPlanRequest): Promise<ConsolidateResponse> {
    this.#accepting();
    return this.#parts.digester.consolidate(request.space, request);
  }

  /** lifecycle.export into `out` (ended when complete); transports decide where the bytes go. */
  async exportArchive(request: ExportRequest, out: Writable): Promise<ExportResponse> {
    this.#accepting();
    return this.#parts.archiver.export(request, out);
  }

  /** lifecycle.export with the metadata final before the bytes (gRPC's first chunk): see PreparedExport. */
  async prepareExport(request: ExportRequest): Promise<PreparedExport> {
    this.#accepting();
    return this.#parts.archiver.prepareExport(request);
  }

  /** lifecycle.import from a byte stream; nothing is written unless all of it verifies. */
  async importArchive(request: ImportRequest, source: Readable | AsyncIterable<Uint8Array>): Promise<ImportResponse> {
    this.#accepting();
    return this.#parts.archiver.import(request, source);
  }

  async forget(request: ForgetRequest): Promise<ForgetResponse> {
    this.#accepting();
    return forget({ ...this.#parts.reads, ledger: this.#parts.ledger }, request);
  }

  async decayForecast(request: RequestBase & { record_ids: string[]; forecast_at: string }): Promise<{ forecasts: DecayForecastEntry[] }> {
    this.#accepting();
    return decayForecast(this.#parts.reads, request);
  }

  async introspectRecord(request: IntrospectRecordRequest): Promise<MemoryRecord> {
    this.#accepting();
    return introspectRecord(this.#parts.reads, request);
  }

  async stats(request: StatsRequest): Promise<Record<string, unknown>> {
    this.#accepting();
    return stats(this.#parts.reads, request, { decay: this.backgroundEnabled('decay'), dream: this.backgroundEnabled('dream') });
  }
}
