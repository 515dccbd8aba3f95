import { connect as http2Connect, type ClientHttp2Session } from 'node:http2';
import { fromJson, toBinary, type DescMessage } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CerememoryClient, type CerememoryClientOptions } from '../../src/client/client.js';
import { CerememoryService } from '../../src/gen/cerememory/v1/cerememory_pb.js';
import { removeDir, startTestServer, textContent, type TestServer } from '../helpers/server.js';
import { applyMutation, describeCase, encodeBody, fuzzParameters, hostileValue, mutationOf } from './hostile.js';
import { FUZZ_SPACE } from './operations.js';

// Connect (JSON and binary) and gRPC under fuzzing (issue 14): a valid request of each RPC with one
// field made hostile (JSON) or its bytes damaged (binary, gRPC frames). No answer may be `internal` or
// `unknown`: bad input is `invalid_argument` (or another documented code), an unknown method is
// `unimplemented`. And after the campaign, every stored record is readable on every protocol.

const b64 = (value: string) => Buffer.from(value).toString('base64');
const content = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: b64(value) }] });
const space = { space: FUZZ_SPACE };

/** Proto-JSON seeds, one per unary RPC; `record` is a record of the fuzz space. */
const SEEDS: Record<string, (record: string) => Record<string, unknown>> = {
  EncodeStore: () => ({ ...space, content: content('a memory'), store: 'episodic', emotion: { joy: 0.4 }, metadata: { tag: 'x', list: [1, 'two'] } }),
  EncodeBatch: () => ({ ...space, records: [{ content: content('one') }, { content: content('two'), metadata: { n: 2 } }] }),
  EncodeStoreRaw: () => ({ ...space, session_id: 's', source: 'conversation', speaker: 'user', visibility: 'normal', secrecy_level: 'public', content: content('raw'), metadata: { k: 'v' } }),
  EncodeUpdate: (record) => ({ ...space, record_id: record, content: content('updated'), metadata: { v: 2 } }),
  RecallQuery: () => ({ ...space, cue: { text: 'memory', semantic: { topic: 'x' } }, limit: 5, recall_mode: 'perfect', reconsolidate: false }),
  RecallTimeline: () => ({ ...space, range: { start: '2020-01-01T00:00:00Z', end: '2030-01-01T00:00:00Z' }, granularity: 'day' }),
  RecallGraph: (record) => ({ ...space, center_id: record, depth: 1, limit_nodes: 5 }),
  IntrospectRecord: (record) => ({ ...space, record_id: record, include_versions: true }),
  DecayForecast: (record) => ({ ...space, record_ids: [record], forecast_at: '2030-01-01T00:00:00Z' }),
  DecayTick: () => ({ ...space, tick_duration_seconds: 0 }),
  Forget: () => ({ ...space, record_ids: ['01a23abb-e678-71a2-a168-bd8d785047e1'], confirm: true }),
  Stats: () => ({ ...space }),
};

const methodOf = (name: string) => {
  const method = CerememoryService.method[(name[0]!.toLowerCase() + name.slice(1)) as keyof typeof CerememoryService.method];
  if (method === undefined) throw new Error(`no RPC ${name}`);
  return method as { input: DescMessage; name: string };
};

const ERROR_FREE = new Set(['internal', 'unknown']);
const path = (method: string) => `/${CerememoryService.typeName}/${method}`;

let server: TestServer;
let record: string;
let h2: ClientHttp2Session;
beforeAll(async () => {
  server = await startTestServer({ flags: { decay: { background_enabled: false }, dream: { background_enabled: false } } });
  record = (await server.call('POST', '/v1/encode', { space: FUZZ_SPACE, content: textContent('seed') })).body.record_id;
  h2 = http2Connect(server.url);
});
afterAll(async () => {
  h2.close();
  await server.close();
  removeDir(server.dataDir);
});

async function connectCall(method: string, body: Uint8Array | string, contentType: string): Promise<{ status: number; code: string | null; text: string }> {
  const answer = await fetch(`${server.url}${path(method)}`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'connect-protocol-version': '1' },
    body: typeof body === 'string' ? body : Buffer.from(body),
  });
  const text = answer.status === 200 ? '' : await answer.text();
  if (answer.status === 200) await answer.body?.cancel();
  let code: string | null = null;
  if (answer.status !== 200) {
    try {
      code = (JSON.parse(text) as { code?: string }).code ?? null;
    } catch {
      code = `non-JSON ${answer.status}: ${text.slice(0, 100)}`;
    }
  }
  return { status: answer.status, code, text };
}

function grpcCall(method: string, message: Uint8Array): Promise<{ status: string | undefined; message: string }> {
  return new Promise((resolve, reject) => {
    const stream = h2.request({ ':method': 'POST', ':path': path(method), 'content-type': 'application/grpc', te: 'trailers' });
    let status: string | undefined;
    let text = '';
    stream.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) {
        status = String(headers['grpc-status']);
        text = decodeURIComponent(String(headers['grpc-message'] ?? ''));
      }
    });
    stream.on('trailers', (trailers) => {
      status = String(trailers['grpc-status']);
      text = decodeURIComponent(String(trailers['grpc-message'] ?? ''));
    });
    stream.on('data', () => {});
    stream.on('end', () => resolve({ status, message: text }));
    stream.on('error', reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    Buffer.from(message).copy(frame, 5);
    stream.end(frame);
  });
}

