import { CmpError } from '../../cmp/errors.js';
import type { CerememoryConfig } from '../../runtime/config/index.js';
import { apiKeys, NO_AUTH, type ApiKeys } from './api-keys.js';
import { clientAddressResolver, type ClientAddressOf } from './client-address.js';
import { RateLimiter } from './rate-limiter.js';

// The server's cross-cutting checks, built once from the configuration and shared by every transport
// on the port (REST, MCP over HTTP, Connect/gRPC/gRPC-Web), so one client has one rate-limit bucket
// whatever protocol it speaks. The transports only adapt: see ./rest.ts and ./connect.ts.

export interface Security {
  readonly authEnabled: boolean;
  readonly keys: ApiKeys;
  readonly clientAddress: ClientAddressOf;
  readonly limiter: RateLimiter;
  /** Throws RATE_LIMITED (with retry_after) when `client` has no token left. */
  admit(client: string): void;
  /** CORS allow-list (`[]` = no CORS headers, `"*"` = any origin). */
  readonly corsOrigins: readonly string[];
}

export function createSecurity(config: CerememoryConfig, options: { now?: () => number } = {}): Security {
  const limiter = new RateLimiter({
    requestsPerSecond: config.rate_limit.requests_per_second,
    burst: config.rate_limit.burst,
    now: options.now,
  });
  return {
    authEnabled: config.auth.enabled,
    keys: config.auth.enabled ? apiKeys(config.auth.api_keys) : NO_AUTH,
    clientAddress: clientAddressResolver(config.http.trusted_proxy_cidrs),
    limiter,
    admit(client) {
      const admission = limiter.admit(client);
      if (!admission.allowed) {
        throw new CmpError('RATE_LIMITED', `Rate limit exceeded. Retry after ${admission.retryAfterSecs} seconds.`, {
          retryAfter: admission.retryAfterSecs,
        });
      }
    },
    corsOrigins: config.http.cors_origins,
  };
}
