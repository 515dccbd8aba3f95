import { CmpError } from '../../cmp/errors.js';
import { toTimestamp } from '../../cmp/ids.js';
import type { MemoryRecord, RawJournalRecord, StoreType } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import type { MutationEvent } from '../store/events.js';
import { StoreIndexes } from '../store/indexes.js';
import type { Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';
import type { Ledger } from './ledger.js';
import type { LlmProvider } from '../../providers/llm-provider.js';
import { markConsolidated, planConsolidation, withProviderResults, type ConsolidateResponse, type ConsolidationPlan, type ConsolidationPlanRequest, type ProviderResult } from './consolidation.js';
import { dreamSummaryRequests, planDream, type DreamPlanRequest, type DreamTickResponse, type ProvidedSummary } from './dream.js';

// Digestion: the apply half of lifecycle.dream_tick and lifecycle.consolidate (STYLE §6.2). The
// planners (dream.ts, consolidation.ts) decide from the records alone; this file reads the records,
// writes what the plan says, in an order that leaves nothing half-done that a re-run would not finish:
// curated records first, then the marks that make the sources "processed". Re-running after a success
// plans nothing (the idempotency tests of both planners).

export interface DigesterOptions {
  stores: Stores;
  graph: AssociationGraph;
  embedder: Embedder;
  now: () => number;
  newId: () => string;
  recordParams: Record<'episodic' | 'semantic', { decay_rate: number; stability: number }>;
  /** Where digestion writes (sequence numbers, graph upkeep, links to removed records stripped). */
  ledger: Pick<Ledger, 'apply' | 'cleanUpAfterRemoval'>;
  /** Summaries and relations (spec §4.11); null = the built-in, no-network behaviour. */
  llm: LlmProvider | null;
  log: (line: string) => void;
}

/** Token limits the reference asks the LLM for (spec §4.10, §4.6). */
const DREAM_SUMMARY_TOKENS = 300;
const CONSOLIDATION_SUMMARY_TOKENS = 200;

const EVERYTHING = Number.MAX_SAFE_INTEGER;
/** Records per write: large digests go to a store in events of this size, never as one huge call. */
const WRITE_CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const result: T[][] = [];
  for (let offset = 0; offset < items.length; offset += WRITE_CHUNK) result.push(items.slice(offset, offset + WRITE_CHUNK));
  return result;
}
/** Cosine above which two episodic memories are the same memory (spec §4.6). */
const DUPLICATE_COSINE = 0.92;

export class Digester {
  readonly #o: DigesterOptions;
  /** Spaces with a consolidation or dream running: a second one is refused, not interleaved. */
  readonly #busy = new Set<string>();

  constructor(options: DigesterOptions) {
    this.#o = options;
  }

