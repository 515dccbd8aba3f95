import { randomUUID } from 'node:crypto';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import type { CmpEndpoint } from '../endpoint.js';
import { createMcpServer } from './tools.js';

// MCP over Streamable HTTP at /mcp on the server's own port. One MCP session per client, created by its
// initialize request and found again by the `mcp-session-id` header; each session has its own McpServer
// over the same engine.

export interface McpHttp {
  handle(request: Request): Promise<Response>;
  close(): Promise<void>;
}

const jsonRpcError = (status: number, message: string) =>
  Response.json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }, { status });

export function createMcpHttp(endpoint: CmpEndpoint, version: string): McpHttp {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();

  return {
    async handle(request) {
      const sessionId = request.headers.get('mcp-session-id');
      if (sessionId !== null) {
        const transport = sessions.get(sessionId);
        return transport ? transport.handleRequest(request) : jsonRpcError(404, `Unknown MCP session ${sessionId}`);
      }
      if (request.method !== 'POST') return jsonRpcError(400, 'Missing mcp-session-id header');
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return Response.json({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }, { status: 400 });
      }
      if (!isInitializeRequest(body)) return jsonRpcError(400, 'The first request of a session must be initialize');
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, transport),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      await createMcpServer(endpoint, version).connect(transport);
      return transport.handleRequest(request, { parsedBody: body });
    },
    async close() {
      await Promise.allSettled([...sessions.values()].map((transport) => transport.close()));
      sessions.clear();
    },
  };
}
