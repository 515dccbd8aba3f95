// How the engine runs: the [runtime] section (store workers, writes, idempotency), [security] (audit log,
// encryption at rest) and [cluster] (one process, or DESIGN §4's replicated mode).

import { z } from 'zod';
import { bool, int, nonBlank, oneOf, table } from './fields.js';

export const runtimeSchema = table({
  /**
   * First delay before restarting a crashed store worker; grows per consecutive crash. Milliseconds,
   * default 100, range >= 1.
   */
  restart_backoff_initial_ms: int(1),
  /** Ceiling of the restart delay. Milliseconds, default 5000, range >= restart_backoff_initial_ms. */
  restart_backoff_max_ms: int(1),
  /**
   * Deadline of a call to a store actor when the caller gives none.
   * Milliseconds, default 30000, range >= 1.
   */
  call_timeout_ms: int(1),
  /**
   * Time allowed to flush and close every store on shutdown before workers are terminated. Milliseconds,
   * default 8000, range >= 1.
   */
  shutdown_timeout_ms: int(1),
  /** fsync each write batch before acknowledging it (DESIGN §3: no acknowledged write is lost). Default true. */
  sync_writes: bool(),
  /** How long an idempotency key is remembered (DESIGN §4 seam). Seconds, default 86400, range >= 1. */
  idempotency_ttl_secs: int(1),
});

export const securitySchema = table({
  /** Append every mutating operation to a hash-chained audit log (reference spec §8.2). Default true. */
  audit_log_enabled: bool(),
  /**
   * Where the audit log lives. Path; `~/` expands with HOME; relative paths resolve against the cwd.
   * Default unset = `<data_dir>/audit.jsonl`; non-blank when set.
   */
  audit_log_path: z.optional(nonBlank()),
  /**
   * Encrypts store values and the text index snapshots at rest when set (README "Encryption at rest";
   * prefer env CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE). Used as given (not trimmed),
   * non-blank. Unset by default. A plaintext data directory needs `cerememory migrate-store-encryption --confirm`.
   */
  store_encryption_passphrase: z.optional(nonBlank()),
});

export const runtimeDefaults: z.infer<typeof runtimeSchema> = {
  restart_backoff_initial_ms: 100,
  restart_backoff_max_ms: 5000,
  call_timeout_ms: 30_000,
  shutdown_timeout_ms: 8000,
  sync_writes: true,
  idempotency_ttl_secs: 86_400,
};
export const securityDefaults: z.infer<typeof securitySchema> = { audit_log_enabled: true };
/** Cluster mode on NATS JetStream (issue 16): its schema, defaults and rule live with the cluster code. */
export { clusterSchema, defaultClusterConfig as clusterDefaults } from '../../cluster/config.js';
