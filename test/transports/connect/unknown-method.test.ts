import { connect as http2Connect } from 'node:http2';
import { afterAll, describe, expect, it } from 'vitest';
import { sharedServer } from '../../helpers/server.js';

// Issue 14, defect 9: a method the server does not have is UNIMPLEMENTED in the caller's protocol
// (it used to be REST's 400 envelope with no grpc-status), and a REST path is still REST's.

const server = sharedServer();
const sessions: ReturnType<typeof http2Connect>[] = [];
afterAll(() => sessions.forEach((session) => session.close()));

function grpc(path: string): Promise<Record<string, unknown>> {
  const session = http2Connect(server.url);
  sessions.push(session);
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('response', (headers) => resolve(headers as Record<string, unknown>));
    stream.on('error', reject);
    stream.resume();
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

describe('unknown RPC methods', () => {
  it('answer gRPC status 12 (UNIMPLEMENTED) over gRPC, for a known and an unknown service', async () => {
    for (const path of ['/cerememory.v1.CerememoryService/NoSuchMethod', '/other.v1.Thing/Do']) {
      const headers = await grpc(path);
      expect(headers['grpc-status'], path).toBe('12');
      expect(decodeURIComponent(String(headers['grpc-message']))).toContain('is not a method of this server');
    }
  });

  it('answer Connect 404 unimplemented', async () => {
    const answer = await fetch(`${server.url}/cerememory.v1.CerememoryService/NoSuchMethod`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'connect-protocol-version': '1' },
      body: '{}',
    });
    expect(answer.status).toBe(404);
    expect(await answer.json()).toMatchObject({ code: 'unimplemented' });
  });

  it('leave REST paths to REST', async () => {
    const answer = await server.call('POST', '/v1/no-such-route', {});
    expect(answer.body).toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
