import { CmpError } from '../../cmp/errors.js';
import type {
  Association, EmotionVector, JsonValue, MemoryContent, MemoryRecord, MetaMemory, StoredRecord,
} from '../../cmp/types.js';

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
  | { type: 'associations.added'; links: { source_id: string; association: Association }[] };

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
      return [...new Set(event.links.map((link) => link.source_id))];
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
  }
}

/** One association per (target, type): a repeated pair keeps the stronger weight (spec §1.7). */
export function withAssociation(record: MemoryRecord, association: Association): MemoryRecord {
  const index = record.associations.findIndex(
    (existing) => existing.target_id === association.target_id && existing.association_type === association.association_type,
  );
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
