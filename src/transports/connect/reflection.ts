import { create, createRegistry, toBinary, type DescFile } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ConnectRouter } from '@connectrpc/connect';
import { ServerReflection, ServerReflectionResponseSchema, type ServerReflectionRequest, type ServerReflectionResponse } from '../../gen/grpc/reflection/v1/reflection_pb.js';

// gRPC server reflection (grpc.reflection.v1), so `buf curl --list-methods` and grpcurl work without a
// schema. connect-es has none built in; this answers the three questions clients ask from the
// descriptors the generated code already embeds. Reflection is a bidi stream, so HTTP/2 only.

const NOT_FOUND = 5;
const UNIMPLEMENTED = 12;

export function reflectionRoutes(files: DescFile[], serviceNames: string[]) {
  const registry = createRegistry(...files);
  const byName = new Map<string, DescFile>();
  const collect = (file: DescFile) => {
    if (byName.has(file.name)) return;
    byName.set(file.name, file);
    file.dependencies.forEach(collect);
  };
  files.forEach(collect);

  /** The file and everything it imports, serialised, as the protocol asks. */
  const withDependencies = (file: DescFile): Uint8Array[] => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile) => {
      if (seen.has(f.name)) return;
      seen.add(f.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  };

  const fileOfSymbol = (symbol: string): DescFile | undefined => {
    const direct = registry.get(symbol);
    if (direct && 'file' in direct) return direct.file;
    // A method ("pkg.Service.Method") or a field: look up its parent.
    const parent = registry.get(symbol.slice(0, symbol.lastIndexOf('.')));
    return parent && 'file' in parent ? parent.file : undefined;
  };

  function answer(request: ServerReflectionRequest): ServerReflectionResponse['messageResponse'] {
    const { messageRequest: ask } = request;
    const error = (errorCode: number, errorMessage: string) => ({ case: 'errorResponse', value: { errorCode, errorMessage } }) as const;
    switch (ask.case) {
      case 'listServices':
        return { case: 'listServicesResponse', value: { service: serviceNames.map((name) => ({ name })) } } as never;
      case 'fileByFilename': {
        const file = byName.get(ask.value);
        return file ? ({ case: 'fileDescriptorResponse', value: { fileDescriptorProto: withDependencies(file) } } as never) : (error(NOT_FOUND, `file not found: ${ask.value}`) as never);
      }
      case 'fileContainingSymbol': {
        const file = fileOfSymbol(ask.value);
        return file ? ({ case: 'fileDescriptorResponse', value: { fileDescriptorProto: withDependencies(file) } } as never) : (error(NOT_FOUND, `symbol not found: ${ask.value}`) as never);
      }
      default:
        return error(UNIMPLEMENTED, `${ask.case ?? 'empty request'} is not supported`) as never;
    }
  }

  return (router: ConnectRouter): void => {
    router.service(ServerReflection, {
      async *serverReflectionInfo(requests: AsyncIterable<ServerReflectionRequest>) {
        for await (const request of requests) {
          yield create(ServerReflectionResponseSchema, {
            validHost: request.host,
            originalRequest: request,
            messageResponse: answer(request),
          });
        }
      },
    });
  };
}
