import { neutralEmotion } from '../../cmp/emotion.js';
import { CmpError } from '../../cmp/errors.js';
import { derivedId, fromTimestamp, newId, toTimestamp } from '../../cmp/ids.js';
import { normaliseMeta } from '../../cmp/meta.js';
import type {
  EncodeBatchRawRequest,
  EncodeBatchRawResponse,
  EncodeBatchRequest,
  EncodeBatchResponse,
  EncodeStoreRawRequest,
  EncodeStoreRawResponse,
  EncodeStoreRequest,
  EncodeStoreResponse,
  EncodeUpdateRequest,
} from '../../cmp/operations.js';
import { defaultFidelity, mergeMetadata, validateRecord } from '../../cmp/records.js';
import { MAX_BATCH_SIZE } from '../../cmp/request-schemas.js';
import type { Association, MemoryRecord, RawJournalRecord, StoreType } from '../../cmp/types.js';
import type { Embedder } from '../../embedding/embedder.js';
import type { MutationEvent, RecordFieldUpdate } from '../store/events.js';
import { StoreIndexes } from '../store/indexes.js';
import { sessionOf, type Stores } from '../store/protocol.js';
import type { AssociationGraph } from './association-graph.js';
import { classifyStore } from './classify.js';
import type { EvolutionKeeper } from './evolution-keeper.js';
import { groupBy } from './group-by.js';
import type { Ledger } from './ledger.js';
import { locate, notFound } from './locate.js';
import type { SimilarLinker } from './similar-linker.js';

// The encode operations (spec §3.1–§3.5): build each new record whole (id, store, fidelity, links in
// time and sequence), write it through the ledger, then queue its similar-memory links for after the
// write. An idempotent retry takes its first attempt's time, so ids and timestamps come out the same.

/** How many similar memories a new one is linked to, at most. */
export const INFERRED_LINKS = 3;
/** Weight of the link from a memory to the one before it in the same session. */
export const SESSION_LINK_WEIGHT = 0.8;
/** Sequential links of `encode.batch` with `infer_associations` (spec §3.2). */
export const SEQUENTIAL_LINK_WEIGHT = 0.7;

export interface EncoderOptions {
  stores: Stores;
  graph: AssociationGraph;
  ledger: Ledger;
  embedder: Embedder;
  /** New records start with their store's live decay exponent (evolved) and configured stability. */
  evolution: EvolutionKeeper;
  stability: Record<StoreType, number>;
  linker: SimilarLinker;
  now: () => number;
}

type EncodeItem = Omit<EncodeStoreRequest, 'space' | 'idempotency_key'>;
type RawItem = Omit<EncodeStoreRawRequest, 'space' | 'idempotency_key'>;

export class Encoder {
  readonly #o: EncoderOptions;

  constructor(options: EncoderOptions) {
    this.#o = options;
  }

  async store(request: EncodeStoreRequest): Promise<EncodeStoreResponse> {
    const { space, idempotency_key, ...item } = request;
    const [result] = await this.#encode(space, idempotency_key, [item], false, 'encode.store');
    return result;
  }

  async batch(request: EncodeBatchRequest): Promise<EncodeBatchResponse> {
    if (request.records.length > MAX_BATCH_SIZE) {
      throw new CmpError('VALIDATION_ERROR', `Batch size ${request.records.length} exceeds maximum of ${MAX_BATCH_SIZE}`, { field: 'records' });
    }
    const results = await this.#encode(request.space, request.idempotency_key, request.records, request.infer_associations, 'encode.store');
    const pairs = request.infer_associations ? Math.max(0, results.length - 1) : 0;
    return { results, associations_inferred: 2 * pairs };
  }

  async #encode(space: string, key: string | undefined, items: EncodeItem[], linkSequence: boolean, trigger: string): Promise<EncodeStoreResponse[]> {
    const stores = items.map((item) => item.store ?? classifyStore(item.content, item.emotion));
    const replayed = await this.#o.ledger.firstAttempt(space, key, stores);
    const firstAt = [...replayed.values()][0]?.at;
    const atMs = firstAt === undefined ? this.#o.now() : fromTimestamp(firstAt);
    const at = toTimestamp(atMs);

