import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { corsPolicy, EXPOSED_HEADERS } from './cors.js';
import type { Security } from './security.js';

// The security checks as Hono middleware, for REST /v1 and MCP at /mcp. They throw CmpErrors, which
// the app's one error handler turns into the reference envelope (401 UNAUTHORIZED, 429 RATE_LIMITED
// with `retry_after` and a Retry-After header).

/** The socket peer of a request served by @hono/node-server; undefined in-process (`app.request`). */
function peerOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage | Http2ServerRequest } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

/** The client's address as the rate limiter and the MCP session caps see it. */
export function clientOf(security: Security, c: Context): string {
  return security.clientAddress(peerOf(c), (name) => c.req.header(name));
}

export function rateLimit(security: Security): MiddlewareHandler {
  return async function rateLimit(c, next) {
    security.admit(clientOf(security, c));
    await next();
  };
}

export function requireApiKey(security: Security): MiddlewareHandler {
  return async function requireApiKey(c, next) {
    security.keys.check(c.req.header('authorization'));
    await next();
  };
}

/**
 * CORS per reference spec §6.1 (see ./cors.ts): `"*"` reflects the origin with credentials, a list
 * allows exactly those origins without; any method and header. Undefined when no origin is configured.
 */
export function restCors(security: Security): MiddlewareHandler | undefined {
  const policy = corsPolicy(security.corsOrigins);
  if (policy === undefined) return undefined;
  return cors({
    origin: (origin) => policy.allowOrigin(origin),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    credentials: policy.credentials,
    exposeHeaders: EXPOSED_HEADERS,
  });
}
