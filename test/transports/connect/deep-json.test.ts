import { toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient, type CerememoryClientOptions } from '../../../src/client/client.js';
import { textBlock } from '../../../src/cmp/content.js';
import { jsonNesting, MAX_JSON_NESTING } from '../../../src/cmp/json-nesting.js';
import { nested, nestedText } from '../../helpers/deep-json.js';
import { sharedServer, textContent } from '../../helpers/server.js';

// Issue 14, defects 3 and 8 through the real server: deep JSON in a REST body is a 400 naming the
// field (it was a 500), and a record stored with deep metadata before the limit existed no longer
// breaks Connect/gRPC reads (google.protobuf.Value decodes at most 100 levels: they failed INTERNAL).

const server = sharedServer();
const clients: CerememoryClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

describe('REST', () => {
  it.each([
    ['/v1/encode', (deep: string) => `{"content":${JSON.stringify(textContent('deep'))},"metadata":${deep}}`, 'metadata'],
    ['/v1/encode', (deep: string) => `{"content":${JSON.stringify(textContent('deep'))},"context":{"spatial":${deep}}}`, 'context.spatial'],
    ['/v1/recall/query', (deep: string) => `{"cue":{"semantic":${deep}}}`, 'cue.semantic'],
  ])('%s refuses 3,000 levels in %s… with a 400 naming the field', async (path, body, field) => {
    const answer = await server.call('POST', path, body(nestedText(3000)));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { field } });
    expect((await server.call('GET', '/health')).status).toBe(200);
  });
});

describe('a record stored with metadata deeper than the limit', () => {
  const space = 'deep-json';
  // Deeper than google.protobuf.Value decodes (100), within what zod's recursive check let through.
  const STORED_LEVELS = 500;
  let recordId: string;

  const VARIANTS: [string, Omit<CerememoryClientOptions, 'baseUrl'>][] = [
    ['gRPC', { protocol: 'grpc' }],
    ['Connect binary h2', { protocol: 'connect', httpVersion: '2', binary: true }],
    ['Connect JSON HTTP/1.1', { protocol: 'connect', httpVersion: '1.1', binary: false }],
  ];

  it('is written through the hippocampus, as records were before the limit', async () => {
    const stored = await server.runtime.hippocampus.encodeStore({
      space,
      content: { blocks: [textBlock('a lantern in a deep well')], summary: null },
      store: 'episodic',
      emotion: null,
      context: null,
      metadata: nested(STORED_LEVELS) as never,
      associations: [],
      meta: null,
    });
    recordId = stored.record_id;
    const rest = await server.call('GET', `/v1/introspect/record/${recordId}?space=${space}`);
    expect(rest.status).toBe(200);
    expect(jsonNesting(rest.body.metadata)).toBe(STORED_LEVELS);
  });

  it.each(VARIANTS)('is still answered over %s, its metadata cut at the limit', async (_label, options) => {
    const client = new CerememoryClient({ baseUrl: server.url, ...options });
    clients.push(client);
    const listed = await client.rpc.recallQuery({ space, reconsolidate: false });
    expect(listed.memories.map((memory) => memory.record?.id)).toEqual([recordId]);
    const recalled = await client.rpc.recallQuery({ space, cue: { text: 'lantern well' }, reconsolidate: false, recallMode: 'perfect' });
    expect(recalled.memories.map((memory) => memory.record?.id)).toEqual([recordId]);
    const inspected = await client.rpc.introspectRecord({ space, recordId });
    const metadata = toJson(ValueSchema, inspected.record!.metadata!);
    expect(jsonNesting(metadata)).toBe(MAX_JSON_NESTING);
    // What lies below the limit is kept, as its JSON text.
    let innermost: unknown = metadata;
    for (let level = 0; level < MAX_JSON_NESTING; level++) innermost = Array.isArray(innermost) ? innermost[0] : (innermost as { a: unknown }).a;
    expect(JSON.parse(innermost as string)).toEqual(nested(STORED_LEVELS - MAX_JSON_NESTING));
  });
});