  /** `vectors`: embedder vectors of written records already at hand (the store need not embed again). */
  async #write(space: string, store: StoreType | 'raw_journal', event: MutationEvent, vectors?: Record<string, number[]>): Promise<void> {
    await this.#o.ledger.apply(space, store, event, vectors === undefined ? {} : { vectors });
  }

  async #cleanUp(space: string, removed: string[]): Promise<void> {
    await this.#o.ledger.cleanUpAfterRemoval(space, removed, toTimestamp(this.#o.now()));
  }

  async #exclusive<T>(space: string, work: () => Promise<T>): Promise<T> {
    if (this.#busy.has(space)) {
      throw new CmpError('CONSOLIDATION_IN_PROGRESS', `a consolidation or dream tick is already running in space ${space}`, { retryAfter: 5 });
    }
    this.#busy.add(space);
    try {
      return await work();
    } finally {
      this.#busy.delete(space);
    }
  }

  /** lifecycle.dream_tick (spec §4.10): raw journal → episodic summaries (+ semantic promotion). */
  async dreamTick(space: string, request: DreamPlanRequest): Promise<DreamTickResponse> {
    return this.#exclusive(space, async () => {
      const journal = this.#o.stores.raw_journal;
      const raw = request.session_id !== null ? await journal.inSession(space, request.session_id) : await journal.createdBetween(space, 0, EVERYTHING, EVERYTHING);
      // The LLM step sits between two pure functions: what to summarise, then the plan using the answers.
      const providerSummaries = await this.#dreamSummaries(raw, request);
      const now = new Date(this.#o.now()).toISOString();
      const plan = planDream(raw, request, now, this.#o.newId, { recordParams: this.#o.recordParams, providerSummaries });
      if (request.dry_run || plan.summaries.length === 0) return plan.response;
      await this.#write(space, 'episodic', { type: 'records.put', records: plan.summaries, fresh: true });
      try {
        if (plan.semantic.length > 0) await this.#write(space, 'semantic', { type: 'records.put', records: plan.semantic, fresh: true });
        // One event: the raw journal is marked in one batch, all or nothing.
        await this.#write(space, 'raw_journal', { type: 'records.put', records: plan.rawUpdates });
      } catch (error) {
        // Roll back what was created, so the raw records stay unprocessed and the next tick redoes them.
        const created = [...plan.summaries, ...plan.semantic];
        await this.#write(space, 'episodic', { type: 'records.deleted', ids: plan.summaries.map((record) => record.id) }).catch(() => undefined);
        if (plan.semantic.length > 0) {
          await this.#write(space, 'semantic', { type: 'records.deleted', ids: plan.semantic.map((record) => record.id) }).catch(() => undefined);
        }
        await this.#cleanUp(
          space,
          created.map((record) => record.id),
        ).catch(() => undefined);
        throw new CmpError('INTERNAL_ERROR', `Dream tick failed while updating raw journal state: ${(error as Error).message}`, { cause: error });
      }
      return plan.response;
    });
  }

  /** LLM summaries of the groups the dream will write; a failed group falls back to the built-in summary. */
  async #dreamSummaries(raw: RawJournalRecord[], request: DreamPlanRequest): Promise<Map<string, ProvidedSummary>> {
    const summaries = new Map<string, ProvidedSummary>();
    const llm = this.#o.llm;
    if (llm === null) return summaries;
    for (const { key, texts } of dreamSummaryRequests(raw, request)) {
      try {
        summaries.set(key, { text: await llm.summarize(texts, DREAM_SUMMARY_TOKENS), by: llm.name });
      } catch (error) {
        this.#o.log(`dream: ${llm.name} failed to summarise the group of raw record ${key}; using the built-in summary: ${messageOf(error)}`);
      }
    }
    return summaries;
  }

  /**
   * LLM summaries and relations for the copies a consolidation writes. Calls run one after another (a
   * provider's rate limit is the bottleneck, not us); each failure is logged and leaves that part as planned.
   */
  async #enrich(plan: ConsolidationPlan): Promise<ConsolidationPlan> {
    const llm = this.#o.llm;
    if (llm === null || plan.enrich.length === 0) return plan;
    const results = new Map<string, ProviderResult>();
    for (const entry of plan.enrich) {
      const result: ProviderResult = { by: llm.name };
      if (entry.summarize) {
        try {
          result.summary = await llm.summarize([entry.text], CONSOLIDATION_SUMMARY_TOKENS);
        } catch (error) {
          this.#o.log(`consolidate: ${llm.name} failed to summarise semantic copy ${entry.semantic_id}; using the built-in summary: ${messageOf(error)}`);
        }
      }
      try {
        result.relations = await llm.extractRelations(entry.text);
      } catch (error) {
        this.#o.log(`consolidate: ${llm.name} failed to extract relations for semantic copy ${entry.semantic_id}: ${messageOf(error)}`);
      }
      results.set(entry.semantic_id, result);
    }
    return withProviderResults(plan, results);
  }

  /** lifecycle.consolidate (spec §4.6, DESIGN §2 item 6): episodic → semantic, idempotent, merging near-duplicates. */
  async consolidate(space: string, request: ConsolidationPlanRequest): Promise<ConsolidateResponse> {
    return this.#exclusive(space, async () => {
      const episodic = await this.#o.stores.episodic.createdBetween(space, 0, EVERYTHING, EVERYTHING);
      const semanticIds = new Set(this.#o.graph.idsIn(space, 'semantic'));
      // Near-duplicates are judged on the embedder's vectors (the caller's own where given).
      const texts = episodic.map(StoreIndexes.embeddableText);
      const embedded = await this.#o.embedder.embed(texts);
      const vectors = new Map(episodic.map((record, index) => [record.id, embedded[index]] as const));
      const vectorOf = (record: MemoryRecord): number[] | null => {
        const own = record.content.blocks.find((block) => block.embedding != null && block.embedding.length > 0)?.embedding;
        if (own) return own;
        const vector = vectors.get(record.id);
        return vector && vector.length > 0 && vector.some((value) => value !== 0) ? Array.from(vector) : null;
      };
      // Near-duplicate candidates come from the store's nearest-neighbour index, not from every pair.
      const withVectors = episodic.filter((record) => vectorOf(record) !== null);
      const neighbours: { id: string; similarity: number }[][] = [];
      for (const part of chunks(withVectors)) {
        neighbours.push(
          ...(await this.#o.stores.episodic.similar(
            space,
            part.map((record) => vectorOf(record)!),
            5,
            DUPLICATE_COSINE,
          )),
        );
      }
      const candidates = new Map(withVectors.map((record, index) => [record.id, neighbours[index].map((hit) => hit.id)]));
      let plan = planConsolidation(episodic, semanticIds, request, this.#o.now(), {
        newId: this.#o.newId,
        recordParams: this.#o.recordParams,
        vectorOf,
        candidatesOf: (record) => candidates.get(record.id) ?? [],
      });
      if (request.dry_run) return plan.response;
      plan = await this.#enrich(plan);

      const byId = new Map(episodic.map((record) => [record.id, record]));
      const removed = plan.merges.map((merge) => merge.remove);
      if (removed.length > 0) {
        for (const part of chunks(removed)) await this.#write(space, 'episodic', { type: 'records.deleted', ids: part });
        await this.#cleanUp(space, removed);
      }
      for (const merge of plan.merges) {
        const kept = byId.get(merge.keep);
        if (kept) byId.set(merge.keep, { ...kept, associations: merge.associations });
      }
      // A copy has its source's text, so it reuses the source's vector instead of embedding again.
      for (const part of chunks(plan.creates)) {
        const copyVectors: Record<string, number[]> = {};
        for (const record of part) {
          const source = byId.get(String((record.metadata as Record<string, unknown>)._consolidated_from));
          const vector = source ? vectorOf(source) : null;
          if (vector && !record.content.blocks.some((block) => block.embedding != null)) copyVectors[record.id] = vector;
        }
        await this.#write(space, 'semantic', { type: 'records.put', records: part, fresh: true }, copyVectors);
      }
      // The kept and migrated episodic records, with their new links and consolidation marks, in one event.
      const links = new Map(plan.links.map((link) => [link.source_id, link.association]));
      const touched = new Set([...plan.merges.map((merge) => merge.keep), ...plan.marks.map((mark) => mark.id)]);
      const updated: MemoryRecord[] = [];
      for (const id of touched) {
        let record = byId.get(id);
        if (!record || plan.prunes.includes(id)) continue;
        const mark = plan.marks.find((entry) => entry.id === id);
        if (mark) record = markConsolidated(record, mark.semantic_id);
        const link = links.get(id);
        if (link && !record.associations.some((edge) => edge.target_id === link.target_id && edge.association_type === link.association_type)) {
          record = { ...record, associations: [...record.associations, link] };
        }
        updated.push(record);
      }
      for (const part of chunks(updated)) await this.#write(space, 'episodic', { type: 'records.put', records: part });
      if (plan.prunes.length > 0) {
        for (const part of chunks(plan.prunes)) await this.#write(space, 'episodic', { type: 'records.deleted', ids: part });
        await this.#cleanUp(space, plan.prunes);
      }
      return plan.response;
    });
  }
}

/** An error's message for a log line (provider errors never carry keys: src/providers/http-client.ts). */
function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
