import { fromJson, toJson, type DescMessage, type DescMethod, type JsonValue } from '@bufbuild/protobuf';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import type { Hippocampus } from '../../actors/hippocampus/coordinator.js';
import { CmpError } from '../../cmp/errors.js';
import { ERROR_TABLE } from '../../cmp/error-table.js';
import { CerememoryService } from '../../gen/cerememory/v1/cerememory_pb.js';
import { CMP_OPERATIONS, isOperationName } from '../operations.js';

// The Connect binding of CMP: `cerememory.v1.CerememoryService` for Connect, gRPC and gRPC-Web alike.
// The proto's field names are the CMP JSON names, so a request is decoded to its proto-JSON form and
// handed to the same parser as the REST binding; the CMP answer is read back into the typed response.

/** Response header that carries the CMP error code, so clients get `VALIDATION_ERROR`, not just a status. */
export const CMP_CODE_HEADER = 'cerememory-error-code';
/** Response header naming the request field at fault, when there is one. */
export const CMP_FIELD_HEADER = 'cerememory-error-field';

const JSON_READ = { ignoreUnknownFields: true } as const;
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

/**
 * Adjustments where the gRPC surface differs from the REST one: IntrospectRecord includes history,
 * associations and versions unless told otherwise (spec §6.2), and answers `{record}`.
 */
const REQUEST_DEFAULTS: Partial<Record<string, Record<string, unknown>>> = {
  introspectRecord: { include_history: true, include_associations: true, include_versions: true },
};
const WRAP_RESPONSE: Partial<Record<string, string>> = { introspectRecord: 'record' };

export interface ConnectServiceOptions {
  hippocampus: Hippocampus;
  log?: (line: string) => void;
  /** Streaming RPCs (Export, Import), implemented by the archive room. */
  streaming?: Partial<Record<'export' | 'import', (...args: never[]) => unknown>>;
}

export function cerememoryRoutes({ hippocampus, log, streaming = {} }: ConnectServiceOptions) {
  return (router: ConnectRouter): void => {
    const impl: Record<string, unknown> = {};
    for (const method of CerememoryService.methods) {
      const name = method.localName;
      if (method.methodKind === 'unary' && isOperationName(name)) {
        impl[name] = unaryHandler(method, name, hippocampus, log);
      } else {
        impl[name] =
          streaming[name as 'export' | 'import'] ??
          (() => {
            throw new ConnectError(`${method.name} is not available on this server yet`, Code.Unimplemented);
          });
      }
    }
    router.service(CerememoryService, impl as never);
  };
}

function unaryHandler(method: DescMethod, name: keyof typeof CMP_OPERATIONS, hippocampus: Hippocampus, log?: (line: string) => void) {
  const defaults = REQUEST_DEFAULTS[name] ?? {};
  const wrap = WRAP_RESPONSE[name];
  return async (request: unknown) => {
    try {
      const input = { ...defaults, ...requestJson(method.input, request) };
      const result: unknown = await CMP_OPERATIONS[name](hippocampus, input);
      return fromJson(method.output, (wrap ? { [wrap]: result } : result) as JsonValue, JSON_READ);
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
}
