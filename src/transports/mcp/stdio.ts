import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CmpEndpoint } from '../endpoint.js';
import { createMcpServer } from './tools.js';

// `cerememory mcp`: MCP over stdin/stdout. stdout carries JSON-RPC and nothing else; every log line
// goes to stderr. Resolves when the client closes the stream, after the endpoint is closed.

export async function serveMcpStdio(endpoint: CmpEndpoint, version: string): Promise<void> {
  const server = createMcpServer(endpoint, version);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close().catch(() => {});
  await endpoint.close();
}
