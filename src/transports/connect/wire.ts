import { toJson, type DescMessage } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { CmpError } from '../../cmp/errors.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';

// The two translations every Connect handler makes: a request message to its CMP JSON form, and a CMP
// error to a Connect error.

/** Response header that carries the CMP error code, so clients get `VALIDATION_ERROR`, not just a status. */
export const CMP_CODE_HEADER = 'cerememory-error-code';
/** Response header naming the request field at fault, when there is one. */
export const CMP_FIELD_HEADER = 'cerememory-error-field';

const JSON_WRITE = { useProtoFieldName: true } as const;

/** The request's proto-JSON form; a message that has none (e.g. an empty google.protobuf.Value) is invalid input. */
export function requestJson(schema: DescMessage, message: unknown): Record<string, unknown> {
  try {
    return toJson(schema, message as never, JSON_WRITE) as Record<string, unknown>;
  } catch (error) {
    throw new CmpError('VALIDATION_ERROR', `request: ${(error as Error).message}`, { cause: error });
  }
}

/** The CMP error as a Connect error: status from the one error table, the CMP code and retry hint as metadata. */
export function toConnectError(error: unknown, log?: (line: string) => void): ConnectError {
  if (error instanceof ConnectError) return error;
  const cmpError = CmpError.from(error);
  if (cmpError.code === 'INTERNAL_ERROR') log?.(`connect: ${String(cmpError.cause ?? cmpError)}`);
  const metadata = new Headers({ [CMP_CODE_HEADER]: cmpError.code });
  if (cmpError.retryAfter !== undefined) metadata.set('retry-after', String(cmpError.retryAfter));
  if (cmpError.field !== undefined) metadata.set(CMP_FIELD_HEADER, cmpError.field);
  return new ConnectError(cmpError.message, Code[ERROR_TABLE[cmpError.code].grpc], metadata);
}

