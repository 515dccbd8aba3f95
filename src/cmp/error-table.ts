import type { CmpCode } from './errors.js';

// Every code's wire mapping, in one table (STYLE §6.4). `satisfies` makes an unmapped code a
// compile error. gRPC codes are connect-es Code names.
export interface WireMapping {
  http: number;
  grpc:
    | 'NotFound' | 'InvalidArgument' | 'ResourceExhausted' | 'Unavailable' | 'Internal'
    | 'AlreadyExists' | 'FailedPrecondition' | 'Unauthenticated' | 'PermissionDenied';
  retryable: boolean;
}

export const ERROR_TABLE = {
  RECORD_NOT_FOUND: { http: 404, grpc: 'NotFound', retryable: false },
  STORE_INVALID: { http: 400, grpc: 'InvalidArgument', retryable: false },
  CONTENT_TOO_LARGE: { http: 413, grpc: 'InvalidArgument', retryable: false },
  VALIDATION_ERROR: { http: 400, grpc: 'InvalidArgument', retryable: false },
  MODALITY_UNSUPPORTED: { http: 400, grpc: 'InvalidArgument', retryable: false },
  WORKING_MEMORY_FULL: { http: 503, grpc: 'ResourceExhausted', retryable: true },
  DECAY_ENGINE_BUSY: { http: 503, grpc: 'Unavailable', retryable: true },
  CONSOLIDATION_IN_PROGRESS: { http: 503, grpc: 'Unavailable', retryable: true },
  EXPORT_FAILED: { http: 500, grpc: 'Internal', retryable: false },
  IMPORT_CONFLICT: { http: 409, grpc: 'AlreadyExists', retryable: false },
  FORGET_UNCONFIRMED: { http: 400, grpc: 'FailedPrecondition', retryable: false },
  VERSION_MISMATCH: { http: 400, grpc: 'FailedPrecondition', retryable: false },
  UNAUTHORIZED: { http: 401, grpc: 'Unauthenticated', retryable: false },
  RATE_LIMITED: { http: 429, grpc: 'ResourceExhausted', retryable: true },
  INTERNAL_ERROR: { http: 500, grpc: 'Internal', retryable: false },
  STORE_UNAVAILABLE: { http: 503, grpc: 'Unavailable', retryable: true },
  FORBIDDEN: { http: 403, grpc: 'PermissionDenied', retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, grpc: 'InvalidArgument', retryable: false },
  // 507 Insufficient Storage (RFC 4918 §11.5). Not retryable as is: someone has to free space first.
  STORAGE_FULL: { http: 507, grpc: 'ResourceExhausted', retryable: false },
  // A read-only or failing disk does not heal on a retry; Internal, but with its own code and errno.
  STORAGE_ERROR: { http: 500, grpc: 'Internal', retryable: false },
} as const satisfies Record<CmpCode, WireMapping>;
