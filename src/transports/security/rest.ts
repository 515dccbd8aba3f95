import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Security } from './security.js';

// The security checks as Hono middleware, for REST /v1 and MCP at /mcp. They throw CmpErrors, which
// the app's one error handler turns into the reference envelope (401 UNAUTHORIZED, 429 RATE_LIMITED
// with `retry_after` and a Retry-After header).

/** The socket peer of a request served by @hono/node-server; undefined in-process (`app.request`). */
function peerOf(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: IncomingMessage | Http2ServerRequest } | undefined)?.incoming;
  return incoming?.socket?.remoteAddress;
}

export function rateLimit(security: Security): MiddlewareHandler {
  return async function rateLimit(c, next) {
    security.admit(security.clientAddress(peerOf(c), (name) => c.req.header(name)));
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
 * CORS per reference spec §6.1: no origins → no CORS headers at all; `"*"` → the request's Origin is
 * reflected and credentials allowed; otherwise only the listed origins, without credentials. Any
 * method and header; `x-request-id` and `retry-after` are readable by the page. Undefined when off.
 */
export function corsPolicy(security: Security): MiddlewareHandler | undefined {
  const origins = security.corsOrigins;
  if (origins.length === 0) return undefined;
  const any = origins.includes('*');
  const allowed = new Set(origins.map((origin) => origin.replace(/\/$/, '')));
  return cors({
    origin: (origin) => (any || allowed.has(origin) ? origin : null),
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    credentials: any,
    exposeHeaders: ['x-request-id', 'retry-after'],
  });
}