/** Damaged protobuf bytes: flipped bits, cut short, stretched, or noise. */
const damaged = (valid: Uint8Array) =>
  fc.oneof(
    fc.array(fc.record({ at: fc.nat(Math.max(0, valid.length - 1)), bit: fc.nat(7) }), { minLength: 1, maxLength: 4 }).map((flips) => {
      const bytes = Uint8Array.from(valid);
      for (const { at, bit } of flips) bytes[at]! ^= 1 << bit;
      return bytes;
    }),
    fc.nat(Math.max(0, valid.length - 1)).map((length) => valid.slice(0, length)),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((tail) => Uint8Array.from([...valid, ...tail])),
    fc.uint8Array({ maxLength: 256 }),
  );

describe('Connect and gRPC fuzz', () => {
  const names = Object.keys(SEEDS);

  it.each(names)('%s: the valid seed is answered (the seeds are real requests)', async (name) => {
    const answer = await connectCall(name, JSON.stringify(SEEDS[name]!(record)), 'application/json');
    expect(answer.status, answer.text).toBe(200);
  });

  it.each(names)('%s: hostile proto-JSON fields over Connect JSON', async (name) => {
    const valid = SEEDS[name]!(record);
    await fc.assert(
      fc.asyncProperty(mutationOf(valid), async (mutation) => {
        const body = encodeBody(applyMutation(valid, mutation));
        const answer = await connectCall(name, body, 'application/json');
        expect(ERROR_FREE.has(answer.code ?? ''), describeCase(name, body, `→ ${answer.status} ${answer.text.slice(0, 300)}`)).toBe(false);
        expect(answer.code ?? '', describeCase(name, body)).not.toMatch(/^non-JSON/);
        expect(answer.status, describeCase(name, body)).toBeLessThan(500);
      }),
      fuzzParameters,
    );
  });

  it.each(names)('%s: damaged protobuf over Connect binary and gRPC', async (name) => {
    const method = methodOf(name);
    const valid = toBinary(method.input, fromJson(method.input, SEEDS[name]!(record) as never));
    await fc.assert(
      fc.asyncProperty(damaged(valid), async (bytes) => {
        const label = `${name} bytes ${Buffer.from(bytes).toString('hex').slice(0, 200)}`;
        const connect = await connectCall(name, bytes, 'application/proto');
        expect(ERROR_FREE.has(connect.code ?? ''), `${label} → Connect ${connect.status} ${connect.text.slice(0, 200)}`).toBe(false);
        const grpc = await grpcCall(name, bytes);
        expect(['13', '2'], `${label} → gRPC ${grpc.status} ${grpc.message}`).not.toContain(grpc.status);
      }),
      { ...fuzzParameters, numRuns: Math.ceil(fuzzParameters.numRuns / 3) },
    );
  });

  it('answers an unknown method with unimplemented on gRPC and Connect', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[A-Z][A-Za-z]{0,20}$/).filter((name) => !(name[0]!.toLowerCase() + name.slice(1) in CerememoryService.method)),
        async (name) => {
          expect((await grpcCall(name, new Uint8Array())).status).toBe('12');
          const connect = await connectCall(name, '{}', 'application/json');
          expect(connect.code).toBe('unimplemented');
        },
      ),
      { ...fuzzParameters, numRuns: 10 },
    );
  });

  it('reads every stored record back on every protocol after the campaign', async () => {
    // Oddly shaped but valid metadata, written over REST, must not break a read anywhere.
    await fc.assert(
      fc.asyncProperty(hostileValue, async (metadata) => {
        await server.call('POST', '/v1/encode', encodeBody({ space: FUZZ_SPACE, content: textContent('odd metadata'), metadata }));
      }),
      { ...fuzzParameters, numRuns: 40 },
    );
    const variants: Omit<CerememoryClientOptions, 'baseUrl'>[] = [{ protocol: 'grpc' }, { protocol: 'connect', binary: true }, { protocol: 'connect', binary: false }, { protocol: 'grpc-web' }];
    for (const variant of variants) {
      const client = new CerememoryClient({ baseUrl: server.url, ...variant });
      try {
        const listed = (await client.call('recallQuery', { space: FUZZ_SPACE, limit: 1000, reconsolidate: false, include_decayed: true })) as {
          memories: { record: { id: string } }[];
        };
        expect(listed.memories.length, JSON.stringify(variant)).toBeGreaterThan(10);
        for (const memory of listed.memories.slice(0, 50)) {
          await client.call('introspectRecord', { space: FUZZ_SPACE, record_id: memory.record.id });
        }
      } finally {
        client.close();
      }
    }
  });
});
