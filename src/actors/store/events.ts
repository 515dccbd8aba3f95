import { CmpError } from '../../cmp/errors.js';
import { decayFidelity, isPruned, reconsolidate, tickMoment } from './decay.js';
import type { Association, AssociationType, EmotionVector, JsonValue, MemoryContent, MemoryRecord, MetaMemory, StoredRecord } from '../../cmp/types.js';

// Every mutation of a partition is an event (DESIGN §4): the hippocampus decides *what* changes and
// sends an event; the owning store actor applies it with `applyEvent`, a pure function of the event and
// the records it touches, and writes the event together with its effect in one batch. Replaying the
// same events on the same records gives the same result: this is the seam where a replicated log can
// replace the local one.

export type MutationEvent =
  /**
   * Inserts or replaces whole records (encode, import). `fresh` promises that none of the ids exists
   * yet (ids just minted by the hippocampus), so the partition need not read before writing.
   */
  | { type: 'records.put'; records: StoredRecord[]; fresh?: boolean }
  /** Replaces whole fields of one record (encode.update); bumps version and updated_at. */
  | { type: 'record.updated'; id: string; fields: RecordFieldUpdate }
  /** Deletes records; unknown ids are ignored. */
  | { type: 'records.deleted'; ids: string[] }
  /** Removes associations that point at `target_ids` from the records `source_ids`. */
  | { type: 'associations.stripped'; source_ids: string[]; target_ids: string[] }
  /** Adds associations to records, one per (target, type): an existing pair keeps the higher weight. */
  | { type: 'associations.added'; links: { source_id: string; association: Association }[] }
  /**
   * Recall happened (DESIGN §2.1): each record is reconsolidated — stability grows by
   * `retrieval_boost`, fidelity is restored towards 1, the anchor moves to the event's time, and the
   * access is counted. Not a new version (spec §1.3): content did not change.
   */
  | { type: 'records.reconsolidated'; ids: string[]; retrieval_boost: number }
  /**
   * Hebbian learning (DESIGN §2 item 5): sets the weight of a link, creating it when absent, and marks
   * it co-activated now. One entry per (source, target, type).
   */
  | { type: 'associations.reweighted'; links: { source_id: string; target_id: string; association_type: AssociationType; weight: number }[] }
  /**
   * A decay tick over these records (spec §4.2, closed form): fidelity and noise are materialised at
   * `tickMoment`; a record falling below `prune_threshold` is deleted. Interference for noise is the
   * record's number of `semantic` links: the similar memories it was linked to.
   */
  | { type: 'records.decayed'; ids: string[]; tick_duration_secs: number; prune_threshold: number }
  /**
   * What a store's decay tick logs: `records.decayed` over every memory record of the store in the space
   * at this sequence, `evaluated` of them. Their new tick clocks live in the decay checkpoint written in
   * the same batch (decay-table.ts); the log names only the records the tick deleted. (Listing every
   * record cost ~40 bytes each per tick, 1.5 MB at 40,000, kept for `log_retention_events` events.)
   */
  | { type: 'records.ticked'; evaluated: number; pruned: string[]; tick_duration_secs: number; prune_threshold: number };

export interface RecordFieldUpdate {
  content?: MemoryContent;
  emotion?: EmotionVector;
  metadata?: JsonValue;
  meta?: MetaMemory;
}

/** An event as a partition stores it. */
export interface EventEnvelope {
  space: string;
  /** Per-space sequence number, assigned by the hippocampus; strictly increasing, gaps allowed. */
  seq: number;
  /** Client request id: an envelope whose key was applied before in this space is not applied again. */
  idempotency_key?: string;
  /** When the hippocampus created the event (RFC 3339); the only clock `applyEvent` reads. */
  at: string;
  event: MutationEvent;
}

export interface ApplyOutcome {
  /** Records to write, in their new state. */
  writes: StoredRecord[];
  /** Records removed, in their last state. */
  removed: StoredRecord[];
  /** Ids the event named that did not exist (the caller decides whether that is an error). */
  missing: string[];
}

/** The ids whose current state `applyEvent` needs. */
export function touchedIds(event: MutationEvent): string[] {
  switch (event.type) {
    case 'records.put':
      return event.fresh ? [] : event.records.map((record) => record.id);
    case 'record.updated':
      return [event.id];
    case 'records.deleted':
      return event.ids;
    case 'associations.stripped':
      return event.source_ids;
    case 'associations.added':
    case 'associations.reweighted':
      return [...new Set(event.links.map((link) => link.source_id))];
    case 'records.reconsolidated':
    case 'records.decayed':
      return event.ids;
    case 'records.ticked':
      return event.pruned;
  }
}

/**
 * Computes the effect of an event on the records it touches. `current` holds the state of every id of
 * `touchedIds(event)` (undefined when absent). Pure: no clock, no I/O.
 */
