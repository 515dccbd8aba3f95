import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { CmpError, isServerFault } from '../../cmp/errors.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';

// The CMP error as a Connect error, made once for every handler by one interceptor (messages: convert.ts).

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

/**
 * The one place a Connect handler's failure becomes a Connect error (Hono's compose.ts: errors caught
 * once, handed to one handler): a unary or client-streaming call whose handler rejects, a
 * server-streaming one whose stream fails part-way. Give it first to the adapter, so it is the
 * outermost interceptor and translates the others' failures too.
 */
export function cmpErrorInterceptor(log?: (line: string) => void): Interceptor {
  return (next) =>
    async function translateErrors(request) {
      let response;
      try {
        response = await next(request);
      } catch (error) {
        throw toConnectError(error, log);
      }
      if (!response.stream) return response;
      const messages = response.message;
      async function* translated() {
        try {
          yield* messages;
        } catch (error) {
          throw toConnectError(error, log);
        }
      }
      return { ...response, message: translated() };
    };
}
