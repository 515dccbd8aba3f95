import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog, auditLogPath } from '../audit/audit-log.js';
import { Partition, type MigrationCount } from '../actors/store/partition.js';
import { StoreIndexes } from '../actors/store/indexes.js';
import { ValueCipher } from '../actors/store/value-cipher.js';
import { CmpError } from '../cmp/errors.js';
import type { PartitionName } from '../cmp/types.js';
import type { CerememoryConfig } from './config/index.js';
import { lockDataDir } from './data-dir-lock.js';
import { WORKER_PARTITIONS } from './runtime.js';
import { beginMigration, finishMigration } from './store-key.js';

// `cerememory migrate-store-encryption --confirm` (spec §8.1, issue 6): encrypts a plaintext data
// directory in place. Safe to interrupt: the header says "migrating" until the end (the server refuses
// to open meanwhile), each partition is rewritten in atomic, synced batches, and every value says by its
// prefix whether it is sealed, so a rerun finishes what a crash left. Index snapshots (text.json holds
// every indexed term in plaintext) are removed; the next start rebuilds them, sealed.

export type MigrationReport = Record<PartitionName, MigrationCount>;

export async function migrateStoreEncryption(config: CerememoryConfig, log: (line: string) => void = () => {}): Promise<MigrationReport> {
  const passphrase = config.security.store_encryption_passphrase;
  if (passphrase === undefined) {
    throw new CmpError('VALIDATION_ERROR', 'migrate-store-encryption needs security.store_encryption_passphrase (or CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE)', {
      field: 'security.store_encryption_passphrase',
    });
  }
  // The server must not be running on this directory: the lock says so, and which process holds it.
  const lock = await lockDataDir(config.data_dir, { create: false });
  try {
    const cipher = new ValueCipher(beginMigration(config.data_dir, passphrase));
    const report = {} as MigrationReport;
    for (const name of WORKER_PARTITIONS) {
      const location = join(config.data_dir, name);
      if (!existsSync(join(location, 'CURRENT'))) {
        report[name] = { records_total: 0, records_migrated: 0, records_already_encrypted: 0 };
        continue;
      }
      const partition = await Partition.open(location, name, { syncWrites: true, cipher, cacheSize: 0 });
      try {
        const { other_values_migrated, ...count } = await partition.migrateToSealed();
        report[name] = count;
        log(
          `${name}: ${count.records_migrated} of ${count.records_total} records encrypted (${count.records_already_encrypted} already were; ${other_values_migrated} events and idempotency entries)`,
        );
      } finally {
        await partition.close();
      }
      StoreIndexes.discard(join(config.data_dir, `${name}.indexes`));
    }
    finishMigration(config.data_dir);
    if (config.security.audit_log_enabled) {
      const audit = await AuditLog.open(auditLogPath(config), { sync: true });
      try {
        await audit.append({
          operation: 'security.migrate_store_encryption',
          record_ids: [],
          store_types: ['episodic', 'semantic', 'procedural', 'emotional'],
          summary: { ...report },
        });
      } finally {
        await audit.close();
      }
    }
    return report;
  } finally {
    await lock.release();
  }
}
