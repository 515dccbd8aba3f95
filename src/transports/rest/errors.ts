import { CmpError } from '../../cmp/errors.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';

// The reference's error envelope (spec §3.22): `{code, message, details, retry_after, request_id}`.
// Internal errors are sanitised: the message a client sees never carries a path or a stack.

export interface ErrorEnvelope {
  code: string;
  message: string;
  details: { field: string } | null;
  retry_after: number | null;
  request_id?: string;
}

export function toEnvelope(error: CmpError, requestId: string | undefined): { status: number; body: ErrorEnvelope } {
  const mapping = ERROR_TABLE[error.code];
  const message = error.code === 'INTERNAL_ERROR' ? 'An internal error occurred' : error.message;
  return {
    status: mapping.http,
    body: {
      code: error.code,
      message,
      details: error.field === undefined ? null : { field: error.field },
      retry_after: error.retryAfter ?? null,
      ...(requestId === undefined ? {} : { request_id: requestId }),
    },
  };
}
