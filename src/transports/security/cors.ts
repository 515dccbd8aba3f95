import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

// CORS policy (reference spec §6.1), decided once, applied by two adapters: Hono's `cors` for REST and
// MCP (./rest.ts), and `connectCors` below for Connect and gRPC-Web, whose routes are answered by the
// Connect adapter before Hono sees them. No origins → no CORS headers anywhere.

export interface CorsPolicy {
  /** The value for Access-Control-Allow-Origin, or null when this origin gets no CORS headers. */
  allowOrigin(origin: string): string | null;
  /** `"*"` configured: credentials are allowed (the origin is reflected, never a literal "*"). */
  readonly credentials: boolean;
}

/** Headers a page may read: ours, plus what Connect and gRPC-Web clients need to see errors. */
export const EXPOSED_HEADERS = ['x-request-id', 'retry-after'];
const RPC_EXPOSED_HEADERS = [...EXPOSED_HEADERS, 'cerememory-error-code', 'cerememory-error-field', 'grpc-status', 'grpc-message', 'grpc-status-details-bin'];

export function corsPolicy(origins: readonly string[]): CorsPolicy | undefined {
  if (origins.length === 0) return undefined;
  const any = origins.includes('*');
  const allowed = new Set(origins.map((origin) => origin.replace(/\/$/, '')));
  return {
    allowOrigin: (origin) => (origin !== '' && (any || allowed.has(origin)) ? origin : null),
    credentials: any,
  };
}

type NodeHandler = (request: IncomingMessage | Http2ServerRequest, response: ServerResponse | Http2ServerResponse) => void;

/**
 * CORS for the RPC paths (`/<package>.<Service>/<Method>`) in front of the Connect adapter: headers on
 * allowed origins' requests, and preflights answered here (before auth, as on REST).
 */
export function connectCors(policy: CorsPolicy | undefined, isRpcPath: (path: string) => boolean, handler: NodeHandler): NodeHandler {
  if (policy === undefined) return handler;
  return function withCors(request, response) {
    const origin = request.headers.origin;
    const path = (request.url ?? '/').split('?')[0]!;
    const allow = typeof origin === 'string' && isRpcPath(path) ? policy.allowOrigin(origin) : null;
    if (allow === null) return handler(request, response);
    response.setHeader('access-control-allow-origin', allow);
    response.setHeader('vary', 'Origin');
    if (policy.credentials) response.setHeader('access-control-allow-credentials', 'true');
    if (request.method === 'OPTIONS') {
      response.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
      const asked = request.headers['access-control-request-headers'];
      if (typeof asked === 'string') response.setHeader('access-control-allow-headers', asked);
      response.setHeader('access-control-max-age', '7200');
      response.statusCode = 204;
      response.end();
      return;
    }
    response.setHeader('access-control-expose-headers', RPC_EXPOSED_HEADERS.join(', '));
    handler(request, response);
  };
}
