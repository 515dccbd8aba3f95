import type { CmpCode } from './errors.js';

// Every code's wire mapping, in one table (STYLE §6.4). `satisfies` makes an unmapped code a
// compile error. gRPC codes are connect-es Code names.
export interface WireMapping {
  http: number;
  grpc: 'NotFound' | 'InvalidArgument' | 'ResourceExhausted' | 'Unavailable' | 'Internal' | 'AlreadyExists' | 'FailedPrecondition' | 'Unauthenticated' | 'PermissionDenied';
  retryable: boolean;
  /**
   * What an MCP tool call answers (the SDK turns the thrown McpError into an `isError` result):
   * `invalid_params` the caller's arguments are wrong (JSON-RPC invalid params, spec §6.3), with code and
   * message; `busy` and `rate_limited` a fixed text with the retry delay; `unauthorized` a fixed text;
   * `internal` an internal error with code and message.
   */
  mcp: 'invalid_params' | 'busy' | 'rate_limited' | 'unauthorized' | 'internal';
}

export const ERROR_TABLE = {
  RECORD_NOT_FOUND: { http: 404, grpc: 'NotFound', retryable: false, mcp: 'invalid_params' },
  STORE_INVALID: { http: 400, grpc: 'InvalidArgument', retryable: false, mcp: 'invalid_params' },
  CONTENT_TOO_LARGE: { http: 413, grpc: 'InvalidArgument', retryable: false, mcp: 'invalid_params' },
  VALIDATION_ERROR: { http: 400, grpc: 'InvalidArgument', retryable: false, mcp: 'invalid_params' },
  MODALITY_UNSUPPORTED: { http: 400, grpc: 'InvalidArgument', retryable: false, mcp: 'invalid_params' },
  WORKING_MEMORY_FULL: { http: 503, grpc: 'ResourceExhausted', retryable: true, mcp: 'busy' },
  DECAY_ENGINE_BUSY: { http: 503, grpc: 'Unavailable', retryable: true, mcp: 'busy' },
  CONSOLIDATION_IN_PROGRESS: { http: 503, grpc: 'Unavailable', retryable: true, mcp: 'busy' },
  EXPORT_FAILED: { http: 500, grpc: 'Internal', retryable: false, mcp: 'internal' },
  IMPORT_CONFLICT: { http: 409, grpc: 'AlreadyExists', retryable: false, mcp: 'invalid_params' },
  FORGET_UNCONFIRMED: { http: 400, grpc: 'FailedPrecondition', retryable: false, mcp: 'invalid_params' },
  VERSION_MISMATCH: { http: 400, grpc: 'FailedPrecondition', retryable: false, mcp: 'invalid_params' },
  UNAUTHORIZED: { http: 401, grpc: 'Unauthenticated', retryable: false, mcp: 'unauthorized' },
  RATE_LIMITED: { http: 429, grpc: 'ResourceExhausted', retryable: true, mcp: 'rate_limited' },
  INTERNAL_ERROR: { http: 500, grpc: 'Internal', retryable: false, mcp: 'internal' },
  STORE_UNAVAILABLE: { http: 503, grpc: 'Unavailable', retryable: true, mcp: 'busy' },
  FORBIDDEN: { http: 403, grpc: 'PermissionDenied', retryable: false, mcp: 'internal' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 'InvalidArgument', retryable: false, mcp: 'internal' },
  // 507 Insufficient Storage (RFC 4918 §11.5). Not retryable as is: someone has to free space first.
  STORAGE_FULL: { http: 507, grpc: 'ResourceExhausted', retryable: false, mcp: 'internal' },
  // A read-only or failing disk does not heal on a retry; Internal, but with its own code and errno.
  STORAGE_ERROR: { http: 500, grpc: 'Internal', retryable: false, mcp: 'internal' },
} as const satisfies Record<CmpCode, WireMapping>;
