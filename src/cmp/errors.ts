import { storageCause } from './storage-cause.js';

// One typed error for every CMP failure (reference spec §3.22, STYLE §6.4). It is thrown where the
// problem is found, crosses worker boundaries intact (src/runtime/error-transfer.ts) and is turned into
// a wire error by each transport through src/cmp/error-table.ts.

export const CMP_CODES = [
  'RECORD_NOT_FOUND',
  'STORE_INVALID',
  'CONTENT_TOO_LARGE',
  'VALIDATION_ERROR',
  'MODALITY_UNSUPPORTED',
  'WORKING_MEMORY_FULL',
  'DECAY_ENGINE_BUSY',
  'CONSOLIDATION_IN_PROGRESS',
  'EXPORT_FAILED',
  'IMPORT_CONFLICT',
  'FORGET_UNCONFIRMED',
  'VERSION_MISMATCH',
  'UNAUTHORIZED',
  'RATE_LIMITED',
  'INTERNAL_ERROR',
  // Ours: a store actor is restarting or its mailbox is full; the call may be retried as is.
  'STORE_UNAVAILABLE',
  // Ours: the request's Host or Origin is not one the server trusts (a web page, DNS rebinding).
  'FORBIDDEN',
  // Ours: a mutating request whose body is not JSON (a browser's cross-site form or text/plain).
  'UNSUPPORTED_MEDIA_TYPE',
  // Ours (issue 14, defect 7): the data disk is full (ENOSPC, EDQUOT), or refuses writes or fails
  // (EROFS, EIO, EACCES, a LevelDB I/O error). Not the request's fault, and not a bug either.
  'STORAGE_FULL',
  'STORAGE_ERROR',
] as const;
export type CmpCode = (typeof CMP_CODES)[number];

export interface CmpErrorOptions {
  /** Kept for the log; never sent over a wire. */
  cause?: unknown;
  /** Seconds after which a retry is expected to succeed. */
  retryAfter?: number;
  /** The request field at fault, dotted (e.g. `records.3.content.blocks.0.data`). */
  field?: string;
}

export class CmpError extends Error {
  override readonly name = 'CmpError';
  readonly code: CmpCode;
  readonly retryAfter: number | undefined;
  readonly field: string | undefined;

  constructor(code: CmpCode, message: string, options: CmpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfter = options.retryAfter;
    this.field = options.field;
  }

  /** Normalises anything thrown into a CmpError; a failing disk is a storage error, other unknown failures INTERNAL_ERROR. */
  static from(reason: unknown): CmpError {
    if (isCmpError(reason)) return reason;
    return storageError(reason) ?? new CmpError('INTERNAL_ERROR', 'An internal error occurred', { cause: reason });
  }
}

const FULL_ERRNOS: readonly string[] = ['ENOSPC', 'EDQUOT'];
const FAILED_ERRNOS: readonly string[] = ['EROFS', 'EIO', 'EACCES'];

/**
 * STORAGE_FULL or STORAGE_ERROR when `reason` (or a cause of it) is the disk failing, else undefined.
 * The message names the errno only: clients never see a path (the cause keeps it for the log).
 */
export function storageError(reason: unknown): CmpError | undefined {
  const { errno, text } = storageCause(reason);
  if (errno !== undefined && FULL_ERRNOS.includes(errno)) {
    return new CmpError('STORAGE_FULL', `The server's storage is full: ${text}`, { cause: reason });
  }
  if (errno !== undefined && FAILED_ERRNOS.includes(errno)) {
    return new CmpError('STORAGE_ERROR', `The server's storage failed: ${text}`, { cause: reason });
  }
  // classic-level's code for every LevelDB IOError whose text named no errno we know.
  for (let link = reason; link instanceof Error; link = link.cause) {
    if ((link as { code?: unknown }).code === 'LEVEL_IO_ERROR') {
      return new CmpError('STORAGE_ERROR', "The server's storage failed: I/O error", { cause: reason });
    }
  }
  return undefined;
}

/** Failures of the server rather than the request: logged with their cause wherever they reach a wire. */
export function isServerFault(error: CmpError): boolean {
  return error.code === 'INTERNAL_ERROR' || error.code === 'STORAGE_FULL' || error.code === 'STORAGE_ERROR';
}

/** Recognises a CmpError by shape, so errors rebuilt in another thread or module copy still count. */
export function isCmpError(value: unknown): value is CmpError {
  return (
    value instanceof Error &&
    value.name === 'CmpError' &&
    typeof (value as { code?: unknown }).code === 'string' &&
    (CMP_CODES as readonly string[]).includes((value as unknown as { code: string }).code)
  );
}

/** A VALIDATION_ERROR that names the field; the message starts with the field so it reads well alone. */
export function invalidField(field: string, problem: string): CmpError {
  return new CmpError('VALIDATION_ERROR', `${field}: ${problem}`, { field });
}