    const records = items.map((item, index): MemoryRecord => {
      const store = stores[index];
      return {
        id: key === undefined ? newId(atMs) : derivedId(atMs, space, key, index),
        space,
        store,
        created_at: at,
        updated_at: at,
        last_accessed_at: at,
        access_count: 0,
        content: item.content,
        fidelity: defaultFidelity(at, { decay_rate: this.#o.evolution.params(store).decay_exponent, stability: this.#o.stability[store] }),
        emotion: item.emotion ?? neutralEmotion(),
        associations: item.associations.map((manual): Association => ({ ...manual, created_at: at, last_co_activation: at })),
        metadata: mergeMetadata(item.metadata, item.context),
        version: 1,
        meta: normaliseMeta(item.meta, trigger, at),
      };
    });
    // Counted before the links in time and sequence are added: the response reports the caller's own.
    const manualAssociations = records.map((record) => record.associations.length);
    if (linkSequence) linkSequential(records, at);
    this.#linkSessions(space, records, at);
    // Every item was validated when its request was parsed (src/cmp/requests.ts) and the rest of each
    // record is built here, valid by construction, so the whole batch is known good before any write.

    await Promise.all(
      [...groupBy(records, (record) => record.store)].map(async ([store, storeRecords]) => {
        if (replayed.has(store)) return;
        const event: MutationEvent = { type: 'records.put', records: storeRecords, fresh: true };
        await this.#o.ledger.apply(space, store, event, { at, idempotencyKey: key });
      }),
    );
    // Similar memories are linked once the stores have the new records' vectors (similar-linker.ts).
    if (this.#o.embedder.dimension > 0) {
      const fresh = records.filter((record) => !replayed.has(record.store) && StoreIndexes.embeddableText(record) !== '');
      const batch = fresh.map((record) => record.id);
      const existing = (record: MemoryRecord) => record.associations.filter((edge) => edge.association_type === 'semantic').map((edge) => edge.target_id);
      for (const [store, storeRecords] of groupBy(fresh, (record) => record.store)) {
        this.#o.linker.add(
          space,
          store,
          storeRecords.map((record) => ({ id: record.id, existing: existing(record) })),
          batch,
          at,
        );
      }
    }
    return records.map((record, index) => ({
      record_id: record.id,
      store: record.store,
      initial_fidelity: record.fidelity.score,
      associations_created: manualAssociations[index],
    }));
  }

  /**
   * Links new memories in time (reference §4.7): to the previous memory of the same session (type
   * `temporal`). Similar memories are linked after the write (similar-linker.ts), once their vectors exist.
   */
  #linkSessions(space: string, records: MemoryRecord[], at: string): void {
    const previousInSession = new Map<string, string>();
    for (const record of records) {
      const session = sessionOf(record);
      if (session === undefined) continue;
      const previous = previousInSession.get(session) ?? this.#o.graph.lastInSession(space, session);
      previousInSession.set(session, record.id);
      if (previous === undefined || record.associations.some((edge) => edge.target_id === previous && edge.association_type === 'temporal')) continue;
      record.associations.push({ target_id: previous, association_type: 'temporal', weight: SESSION_LINK_WEIGHT, created_at: at, last_co_activation: at });
    }
  }

  /** encode.update (spec §3.3): the new fields are checked against the whole record before the write. */
  async update(request: EncodeUpdateRequest): Promise<void> {
    const { space, record_id } = request;
    const store = await locate(this.#o.stores, this.#o.graph, space, record_id);
    const current = await this.#o.stores[store].get(space, record_id);
    if (!current) throw notFound(record_id);
    const at = toTimestamp(this.#o.now());
    const fields: RecordFieldUpdate = {};
    if (request.content !== undefined) fields.content = request.content;
    if (request.emotion !== undefined) fields.emotion = request.emotion;
    if (request.metadata !== undefined) fields.metadata = request.metadata;
    if (request.meta !== undefined) fields.meta = normaliseMeta(request.meta, 'encode.update', at);
    validateRecord({ ...current, ...fields }, '');
    const event: MutationEvent = { type: 'record.updated', id: record_id, fields };
    const reply = await this.#o.ledger.apply(space, store, event, { at, idempotencyKey: request.idempotency_key });
    // Removed between the read and the write (a concurrent forget).
    if (reply.missing.includes(record_id)) throw notFound(record_id);
  }

  async storeRaw(request: EncodeStoreRawRequest): Promise<EncodeStoreRawResponse> {
    const { space, idempotency_key, ...item } = request;
    const [response] = await this.#encodeRaw(space, idempotency_key, [item]);
    return response;
  }

  async batchRaw(request: EncodeBatchRawRequest): Promise<EncodeBatchRawResponse> {
    return { results: await this.#encodeRaw(request.space, request.idempotency_key, request.records) };
  }

  /** encode.store_raw / batch_raw (the raw journal, spec §4.10): kept verbatim for dreaming, no links. */
  async #encodeRaw(space: string, key: string | undefined, items: RawItem[]): Promise<EncodeStoreRawResponse[]> {
    const replayed = await this.#o.ledger.firstAttempt(space, key, ['raw_journal']);
    const firstAt = replayed.get('raw_journal')?.at;
    const atMs = firstAt === undefined ? this.#o.now() : fromTimestamp(firstAt);
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
      await this.#o.ledger.apply(space, 'raw_journal', { type: 'records.put', records, fresh: true }, { at, idempotencyKey: key });
    }
    return records.map((record) => ({
      record_id: record.id,
      session_id: record.session_id,
      visibility: record.visibility,
      secrecy_level: record.secrecy_level,
    }));
  }
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
