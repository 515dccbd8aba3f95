import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { createContextKey, createContextValues, type Interceptor } from '@connectrpc/connect';
import { AUTH_MESSAGES } from './api-keys.js';
import type { Security } from './security.js';

// The security checks for Connect, gRPC and gRPC-Web: the adapter records the client address of each
// request (the socket is only visible there), and an interceptor rate-limits, then checks the
// `authorization` metadata. Failures are CmpErrors, made Connect errors with the CMP code in
// `cerememory-error-code` by cmpErrorInterceptor (connect/wire.ts), the adapter's outermost interceptor
// (Unauthenticated / UNAUTHORIZED, ResourceExhausted / RATE_LIMITED with retry-after).

export const CLIENT_ADDRESS = createContextKey<string>('127.0.0.1', { description: 'client address for rate limiting' });

function firstHeader(value: string | string[] | undefined): string | null {
  return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
}

/** For `connectNodeAdapter({ contextValues })`. */
export function connectContextValues(security: Security) {
  return function clientContext(request: IncomingMessage | Http2ServerRequest) {
    const client = security.clientAddress(request.socket?.remoteAddress, (name) => firstHeader(request.headers[name]));
    return createContextValues().set(CLIENT_ADDRESS, client);
  };
}

/**
 * Checks calls to `services` (by type name); others (gRPC health, reflection) stay open, like /health,
 * so probes and tooling work without a key.
 */
export function securityInterceptor(security: Security, services: readonly string[]): Interceptor {
  const guarded = new Set(services);
  return (next) =>
    async function checkSecurity(request) {
      if (guarded.has(request.service.typeName)) {
        security.admit(request.contextValues.get(CLIENT_ADDRESS));
        security.keys.check(request.header.get('authorization'), AUTH_MESSAGES.missingMetadata);
      }
      return next(request);
    };
}
