import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';
import { counts, guardedSnapshot, seedGuarded } from './guard.js';
import { applyMutation, describeCase, encodeBody, fuzzParameters, mutationOf } from './hostile.js';
import { FUZZ_SPACE, REST_OPERATIONS, type FuzzIds } from './operations.js';

// REST under fuzzing (issue 14): every route's valid request with one field made hostile, and valid
// requests with hostile headers. Properties: no 5xx but a documented storage error (507), every refusal
// is the error envelope and names the field when the fault is a field, a refused request writes nothing,
// /health keeps answering, and the guarded spaces are unchanged at the end.

/** Codes whose fault is in one request field: the envelope must name it. */
const FIELD_CODES = new Set(['VALIDATION_ERROR', 'STORE_INVALID', 'CONTENT_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE', 'FORBIDDEN', 'MODALITY_UNSUPPORTED']);

let server: TestServer;
let ids: FuzzIds;
let guardedBefore: string;
beforeAll(async () => {
  server = await startTestServer({ flags: { decay: { background_enabled: false }, dream: { background_enabled: false } } });
  await seedGuarded(server);
  const stored = await server.call('POST', '/v1/encode', { space: FUZZ_SPACE, content: { blocks: [{ modality: 'text', format: 'text/plain', data: [104, 105] }] } });
  ids = { record: stored.body.record_id };
  guardedBefore = await guardedSnapshot(server);
});
afterAll(async () => {
  await server.close();
  removeDir(server.dataDir);
});

interface RawAnswer {
  status: number;
  body: string;
}

function send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // Content-Length always: Node sends a DELETE body unframed otherwise, which no server can read.
    const length = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = httpRequest({ host: '127.0.0.1', port: server.port, method, path, headers: { ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer obeys the error contract; returns whether the request was refused. */
function checkAnswer(answer: RawAnswer, label: string): boolean {
  const status = answer.status;
  if (status < 400) return false;
  let envelope: { code?: string; message?: string; details?: { field?: string } | null };
  try {
    envelope = JSON.parse(answer.body);
  } catch {
    throw new Error(`${label}: a ${status} answer that is not the JSON envelope: ${answer.body.slice(0, 200)}`);
  }
  if (status >= 500) {
    expect(status === 507 && /^STORAGE_/.test(envelope.code ?? ''), `${label}: ${status} ${answer.body.slice(0, 300)}`).toBe(true);
  }
  expect(typeof envelope.code, label).toBe('string');
  expect(envelope.message, label).not.toMatch(/TypeError|Cannot read prop|is not a function|Maximum call stack|undefined/);
  if (FIELD_CODES.has(envelope.code!)) expect(envelope.details?.field, `${label}: ${answer.body.slice(0, 300)}`).toMatch(/\S/);
  return true;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('REST fuzz', () => {
  it.each(REST_OPERATIONS.map((operation) => [operation.name, operation] as const))('%s: hostile fields', async (_name, operation) => {
    const valid = operation.body!(ids);
    await fc.assert(
      fc.asyncProperty(mutationOf(valid), async (mutation) => {
        const body = encodeBody(applyMutation(valid, mutation));
        const label = describeCase(operation.name, body);
        const before = operation.mutating ? await counts(server, [FUZZ_SPACE, 'default']) : '';
        const answer = await send(operation.method, operation.path(ids), body, JSON_HEADERS);
        const refused = checkAnswer(answer, label);
        if (refused && operation.mutating) expect(await counts(server, [FUZZ_SPACE, 'default']), `${label}: a refused request wrote`).toBe(before);
        expect((await send('GET', '/health', undefined, {})).status).toBe(200);
      }),
      fuzzParameters,
    );
  });

  it('hostile headers on a valid write: refused ones (403/415) write nothing', async () => {
    const headerValue = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-8', 'application/jsonx', '*/*', ''),
    );
    const hostValue = fc.oneof(fc.constant(undefined), fc.constantFrom(`127.0.0.1:${0}`, 'localhost', 'evil.example', '[::1]', 'a..b', '127.0.0.1.nip.io'));
    const originValue = fc.oneof(fc.constant(undefined), fc.constantFrom('null', 'https://evil.example', 'http://127.0.0.1', 'file://', 'http://localhost:1'));
    const siteValue = fc.oneof(fc.constant(undefined), fc.constantFrom('cross-site', 'same-site', 'same-origin', 'none'));
    await fc.assert(
      fc.asyncProperty(fc.record({ contentType: headerValue, host: hostValue, origin: originValue, site: siteValue }), async (h) => {
        const headers: Record<string, string> = {};
        if (h.contentType !== undefined) headers['content-type'] = h.contentType;
        if (h.host !== undefined) headers.host = h.host;
        if (h.origin !== undefined) headers.origin = h.origin;
        if (h.site !== undefined) headers['sec-fetch-site'] = h.site;
        const body = JSON.stringify({ space: FUZZ_SPACE, content: { blocks: [{ modality: 'text', format: 'text/plain', data: [104] }] } });
        const before = await counts(server, [FUZZ_SPACE]);
        const answer = await send('POST', '/v1/encode', body, headers);
        const label = `headers ${JSON.stringify(headers)} → ${answer.status}`;
        if (checkAnswer(answer, label)) {
          expect([400, 403, 415], label).toContain(answer.status);
          expect(await counts(server, [FUZZ_SPACE]), label).toBe(before);
        }
        const foreign = h.origin !== undefined || (h.host !== undefined && /evil|nip\.io|a\.\.b/.test(h.host)) || h.site === 'cross-site' || h.site === 'same-site';
        if (foreign) expect(answer.status, label).toBe(403);
      }),
      fuzzParameters,
    );
  });

  it('leaves the guarded spaces exactly as they were', async () => {
    expect(await guardedSnapshot(server)).toBe(guardedBefore);
  });
});
