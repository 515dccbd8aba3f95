// The edge's sections: [http], [auth], [mcp], [rate_limit], [log] (reference spec §6.1, §9.2).

import { isIP } from 'node:net';
import { z } from 'zod';
import { bool, int, list, nonBlank, oneOf, positive, table } from './fields.js';

/** `ip/prefix`, prefix ≤ 32 for IPv4 and ≤ 128 for IPv6 (reference spec §9.2). */
function isCidr(value: string): boolean {
  const match = /^([^/]+)\/(\d{1,3})$/.exec(value.trim());
  if (!match) return false;
  const family = isIP(match[1]);
  const prefix = Number(match[2]);
  return (family === 4 && prefix <= 32) || (family === 6 && prefix <= 128);
}

/**
 * `*` or a host name a browser may put in `Host` (`memory.lan`, `*.example.test`), without scheme or port:
 * IP literals and `localhost` are always accepted (DNS rebinding needs a name), so they need no entry.
 */
function isAllowedHost(value: string): boolean {
  return value === '*' || /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i.test(value);
}

/** `*` or a bare origin (`scheme://host[:port]`, no path): the reference silently dropped anything else. */
function isCorsOrigin(value: string): boolean {
  if (value === '*') return true;
  try {
    const url = new URL(value);
    return url.origin !== 'null' && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

export const httpSchema = table({
  /**
   * TCP port for Connect, REST and MCP-over-HTTP. Default 8420, range 0..65535.
   * 0 asks the OS for a free port and is accepted only from flags (tests); from a file or env it is an error.
   */
  port: int(0, 65535),
  /** Interface to listen on: an IP literal or "localhost". Default "127.0.0.1". */
  bind_address: z.string({ error: 'expected an IP address or "localhost"' }).refine((s) => s === 'localhost' || isIP(s) !== 0, { error: 'expected an IP address or "localhost"' }),
  /** CORS allow-list (reference spec §6.1): empty = no CORS headers, "*" = any origin. Default []. */
  cors_origins: list(z.string({ error: 'expected "*" or an origin like "https://app.example"' }).refine(isCorsOrigin, { error: 'expected "*" or an origin like "https://app.example"' })),
  /**
   * Host names the server answers besides IP literals and localhost (DNS-rebinding guard): a request
   * whose `Host` is another name is refused with 403. `"*.lan"` matches sub-domains, `"*"` any host.
   * Default []. Env: also `CEREMEMORY_HTTP_ALLOWED_HOSTS=a,b`.
   */
  allowed_hosts: list(
    z.string({ error: 'expected "*" or a host name like "memory.lan" (no scheme, no port)' }).refine(isAllowedHost, { error: 'expected "*" or a host name like "memory.lan" (no scheme, no port)' }),
  ),
  /**
   * Proxies whose X-Forwarded-For / X-Real-IP are trusted, as `ip/prefix` (v4 <= 32, v6 <= 128).
   * Default []. Env: also `CEREMEMORY_HTTP_TRUSTED_PROXY_CIDRS=a,b`.
   */
  trusted_proxy_cidrs: list(z.string({ error: 'expected a CIDR "ip/prefix"' }).refine(isCidr, { error: 'expected a CIDR "ip/prefix" (IPv4 prefix <= 32, IPv6 prefix <= 128)' })),
  /** Expose Prometheus `/metrics`. Default false. */
  metrics_enabled: bool(),
  /** Largest accepted request body. Bytes, default 67108864 (64 MiB, reference spec §6.1), range >= 1. */
  max_body_bytes: int(1),
});

export const authSchema = table({
  /** Require a bearer API key on API routes. Default false; true requires at least one key. */
  enabled: bool(),
  /** Accepted API keys. Default [], no blank entries. Env: `CEREMEMORY_AUTH_API_KEYS=a,b`. */
  api_keys: list(nonBlank()),
});

export const mcpSchema = table({
  /**
   * MCP over Streamable HTTP: a session unused this long is closed (its client gets 404 and starts a
   * new one, as the MCP specification asks). Seconds, default 1800, range >= 1.
   */
  session_idle_timeout_secs: int(1),
  /** Open sessions per client address; a new one closes that client's least recently used. Default 32. */
  max_sessions_per_client: int(1),
  /** Open sessions in all; beyond it `initialize` is refused (503, retry later). Default 256. */
  max_sessions: int(1),
});

export const rateLimitSchema = table({
  /** Token refill rate per client IP. Requests/second, default 100, range > 0. */
  requests_per_second: positive(),
  /** Token bucket size per client IP. Requests, default 50, range >= 1. */
  burst: int(1),
});

export const logSchema = table({
  /** Default "info". */
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error']),
  /** Default "pretty". */
  format: oneOf(['pretty', 'json']),
});

export const httpDefaults: z.infer<typeof httpSchema> = {
  port: 8420,
  bind_address: '127.0.0.1',
  cors_origins: [],
  allowed_hosts: [],
  trusted_proxy_cidrs: [],
  metrics_enabled: false,
  max_body_bytes: 64 * 1024 * 1024,
};
export const authDefaults: z.infer<typeof authSchema> = { enabled: false, api_keys: [] };
export const mcpDefaults: z.infer<typeof mcpSchema> = { session_idle_timeout_secs: 1800, max_sessions_per_client: 32, max_sessions: 256 };
export const rateLimitDefaults: z.infer<typeof rateLimitSchema> = { requests_per_second: 100, burst: 50 };
export const logDefaults: z.infer<typeof logSchema> = { level: 'info', format: 'pretty' };
