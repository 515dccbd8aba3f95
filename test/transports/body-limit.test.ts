import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import { isCmpError } from '../../src/cmp/errors.js';
import { sharedServer, textContent } from '../helpers/server.js';

// One body limit (http.max_body_bytes, 64 MiB by default; 4 KiB here) on every transport of the port:
// the oversize request gets the transport's documented error, nothing is stored, the server keeps serving.

const server = sharedServer({ flags: { http: { max_body_bytes: 4096 } } });
const big = 'x'.repeat(8192);

describe('the body limit', () => {
  it('REST: 413 CONTENT_TOO_LARGE', async () => {
    const response = await server.call('POST', '/v1/encode', { content: textContent(big) });
    expect(response.status).toBe(413);
    expect(response.body.code).toBe('CONTENT_TOO_LARGE');
  });

  it.each(['grpc', 'connect', 'grpc-web'] as const)('%s: CONTENT_TOO_LARGE (resource exhausted)', async (protocol) => {
    const client = new CerememoryClient({ baseUrl: server.url, protocol, httpVersion: '1.1' });
    try {
      const error = await client.store(big).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isCmpError(error)).toBe(true);
      expect((error as { code: string }).code).toBe('CONTENT_TOO_LARGE');
    } finally {
      client.close();
    }
  });

  it('MCP over HTTP: CONTENT_TOO_LARGE, and a small call still works', async () => {
    const client = new Client({ name: 'limit-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`)));
    try {
      await expect(client.callTool({ name: 'store', arguments: { content: big } })).rejects.toThrow(/CONTENT_TOO_LARGE/);
      const small = (await client.callTool({ name: 'store', arguments: { content: 'small enough' } })) as { isError?: boolean };
      expect(small.isError).toBeFalsy();
    } finally {
      await client.close();
    }
    const stats = await server.call('GET', '/v1/introspect/stats');
    expect(stats.body.total_records).toBe(1);
  });
});
