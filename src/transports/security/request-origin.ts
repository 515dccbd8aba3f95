import { isIP } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { CmpError } from '../../cmp/errors.js';
import { toEnvelope } from '../rest/errors.js';
import { isGrpcRequest, writeRpcError } from '../connect/raw-error.js';
import { Code } from '@connectrpc/connect';

// The port's front door against web pages (issue 14, defect 1). Every HTTP endpoint is reachable by any
// page the user opens: a page can POST to 127.0.0.1 with `mode: "no-cors"` (its request is sent, only
// the answer is hidden), and through a DNS-rebinding name it can even read the answers. Two checks, for
// every transport on the port (REST, MCP over HTTP, Connect, gRPC, gRPC-Web), before anything else runs:
// - Host: an IP literal, `localhost`, or a name in `http.allowed_hosts`. Rebinding needs a name of the
//   attacker's, so a Host that is an IP literal cannot be one.
// - Origin: a browser names the page that sent a request in `Origin` (every POST, and every cross-origin
//   fetch) or at least in `Sec-Fetch-Site`. Same-origin requests (the console) and `http.cors_origins`
//   pass; other pages are refused. Clients that send neither header (curl, SDKs, agents) are not browsers
//   and pass, as do a user's own navigations (typing the URL, following a link).

/** What a request says about where it comes from; header values as received (lower-case names). */
export interface RequestOrigin {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  secFetchSite: string | undefined;
  secFetchMode: string | undefined;
}

export interface Refusal {
  /** The header at fault, named in the error like a request field. */
  field: 'host' | 'origin' | 'sec-fetch-site';
  message: string;
}

export interface RequestOriginPolicy {
  /** Why this request is refused, or null when it may go on. */
  refusal(request: RequestOrigin): Refusal | null;
}

export function requestOriginPolicy(options: { allowedHosts: readonly string[]; corsOrigins: readonly string[] }): RequestOriginPolicy {
  const anyHost = options.allowedHosts.includes('*');
  const hostNames = options.allowedHosts.filter((host) => host !== '*').map((host) => host.toLowerCase().replace(/\.$/, ''));
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins.map((origin) => origin.replace(/\/$/, '')));

  const hostAllowed = (hostname: string) =>
    anyHost ||
    isIP(hostname) !== 0 ||
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostNames.some((name) => (name.startsWith('*.') ? hostname.endsWith(name.slice(1)) : hostname === name));

  return {
    refusal({ method, host, origin, secFetchSite, secFetchMode }) {
      if (host !== undefined) {
        const hostname = hostnameOf(host);
        if (hostname === undefined || !hostAllowed(hostname)) {
          return {
            field: 'host',
            message: `host: ${JSON.stringify(host)} is not a host this server answers; add its name to http.allowed_hosts to allow it`,
          };
        }
      }
      if (origin !== undefined) {
        if (anyOrigin || origins.has(origin) || sameOrigin(origin, host)) return null;
        return {
          field: 'origin',
          message: `origin: requests from ${JSON.stringify(origin)} are refused; add it to http.cors_origins to allow that page`,
        };
      }
      // No Origin: a browser still says whether another site sent the request. A navigation (a link the
      // user followed) only reads a page and is let through; anything else from another site is not.
      const crossSite = secFetchSite === 'cross-site' || secFetchSite === 'same-site';
      const navigation = secFetchMode === 'navigate' && (method === 'GET' || method === 'HEAD');
      if (crossSite && !navigation && !anyOrigin) {
        return { field: 'sec-fetch-site', message: `sec-fetch-site: a ${secFetchSite} request from a web page is refused` };
      }
      return null;
    },
  };
}

/** `127.0.0.1:8420` → `127.0.0.1`, `[::1]:8420` → `::1`, `Memory.LAN.` → `memory.lan`; undefined when unparsable. */
function hostnameOf(host: string): string | undefined {
  try {
    const hostname = new URL(`http://${host}/`).hostname.toLowerCase().replace(/\.$/, '');
    return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  } catch {
    return undefined;
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`${url.protocol}//${host}/`).host;
  } catch {
    return false;
  }
}

type NodeRequest = IncomingMessage | Http2ServerRequest;
type NodeResponse = ServerResponse | Http2ServerResponse;
type NodeHandler = (request: NodeRequest, response: NodeResponse) => void;

function header(request: NodeRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function requestOriginOf(request: NodeRequest): RequestOrigin {
  return {
    method: request.method ?? 'GET',
    // HTTP/2 carries the host as :authority (Node's compatibility layer does not copy it to `host`).
    host: header(request, 'host') ?? header(request, ':authority'),
    origin: header(request, 'origin'),
    secFetchSite: header(request, 'sec-fetch-site'),
    secFetchMode: header(request, 'sec-fetch-mode'),
  };
}

/**
 * `handler` behind the policy: refused requests are answered here, in the protocol the client speaks
 * (gRPC and gRPC-Web: status PERMISSION_DENIED; Connect: `permission_denied`; else the REST envelope,
 * 403 FORBIDDEN naming the header), and never reach a transport.
 */
export function guardRequestOrigin(policy: RequestOriginPolicy, isRpcPath: (path: string) => boolean, handler: NodeHandler): NodeHandler {
  return function frontDoor(request, response) {
    const refusal = policy.refusal(requestOriginOf(request));
    if (refusal === null) return handler(request, response);
    const path = (request.url ?? '/').split('?')[0]!;
    if (isRpcPath(path) || isGrpcRequest(request)) {
      writeRpcError(request, response, { code: Code.PermissionDenied, message: refusal.message, cmpCode: 'FORBIDDEN', field: refusal.field });
      return;
    }
    request.resume(); // drain the refused body so the connection can be reused
    const { status, body } = toEnvelope(new CmpError('FORBIDDEN', refusal.message, { field: refusal.field }), undefined);
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  };
}
