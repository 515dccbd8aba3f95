import type { DescMethod } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { CerememoryService } from '../../gen/cerememory/v1/cerememory_pb.js';
import { isOperationName, type OperationName, type Operations } from '../operations.js';
import { exportHandler, importHandler } from './archive-streams.js';
import { requestJson, responseMessage } from './convert.js';

// The Connect binding of CMP: `cerememory.v1.CerememoryService` for Connect, gRPC and gRPC-Web alike.
// The proto's field names are the CMP JSON names, so a request is decoded to its proto-JSON form and
// handed to the same parser as the REST binding; the CMP answer is read back into the typed response.
// Handlers only decode, call and encode: their failures become Connect errors in one interceptor
// (wire.ts `cmpErrorInterceptor`), which the adapter serving these routes is given first.

/**
 * Adjustments where the gRPC surface differs from the REST one: IntrospectRecord includes history,
 * associations and versions unless told otherwise (spec §6.2), and answers `{record}`.
 */
const REQUEST_DEFAULTS: Partial<Record<string, Record<string, unknown>>> = {
  introspectRecord: { include_history: true, include_associations: true, include_versions: true },
};
const WRAP_RESPONSE: Partial<Record<string, string>> = { introspectRecord: 'record' };

export interface ConnectServiceOptions {
  /** The CMP operations, audited as the runtime composed them (Runtime.operations). */
  operations: Operations;
}

export function cerememoryRoutes({ operations }: ConnectServiceOptions) {
  const streaming: Record<string, unknown> = { export: exportHandler(operations), import: importHandler(operations) };
  return (router: ConnectRouter): void => {
    const impl: Record<string, unknown> = {};
    for (const method of CerememoryService.methods) {
      const name = method.localName;
      if (method.methodKind === 'unary' && isOperationName(name)) {
        impl[name] = unaryHandler(method, name, operations);
      } else if (streaming[name] !== undefined) {
        impl[name] = streaming[name];
      } else {
        // The proto and the operation table disagree: a build defect, refused when the routes are made.
        throw new Error(`cerememory.v1.CerememoryService/${method.name} has no handler: add it to CMP_OPERATIONS or the streaming handlers`);
      }
    }
    router.service(CerememoryService, impl as never);
  };
}

function unaryHandler(method: DescMethod, name: OperationName, operations: Operations) {
  const defaults = REQUEST_DEFAULTS[name] ?? {};
  const wrap = WRAP_RESPONSE[name];
  return async function unary(request: unknown) {
    const input = { ...defaults, ...requestJson(method.input, request) };
    const result: unknown = await operations.call(name, input);
    return responseMessage(method.output, wrap ? { [wrap]: result } : result);
  };
}
