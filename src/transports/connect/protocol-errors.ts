import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Code, ConnectError, type ConnectRouter } from '@connectrpc/connect';
import type { UniversalHandler, UniversalServerResponse } from '@connectrpc/connect/protocol';
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from '@connectrpc/connect/protocol-connect';
import { findTrailerError, setTrailerStatus } from '@connectrpc/connect/protocol-grpc';
import { CmpError } from '../../cmp/errors.js';
import { toConnectError } from './wire.js';

// The failures connect-es answers itself, before a request reaches our handlers, given the meaning
// the one error table gives them (issue 14, defect 9): malformed protobuf is the caller's fault, not
// INTERNAL; a body over the read limit is CONTENT_TOO_LARGE as on REST (413), not a 429 that reads
// as "rate limited, retry"; a method nobody serves is UNIMPLEMENTED, not a REST 400.

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;

/** The CMP meaning of an error connect-es raised while reading a request, if it is one of those. */
function cmpMeaning(error: ConnectError): CmpError | undefined {
  // Texts of connect-es 2.1 (protocol/serialization.ts, protocol/limit-io.ts), pinned in package.json.
  if (error.code === Code.Internal && error.rawMessage.startsWith('parse binary: ')) {
    return new CmpError('VALIDATION_ERROR', `body: malformed protobuf (${error.rawMessage.slice('parse binary: '.length)})`, { field: 'body', cause: error });
  }
  if (error.code === Code.ResourceExhausted && error.rawMessage.includes('readMaxBytes')) {
    return new CmpError('CONTENT_TOO_LARGE', error.rawMessage, { field: 'body', cause: error });
  }
  return undefined;
}

/**
 * Wraps every handler of `router` so those errors are answered with their CMP code, on the unary
 * protocols: Connect (status and JSON body) and gRPC (trailers). Call after the routes are added.
 */
export function withProtocolErrors(router: ConnectRouter): void {
  const handlers = router.handlers as UniversalHandler[];
  handlers.forEach((handler, i) => {
    const wrapped = async function protocolErrors(request: Parameters<UniversalHandler>[0]) {
      const response = await handler(request);
      const type = request.header.get('content-type') ?? '';
      if (type.startsWith('application/grpc-web')) return response;
      if (type.startsWith('application/grpc')) return grpcRemapped(response);
      if (/^application\/(json|proto)/.test(type)) return connectRemapped(response);
      return response;
    };
    handlers[i] = Object.assign(wrapped, { ...handler }) as UniversalHandler;
  });
}

/** gRPC: the status is in the trailers, set when the body has been produced (or before, if none). */
function grpcRemapped(response: UniversalServerResponse): UniversalServerResponse {
  const { trailer, body } = response;
  if (trailer === undefined) return response;
  const remap = () => {
    const error = findTrailerError(trailer);
    const meaning = error && cmpMeaning(error);
    if (meaning === undefined) return;
    // Also writes the error's metadata: the CMP code and field headers.
    setTrailerStatus(trailer, toConnectError(meaning));
  };
  remap();
  if (body === undefined) return response;
  return {
    ...response,
    body: (async function* remapAtEnd() {
      yield* body;
      remap();
    })(),
  };
}

/** Connect unary: an error is the whole (small) JSON body with the status derived from its code. */
async function connectRemapped(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (response.status < 400 || response.body === undefined) return response;
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const meaning = cmpMeaning(errorFromJsonBytes(bytes, undefined, new ConnectError('unreadable error', Code.Unknown)));
  if (meaning === undefined) return { ...response, body: single(bytes) };
  const error = toConnectError(meaning);
  const body = errorToJsonBytes(error, {});
  const header = new Headers(response.header);
  error.metadata.forEach((value, key) => header.set(key, value));
  header.set('content-length', String(body.byteLength));
  return { ...response, status: codeToHttpStatus(error.code), header, body: single(body) };
}

async function* single(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
