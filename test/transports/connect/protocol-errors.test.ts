import { connect, type IncomingHttpHeaders } from 'node:http2';
import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../../src/client/client.js';
import { sharedServer, textContent } from '../../helpers/server.js';

// Issue 14, defect 9, against the real server with raw HTTP/2 and fetch: an unknown method is
// UNIMPLEMENTED (it was a REST 400 with no grpc-status), malformed protobuf is INVALID_ARGUMENT (it
// was INTERNAL), and a body over the read limit is CONTENT_TOO_LARGE like on REST (it was a 429).

const LIMIT = 64 * 1024;
const server = sharedServer({ flags: { http: { max_body_bytes: LIMIT } } });
const clients: CerememoryClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

const SERVICE = '/cerememory.v1.CerememoryService';

interface H2Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
}

/** One gRPC call as raw HTTP/2 frames: `message` in a gRPC envelope (uncompressed). */
async function grpcCall(path: string, message: Uint8Array): Promise<H2Answer> {
  const session = connect(server.url);
  try {
    return await new Promise<H2Answer>((resolve, reject) => {
      const answer: H2Answer = { headers: {}, trailers: {} };
      const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc+proto', te: 'trailers' });
      stream.on('response', (headers) => (answer.headers = headers));
      stream.on('trailers', (trailers) => (answer.trailers = trailers));
      stream.on('data', () => {});
      stream.on('end', () => resolve(answer));
      stream.on('error', reject);
      const envelope = Buffer.alloc(5 + message.byteLength);
      envelope.writeUInt32BE(message.byteLength, 1);
      envelope.set(message, 5);
      stream.end(envelope);
    });
  } finally {
    session.close();
  }
}

/** The gRPC status of an answer: in the trailers, or in the headers of a trailers-only answer. */
const grpcStatus = (answer: H2Answer) => answer.trailers['grpc-status'] ?? answer.headers['grpc-status'];
const cmpCode = (answer: H2Answer) => answer.trailers['cerememory-error-code'] ?? answer.headers['cerememory-error-code'];

/** Field 1 (space) says five bytes follow; one does. */
const TRUNCATED = new Uint8Array([0x0a, 0x05, 0x61]);

async function connectCall(path: string, contentType: string, body: BodyInit) {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, headers: response.headers, body: (await response.json()) as { code: string; message: string } };
}

describe('an unknown method', () => {
  it.each([`${SERVICE}/NoSuchMethod`, '/no.such.v1.Service/Call'])('%s is UNIMPLEMENTED over gRPC, with grpc-status', async (path) => {
    const answer = await grpcCall(path, new Uint8Array(0));
    expect(answer.headers[':status']).toBe(200);
    expect(grpcStatus(answer)).toBe('12');
  });

  it('is unimplemented over Connect, a 404', async () => {
    const answer = await connectCall(`${SERVICE}/NoSuchMethod`, 'application/json', '{}');
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('unimplemented');
  });

  it('leaves REST paths to REST', async () => {
    expect((await server.call('POST', '/v1/no/such/route', {})).body).toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});

describe('malformed protobuf', () => {
  it('is INVALID_ARGUMENT over gRPC', async () => {
    const answer = await grpcCall(`${SERVICE}/Stats`, TRUNCATED);
    expect(grpcStatus(answer)).toBe('3');
    expect(cmpCode(answer)).toBe('VALIDATION_ERROR');
  });

  it('is invalid_argument over Connect, a 400', async () => {
    const answer = await connectCall(`${SERVICE}/Stats`, 'application/proto', TRUNCATED);
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('invalid_argument');
    expect(answer.headers.get('cerememory-error-code')).toBe('VALIDATION_ERROR');
    expect(answer.headers.get('cerememory-error-field')).toBe('body');
  });
});

describe('a body over the read limit', () => {
  const big = { content: textContent('x'.repeat(2 * LIMIT)) };

  it('is CONTENT_TOO_LARGE on REST, Connect and gRPC alike, never a 429', async () => {
    const rest = await server.call('POST', '/v1/encode', big);
    expect(rest.status).toBe(413);
    expect(rest.body).toMatchObject({ code: 'CONTENT_TOO_LARGE', details: { field: 'body' } });

    const connectJson = await connectCall(
      `${SERVICE}/EncodeStore`,
      'application/json',
      JSON.stringify({ content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from('x'.repeat(2 * LIMIT)).toString('base64') }] } }),
    );
    expect(connectJson.status).toBe(400);
    expect(connectJson.body.code).toBe('invalid_argument');
    expect(connectJson.headers.get('cerememory-error-code')).toBe('CONTENT_TOO_LARGE');

    const grpc = await grpcCall(`${SERVICE}/EncodeStore`, new Uint8Array(2 * LIMIT));
    expect(grpcStatus(grpc)).toBe('3');
    expect(cmpCode(grpc)).toBe('CONTENT_TOO_LARGE');

    const client = new CerememoryClient({ baseUrl: server.url, protocol: 'connect', httpVersion: '1.1' });
    clients.push(client);
    await expect(client.store('x'.repeat(2 * LIMIT))).rejects.toMatchObject({ code: 'CONTENT_TOO_LARGE', field: 'body' });
    expect((await client.stats()).total_records).toBe(0);
  });
});
