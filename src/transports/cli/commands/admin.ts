import { InvalidArgumentError, type Command } from 'commander';
import { auditLogPath, tornPath, verifyAuditFile } from '../../../audit/audit-log.js';
import { migrateStoreEncryption } from '../../../runtime/migrate-store-encryption.js';
import type { CliContext } from '../context.js';
import { fail } from '../fail.js';
import { configFrom } from '../options.js';

// The operator's commands on the data directory: encryption at rest, and the audit log's hash chain.

/** `migrate-store-encryption`: encrypts the data directory in place. */
export function migrateStoreEncryptionCommand(program: Command, { globals }: CliContext): void {
  program
    .command('migrate-store-encryption')
    .description('Encrypt the data directory in place with security.store_encryption_passphrase (needs --confirm; stop the server first). Safe to rerun.')
    .option('--confirm', 'yes, rewrite every store', false)
    .action(async (options: { confirm: boolean }) => {
      if (!options.confirm) {
        fail(
          new InvalidArgumentError('migrate-store-encryption rewrites every store of the data directory: run it again with --confirm (stop the server first; back up the data directory if you can)'),
        );
      }
      try {
        const config = configFrom(globals());
        const report = await migrateStoreEncryption(config, globals().json ? undefined : (line) => console.error(line));
        if (globals().json) console.log(JSON.stringify(report, null, 2));
        else {
          console.log(`Store encryption migrated: ${config.data_dir}`);
          for (const [store, count] of Object.entries(report)) {
            console.log(`${store}: total=${count.records_total} migrated=${count.records_migrated} already_encrypted=${count.records_already_encrypted}`);
          }
        }
      } catch (error) {
        fail(error);
      }
    });
}

/** `audit-verify`: checks the audit log's hash chain. */
export function auditVerifyCommand(program: Command, { globals }: CliContext): void {
  program
    .command('audit-verify')
    .description("Verify the audit log's hash chain (exit 1 when broken). Reads the file only; safe while a server runs.")
    .option('--path <file>', 'audit log to verify (default: security.audit_log_path, else <data_dir>/audit.jsonl)')
    .action(async (options: { path?: string }) => {
      let path = options.path;
      try {
        if (path === undefined) {
          const config = configFrom(globals());
          if (!config.security.audit_log_enabled) {
            throw new InvalidArgumentError('Audit log is disabled by configuration (security.audit_log_enabled = false); pass --path to verify a file.');
          }
          path = auditLogPath(config);
        }
        const report = await verifyAuditFile(path);
        if (globals().json) {
          console.log(
            JSON.stringify(
              {
                path: report.path,
                ok: report.broken === undefined,
                entries: report.entries,
                last_sequence: report.head.sequence,
                head_hash: report.head.hash,
                ...(report.broken ? { broken: report.broken } : {}),
              },
              null,
              2,
            ),
          );
        } else if (report.broken === undefined) {
          console.log(['Audit log verified: ok', `path=${report.path}`, `entries=${report.entries}`, `last_sequence=${report.head.sequence}`, `head_hash=${report.head.hash}`].join('\n'));
        } else {
          console.log(
            [
              `Audit log BROKEN at entry ${report.broken.line}: ${report.broken.reason}`,
              `path=${report.path}`,
              `entries=${report.entries} (verified before the break)`,
              `first_broken=${report.broken.line}`,
              ...(report.broken.torn ? [`note=its operation was never acknowledged; the next start moves the line to ${tornPath(report.path)} and continues`] : []),
            ].join('\n'),
          );
        }
        process.exit(report.broken === undefined ? 0 : 1);
      } catch (error) {
        fail(error);
      }
    });
}
