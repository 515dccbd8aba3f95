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

  /** Normalises anything thrown into a CmpError; unknown failures become INTERNAL_ERROR. */
  static from(reason: unknown): CmpError {
    if (isCmpError(reason)) return reason;
    return new CmpError('INTERNAL_ERROR', 'An internal error occurred', { cause: reason });
  }
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
