import { Code, ConnectError } from '@connectrpc/connect';
import { CmpError, isServerFault } from '../../cmp/errors.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';

// The CMP error as a Connect error, the translation every Connect handler makes (messages: convert.ts).

/** Response header that carries the CMP error code, so clients get `VALIDATION_ERROR`, not just a status. */
export const CMP_CODE_HEADER = 'cerememory-error-code';
/** Response header naming the request field at fault, when there is one. */
export const CMP_FIELD_HEADER = 'cerememory-error-field';

/** The CMP error as a Connect error: status from the one error table, the CMP code and retry hint as metadata. */
export function toConnectError(error: unknown, log?: (line: string) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  const cmpError = CmpError.from(error);
  if (isServerFault(cmpError)) log?.(`connect: ${String(cmpError.cause ?? cmpError)}`);
  const metadata = new Headers({ [CMP_CODE_HEADER]: cmpError.code });
  if (cmpError.retryAfter !== undefined) metadata.set('retry-after', String(cmpError.retryAfter));
  if (cmpError.field !== undefined) metadata.set(CMP_FIELD_HEADER, cmpError.field);
  return new ConnectError(cmpError.message, Code[ERROR_TABLE[cmpError.code].grpc], metadata);
}

