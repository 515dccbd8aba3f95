import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Code } from '@connectrpc/connect';
import type { CmpCode } from '../../cmp/errors.js';

// An RPC error answered before the Connect adapter runs (a refused origin, an unknown method), in the
// protocol the client speaks: gRPC and gRPC-Web get a trailers-only answer with `grpc-status`; Connect
// gets its JSON error body with the HTTP status its code maps to. The CMP code header is set as the
// adapter sets it, so our client reads the same CmpError either way.

const CONNECT_STATUS: Partial<Record<Code, number>> = {
  [Code.PermissionDenied]: 403,
  [Code.Unimplemented]: 404,
};

export function isGrpcRequest(request: IncomingMessage | Http2ServerRequest): boolean {
  return String(request.headers['content-type'] ?? '').startsWith('application/grpc');
}

export function writeRpcError(
  request: IncomingMessage | Http2ServerRequest,
  response: ServerResponse | Http2ServerResponse,
  error: { code: Code; message: string; cmpCode?: CmpCode; field?: string },
): void {
  const cmp = {
    ...(error.cmpCode === undefined ? {} : { 'cerememory-error-code': error.cmpCode }),
    ...(error.field === undefined ? {} : { 'cerememory-error-field': error.field }),
  };
  request.resume(); // drain the body so the connection can be reused
  if (isGrpcRequest(request)) {
    response.writeHead(200, {
      'content-type': String(request.headers['content-type']),
      'grpc-status': String(error.code),
      'grpc-message': encodeURIComponent(error.message),
      ...cmp,
    });
    response.end();
    return;
  }
  const name = Code[error.code].replace(/[A-Z]/g, (letter, at: number) => `${at === 0 ? '' : '_'}${letter.toLowerCase()}`);
  response.writeHead(CONNECT_STATUS[error.code] ?? 400, { 'content-type': 'application/json', ...cmp });
  response.end(JSON.stringify({ code: name, message: error.message }));
}