export function applyEvent(envelope: EventEnvelope, current: Map<string, StoredRecord | undefined>): ApplyOutcome {
  const { event, at } = envelope;
  const outcome: ApplyOutcome = { writes: [], removed: [], missing: [] };
  switch (event.type) {
    case 'records.put':
      outcome.writes.push(...event.records);
      return outcome;
    case 'record.updated': {
      const record = current.get(event.id);
      if (!record) {
        outcome.missing.push(event.id);
        return outcome;
      }
      if (!('store' in record)) {
        throw new CmpError('VALIDATION_ERROR', 'record_id: raw journal records cannot be updated', { field: 'record_id' });
      }
      const updated: MemoryRecord = { ...record, ...definedFields(event.fields), version: record.version + 1, updated_at: at };
      outcome.writes.push(updated);
      return outcome;
    }
    case 'records.deleted':
      for (const id of new Set(event.ids)) {
        const record = current.get(id);
        if (record) outcome.removed.push(record);
        else outcome.missing.push(id);
      }
      return outcome;
    case 'associations.stripped': {
      const targets = new Set(event.target_ids);
      for (const id of new Set(event.source_ids)) {
        const record = current.get(id);
        if (!record || !('associations' in record)) continue;
        const kept = record.associations.filter((association) => !targets.has(association.target_id));
        if (kept.length === record.associations.length) continue;
        outcome.writes.push({ ...record, associations: kept, version: record.version + 1, updated_at: at });
      }
      return outcome;
    }
    case 'associations.added': {
      const changed = new Map<string, MemoryRecord>();
      for (const { source_id, association } of event.links) {
        const record = changed.get(source_id) ?? current.get(source_id);
        if (!record || !('associations' in record)) {
          outcome.missing.push(source_id);
          continue;
        }
        changed.set(source_id, withAssociation(record, association));
      }
      for (const record of changed.values()) outcome.writes.push({ ...record, version: record.version + 1, updated_at: at });
      return outcome;
    }
    case 'records.reconsolidated':
      for (const id of new Set(event.ids)) {
        const record = current.get(id);
        if (record && 'store' in record) outcome.writes.push(reconsolidatedRecord(record, at, event.retrieval_boost));
        else outcome.missing.push(id);
      }
      return outcome;
    case 'records.decayed': {
      const nowMs = Date.parse(at);
      for (const id of new Set(event.ids)) {
        const record = current.get(id);
        if (!record || !('store' in record)) {
          outcome.missing.push(id);
          continue;
        }
        const decayed = decayedRecord(record, tickMoment(record.fidelity, nowMs, event.tick_duration_secs), at);
        if (isPruned(decayed.fidelity.score, event.prune_threshold)) outcome.removed.push(record);
        else outcome.writes.push(decayed);
      }
      return outcome;
    }
    case 'records.ticked':
      // The part of a tick its event names: the deletions (the kept records' clocks are in the checkpoint).
      for (const id of new Set(event.pruned)) {
        const record = current.get(id);
        if (record && 'store' in record) outcome.removed.push(record);
        else outcome.missing.push(id);
      }
      return outcome;
    case 'associations.reweighted': {
      const changed = new Map<string, MemoryRecord>();
      for (const link of event.links) {
        const record = changed.get(link.source_id) ?? current.get(link.source_id);
        if (!record || !('store' in record)) {
          outcome.missing.push(link.source_id);
          continue;
        }
        changed.set(link.source_id, withWeight(record, link, at));
      }
      // Link strength is learned state, not an edit by the user: no new version.
      for (const record of changed.values()) outcome.writes.push({ ...record, updated_at: at });
      return outcome;
    }
  }
}

/**
 * A record as a decay tick at `at` leaves it, its fidelity materialised at `momentMs` (the tick moment,
 * `tickMoment`). Interference for noise is the record's number of `semantic` links: the similar
 * memories it was linked to. Store actors apply this at read time to records a tick did not rewrite
 * (decay-table.ts), so both ways give the same record.
 */
export function decayedRecord(record: MemoryRecord, momentMs: number, at: string): MemoryRecord {
  const interference = record.associations.filter((edge) => edge.association_type === 'semantic').length;
  return { ...record, fidelity: decayFidelity(record.fidelity, record.emotion.intensity, momentMs, interference), updated_at: at };
}

/** A record after a reconsolidating recall at `at` (the hippocampus shows callers the same state). */
export function reconsolidatedRecord(record: MemoryRecord, at: string, retrievalBoost: number): MemoryRecord {
  return {
    ...record,
    fidelity: reconsolidate(record.fidelity, record.emotion.intensity, Date.parse(at), retrievalBoost),
    access_count: record.access_count + 1,
    last_accessed_at: at,
    updated_at: at,
  };
}

function withWeight(record: MemoryRecord, link: { target_id: string; association_type: AssociationType; weight: number }, at: string): MemoryRecord {
  const index = record.associations.findIndex((edge) => edge.target_id === link.target_id && edge.association_type === link.association_type);
  const associations = record.associations.slice();
  if (index === -1) {
    associations.push({ target_id: link.target_id, association_type: link.association_type, weight: link.weight, created_at: at, last_co_activation: at });
  } else {
    associations[index] = { ...associations[index], weight: link.weight, last_co_activation: at };
  }
  return { ...record, associations };
}

/** One association per (target, type): a repeated pair keeps the stronger weight (spec §1.7). */
export function withAssociation(record: MemoryRecord, association: Association): MemoryRecord {
  const index = record.associations.findIndex((existing) => existing.target_id === association.target_id && existing.association_type === association.association_type);
  if (index === -1) return { ...record, associations: [...record.associations, association] };
  const existing = record.associations[index];
  if (existing.weight >= association.weight) return record;
  const associations = record.associations.slice();
  associations[index] = { ...existing, weight: association.weight };
  return { ...record, associations };
}

function definedFields(fields: RecordFieldUpdate): RecordFieldUpdate {
  const result: RecordFieldUpdate = {};
  if (fields.content !== undefined) result.content = fields.content;
  if (fields.emotion !== undefined) result.emotion = fields.emotion;
  if (fields.metadata !== undefined) result.metadata = fields.metadata;
  if (fields.meta !== undefined) result.meta = fields.meta;
  return result;
}
