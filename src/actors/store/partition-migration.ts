import type { ClassicLevel } from 'classic-level';
import { CmpError } from '../../cmp/errors.js';
import type { StoredRecord } from '../../cmp/types.js';
import { createdMs, EMPTY, idempotencyKeyPart, keys, sessionKeyPart, type BatchOp } from './partition-layout.js';
import { isSealed, type ValueCipher } from './value-cipher.js';

// Encryption at rest for a partition written before it was on (`cerememory migrate-store-encryption`):
// one pass over every value, apart from the partition's everyday reads and writes. It works through
// the few inner parts the partition lends it (`SealablePartition`), so those stay private otherwise.

/** What `migrateToSealed` did to one partition. */
export interface MigrationCount {
  records_total: number;
  records_migrated: number;
  records_already_encrypted: number;
}

/** The parts of a partition the migration needs (Partition.migrateToSealed lends them). */
export interface SealablePartition {
  db: ClassicLevel<string, Buffer>;
  cipher: ValueCipher;
  /** Writes one atomic, synced batch. */
  write(ops: BatchOp[]): Promise<void>;
  /** Drops parsed records kept in memory: their values were rewritten. */
  forgetCached(): void;
}

/**
 * Seals every plain r!, e!, k! and d! value (and moves session and idempotency keys to their HMAC form) in
 * batches of `batchSize`, each one atomic and synced: a crash between batches loses nothing, and a
 * rerun skips what is sealed already (it opens those, which proves the key can read them).
 * Requires a cipher with a key. Records are counted; events and idempotency entries are sealed too.
 */
export async function migrateToSealed(partition: SealablePartition, batchSize = 500): Promise<MigrationCount & { other_values_migrated: number }> {
  const { db, cipher } = partition;
  if (!cipher.enabled) throw new CmpError('VALIDATION_ERROR', 'migration needs a store encryption key');
  const count = { records_total: 0, records_migrated: 0, records_already_encrypted: 0, other_values_migrated: 0 };
  const iterator = db.iterator();
  try {
    for (;;) {
      const entries = await iterator.nextv(batchSize);
      if (entries.length === 0) break;
      const ops: BatchOp[] = [];
      for (const [key, value] of entries) {
        const kind = key.slice(0, 2);
        if (kind !== 'r!' && kind !== 'e!' && kind !== 'k!' && kind !== 'd!') continue;
        const sealed = isSealed(value);
        if (kind === 'd!') {
          // The decay checkpoint is binary: sealed as bytes, never through text.
          if (!sealed) {
            count.other_values_migrated++;
            ops.push({ type: 'put', key, value: cipher.seal(value) });
          } else cipher.open(value);
          continue;
        }
        const text = cipher.openText(value); // for a sealed value: proves this key opens it
        if (kind === 'r!') {
          count.records_total++;
          if (sealed) count.records_already_encrypted++;
          else count.records_migrated++;
        } else if (!sealed) count.other_values_migrated++;
        if (sealed) continue;
        if (kind === 'k!') {
          // k!<space>!<URI-encoded key> moves to its HMAC form (space names hold no "!").
          const split = key.indexOf('!', 2);
          ops.push({ type: 'del', key });
          ops.push({
            type: 'put',
            key: keys.idempotency(key.slice(2, split), idempotencyKeyPart(cipher, decodeURIComponent(key.slice(split + 1)))),
            value: cipher.seal(text),
          });
          continue;
        }
        ops.push({ type: 'put', key, value: cipher.seal(text) });
        if (kind === 'r!') {
          const record = JSON.parse(text) as StoredRecord;
          if ('session_id' in record) {
            const space = key.slice(2, key.lastIndexOf('!'));
            const ms = createdMs(record);
            ops.push({ type: 'del', key: keys.session(space, encodeURIComponent(record.session_id), ms, record.id) });
            ops.push({ type: 'put', key: keys.session(space, sessionKeyPart(cipher, record.session_id), ms, record.id), value: EMPTY });
          }
        }
      }
      if (ops.length > 0) await partition.write(ops);
    }
  } finally {
    await iterator.close();
  }
  partition.forgetCached();
  // Overwritten plain values and deleted plain session keys live on in older tables (and their key
  // ranges in the MANIFEST) until compaction: compact everything, so they leave the disk now.
  await db.compactRange('\u0000', '\uffff');
  return count;
}
