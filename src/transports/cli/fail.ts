import { InvalidArgumentError } from 'commander';
import { AuditLogError } from '../../audit/audit-log.js';
import { isCmpError } from '../../cmp/errors.js';
import { ConfigError } from '../../runtime/config/index.js';
import { DataDirLockedError, DataDirMissingError, DataDirOpenError } from '../../runtime/data-dir-lock.js';
import { StoreKeyError } from '../../runtime/store-key.js';

/** A failed system call (fs, net): a user can act on it from its message alone. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string' && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/** Errors a user can act on print one clear message; anything else prints its stack. */
export function fail(error: unknown): never {
  if (
    error instanceof ConfigError ||
    error instanceof DataDirLockedError ||
    error instanceof DataDirMissingError ||
    error instanceof DataDirOpenError ||
    error instanceof AuditLogError ||
    error instanceof StoreKeyError
  ) {
    console.error(`cerememory: ${error.message}`);
  } else if (isCmpError(error)) {
    console.error(`cerememory: ${error.code}: ${error.message}${error.retryAfter === undefined ? '' : ` (retry after ${error.retryAfter} s)`}`);
  } else if (error instanceof InvalidArgumentError) {
    console.error(`cerememory: ${error.message}`);
  } else if (isSystemError(error)) {
    // Node's own text names the errno, the call and the path ("EACCES: permission denied, open '…'").
    console.error(`cerememory: ${error.message}`);
  } else {
    console.error('cerememory: failed:', error);
  }
  process.exit(1);
}
