import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { CmpEndpoint } from '../endpoint.js';
import type { ExportPlace } from './export-file.js';
import { createMcpServer } from './tools.js';

// MCP over Streamable HTTP at /mcp on the server's own port. One MCP session per client, created by its
// initialize request and found again by the `mcp-session-id` header; each session has its own McpServer
// over the same engine. Sessions are bounded (issue 14, defect 5: every initialize used to keep ~190 KiB
// forever): one unused for `idleTimeoutMs` is closed, a client past its cap loses its least recently
// used one, and past the total cap initialize is refused. A client whose session was closed gets 404 and,
// as the MCP specification asks, starts a new one. DELETE with the session id closes it at once.

export interface McpSessionLimits {
  idleTimeoutMs: number;
  perClient: number;
  total: number;
}

export interface McpHttpOptions {
  limits: McpSessionLimits;
  /** Where `export` writes: over HTTP only under the data directory, never at a path the client picks. */
  exports: ExportPlace;
  /** Clock for idle expiry (tests inject one). Default `Date.now`. */
  now?: () => number;
}

export interface McpHttp {
  /** `client` is the caller's address (one cap per client); undefined in-process. */
  handle(request: Request, client?: string): Promise<Response>;
  /** Open sessions, for /metrics and tests. */
  readonly sessionCount: number;
  close(): Promise<void>;
}

interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  client: string;
  lastUsed: number;
}

const jsonRpcError = (status: number, message: string, headers: Record<string, string> = {}) => Response.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, { status, headers });

/** How often idle sessions are looked for when no request comes (requests also sweep). */
const SWEEP_INTERVAL_MS = 60_000;

export function createMcpHttp(endpoint: CmpEndpoint, version: string, options: McpHttpOptions): McpHttp {
  const { limits, exports } = options;
  const now = options.now ?? Date.now;
  // Insertion order is use order: a used session is moved to the end, so the first is the least recent.
  const sessions = new Map<string, Session>();

  const closeSession = (id: string) => {
    const session = sessions.get(id);
    if (session === undefined) return;
    sessions.delete(id);
    void session.transport.close().catch(() => {});
  };

  const sweep = () => {
    const oldest = now() - limits.idleTimeoutMs;
    for (const [id, session] of sessions) {
      if (session.lastUsed > oldest) break; // the rest were used more recently
      closeSession(id);
    }
  };
  const sweeper = setInterval(sweep, SWEEP_INTERVAL_MS);
  sweeper.unref();

  const touch = (id: string, session: Session) => {
    sessions.delete(id);
    session.lastUsed = now();
    sessions.set(id, session);
  };

  return {
    async handle(request, client = 'in-process') {
      sweep();
      const sessionId = request.headers.get('mcp-session-id');
      if (sessionId !== null) {
        const session = sessions.get(sessionId);
        if (session === undefined) return jsonRpcError(404, `Unknown MCP session ${sessionId}: it was closed or expired; initialize a new one`);
        touch(sessionId, session);
        return session.transport.handleRequest(request);
      }
      if (request.method !== 'POST') return jsonRpcError(400, 'Missing mcp-session-id header');
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return Response.json({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }, { status: 400 });
      }
      if (!isInitializeRequest(body)) return jsonRpcError(400, 'The first request of a session must be initialize');

      const own = [...sessions].filter(([, session]) => session.client === client);
      for (const [id] of own.slice(0, Math.max(0, own.length - limits.perClient + 1))) closeSession(id);
      if (sessions.size >= limits.total) {
        const retryAfter = Math.max(1, Math.ceil(limits.idleTimeoutMs / 1000));
        return jsonRpcError(503, `Too many open MCP sessions (${limits.total}); close unused ones (DELETE /mcp) or retry later`, {
          'retry-after': String(Math.min(retryAfter, 60)),
        });
      }

      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, { transport, client, lastUsed: now() }),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      await createMcpServer(endpoint, version, { exports }).connect(transport);
      return transport.handleRequest(request, { parsedBody: body });
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      clearInterval(sweeper);
      await Promise.allSettled([...sessions.values()].map((session) => session.transport.close()));
      sessions.clear();
    },
  };
}
