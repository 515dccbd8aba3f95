import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { create, fromJson, toJson } from '@bufbuild/protobuf';
import { ValueSchema } from '@bufbuild/protobuf/wkt';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient, type CerememoryClientOptions } from '../../../src/client/client.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import { EncodeStoreRequestSchema } from '../../../src/gen/cerememory/v1/cerememory_pb.js';
import { Health, HealthCheckResponse_ServingStatus } from '../../../src/gen/grpc/health/v1/health_pb.js';
import { ServerReflection, ServerReflectionRequestSchema } from '../../../src/gen/grpc/reflection/v1/reflection_pb.js';
import { frontDoors } from '../../helpers/front-doors.js';
import { sharedServer } from '../../helpers/server.js';
import { connectDoor, smokeRound } from '../cases.js';

// Every RPC of cerememory.v1.CerememoryService through the generated client: in process over
// connect-es `createRouterTransport` (binary and JSON: what the encodings change), and on the one real
// port a smoke round over every protocol it speaks (gRPC (h2c), Connect binary and JSON over HTTP/1.1
// and h2, gRPC-Web over both), plus what only a port shows (body limit, health, reflection, buf curl).
// One runtime: the real server's, which the in-process transport reaches too.

const server = sharedServer();
const clients: CerememoryClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

const IN_PROCESS: [string, { binary: boolean }][] = [
  ['Connect binary (in process)', { binary: true }],
  ['Connect JSON (in process)', { binary: false }],
];

const REAL_PORT: [string, Omit<CerememoryClientOptions, 'baseUrl'>][] = [
  ['gRPC', { protocol: 'grpc' }],
  ['Connect binary h2', { protocol: 'connect', httpVersion: '2', binary: true }],
  ['Connect JSON h2', { protocol: 'connect', httpVersion: '2', binary: false }],
  ['Connect binary HTTP/1.1', { protocol: 'connect', httpVersion: '1.1', binary: true }],
  ['Connect JSON HTTP/1.1', { protocol: 'connect', httpVersion: '1.1', binary: false }],
  ['gRPC-Web h2', { protocol: 'grpc-web', httpVersion: '2' }],
  ['gRPC-Web HTTP/1.1', { protocol: 'grpc-web', httpVersion: '1.1' }],
];

/** A client on the real port. */
function clientFor(options: Omit<CerememoryClientOptions, 'baseUrl'>): CerememoryClient {
  const client = new CerememoryClient({ baseUrl: server.url, ...options });
  clients.push(client);
  return client;
}

/** A client over the in-memory router, on the server's runtime. */
function inProcess(options: { binary: boolean }): CerememoryClient {
  return frontDoors(server.runtime).connect(options);
}

const text = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: new TextEncoder().encode(value) }] });

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => expect.fail('expected the call to fail'),
    (reason: unknown) => reason,
  );
  expect(isCmpError(error), String(error)).toBe(true);
  return error as { code: string; message: string; field?: string };
}

describe.each(IN_PROCESS)('%s', (label, options) => {
  const space = label.replace(/[^A-Za-z0-9]/g, '-');

  it('answers every unary RPC with the typed messages', async () => {
    const { rpc } = inProcess(options);

    const stored = await rpc.encodeStore({ space, content: text('The lighthouse keeper fed the gulls'), store: 'episodic' });
    expect(stored.store).toBe('episodic');
    expect(stored.initialFidelity).toBe(1);

    const batch = await rpc.encodeBatch({
      space,
      records: [{ content: text('Gulls circle the lighthouse at dawn') }, { content: text('Tide tables for the harbour'), store: 'semantic' }],
      inferAssociations: true,
    });
    expect(batch.results).toHaveLength(2);
    expect(batch.results[1]!.store).toBe('semantic');

    const raw = await rpc.encodeStoreRaw({
      space,
      sessionId: 's1',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecyLevel: 'public',
      content: text('we talked about lighthouses'),
    });
    expect(raw.sessionId).toBe('s1');
    const rawBatch = await rpc.encodeBatchStoreRaw({
      space,
      records: [{ sessionId: 's1', source: 'conversation', speaker: 'assistant', visibility: 'normal', secrecyLevel: 'public', content: text('lighthouses guide ships') }],
    });
    expect(rawBatch.results).toHaveLength(1);

    await rpc.encodeUpdate({ space, recordId: stored.recordId, metadata: fromJson(ValueSchema, { note: 'updated' }) });
    const inspected = await rpc.introspectRecord({ space, recordId: stored.recordId });
    expect(inspected.record?.id).toBe(stored.recordId);
    expect(inspected.record?.version).toBe(2);
    expect(toJson(ValueSchema, inspected.record!.metadata!)).toEqual({ note: 'updated' });
    expect(new TextDecoder().decode(inspected.record?.content?.blocks[0]?.data)).toBe('The lighthouse keeper fed the gulls');

    // reconsolidate: false is honoured (an explicit false, not the default true). Accesses are written
    // after the answer, in the order of the recalls: once the second (default) recall's access has
    // landed, the first one's would have too, so exactly one means the false held.
    await rpc.recallQuery({ space, cue: { text: 'lighthouse gulls' }, reconsolidate: false });
    const recalled = await rpc.recallQuery({ space, cue: { text: 'lighthouse gulls' }, limit: 5, recallMode: 'perfect' });
    expect(recalled.memories.map((memory) => memory.record?.id)).toContain(stored.recordId);
    expect(recalled.queryMetadata?.storesSearched.length).toBeGreaterThan(0);
    const accesses = async () => (await rpc.introspectRecord({ space, recordId: stored.recordId })).record!.accessCount;
    for (const giveUp = Date.now() + 20_000; (await accesses()) < 1 && Date.now() < giveUp; ) await new Promise((resolve) => setImmediate(resolve));
    expect(await accesses()).toBe(1);

    const rawHits = await rpc.recallRawQuery({ space, sessionId: 's1' });
    expect(rawHits.records).toHaveLength(2);

    // A record linked by hand reaches its target by association (this used to assert `>= 0`); in a
    // space of its own, so the counts below stay those of `space`.
    const linkSpace = `${space}-links`;
    const target = await rpc.encodeStore({ space: linkSpace, content: text('The lighthouse logbook') });
    const linked = await rpc.encodeStore({
      space: linkSpace,
      content: text('The keeper logs every passing ship'),
      associations: [{ targetId: target.recordId, associationType: 'semantic', weight: 0.9 }],
    });
    const associated = await rpc.recallAssociate({ space: linkSpace, recordId: linked.recordId, minWeight: 0 });
    expect(associated.memories.map((memory) => memory.record?.id)).toContain(target.recordId);
    const now = Date.now();
    const timeline = await rpc.recallTimeline({
      space,
      range: { start: new Date(now - 3_600_000).toISOString(), end: new Date(now + 60_000).toISOString() },
      granularity: 'hour',
    });
    expect(timeline.buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(3);
    const graph = await rpc.recallGraph({ space, centerId: stored.recordId, depth: 1 });
    expect(graph.nodes.map((node) => node.id)).toContain(stored.recordId);

    // a dry run counts what it would migrate and changes nothing (stats below: still one semantic record)
    expect((await rpc.consolidate({ space, dryRun: true })).recordsMigrated).toBe(2);
    const dream = await rpc.dreamTick({ space, dryRun: true });
    expect(dream.rawRecordsProcessed).toBe(2);
    const tick = await rpc.decayTick({ space, tickDurationSeconds: 60 });
    expect(tick.recordsPruned).toBe(0);
    await rpc.setMode({ mode: 'human', scope: ['procedural'] });

    const forecast = await rpc.decayForecast({ space, recordIds: [stored.recordId], forecastAt: new Date(now + 86_400_000).toISOString() });
    expect(forecast.forecasts[0]!.forecastedFidelity).toBeLessThan(forecast.forecasts[0]!.currentFidelity);
    const evolution = await rpc.evolution({ space });
    expect(Object.keys(evolution.currentParameters ?? {})).toEqual(expect.arrayContaining(['episodic', 'semantic', 'working']));

    const stats = await rpc.stats({ space });
    expect(stats.totalRecords).toBe(3);
    expect(stats.recordsByStore).toMatchObject({ episodic: 2, semantic: 1 });
    expect(stats.rawJournalRecords).toBe(2);

    const forgotten = await rpc.forget({ space, recordIds: [batch.results[0]!.recordId], confirm: true });
    expect(forgotten.recordsDeleted).toBe(1);
    expect((await rpc.stats({ space })).totalRecords).toBe(2);
  });

  it('answers bad requests with the CMP code and the right status, and keeps serving', async () => {
    const { rpc } = inProcess(options);
    const bad = await rejection(rpc.encodeStore({ space, content: text('x'), store: 'nonsense' }));
    expect(bad.code).toBe('STORE_INVALID');
    const limit = await rejection(rpc.recallQuery({ space, limit: 5000 }));
    expect(limit).toMatchObject({ code: 'VALIDATION_ERROR', field: 'limit' });
    const unknown = await rejection(rpc.introspectRecord({ space, recordId: '01900000-0000-7000-8000-000000000000' }));
    expect(unknown.code).toBe('RECORD_NOT_FOUND');
    const notUuid = await rejection(rpc.introspectRecord({ space, recordId: 'not-a-uuid' }));
    expect(notUuid.code).toBe('VALIDATION_ERROR');
    const unconfirmed = await rejection(rpc.forget({ space, recordIds: ['01900000-0000-7000-8000-000000000000'] }));
    expect(unconfirmed.code).toBe('FORGET_UNCONFIRMED');
    const missingSession = await rejection(rpc.encodeStoreRaw({ space, sessionId: '  ', source: 'conversation', speaker: 'user', visibility: 'normal', secrecyLevel: 'public', content: text('x') }));
    expect(missingSession.code).toBe('VALIDATION_ERROR');
    if (options.binary !== false) {
      // Only the binary encoding can carry a google.protobuf.Value without a value (JSON has no form for it).
      const emptyValue = await rejection(rpc.encodeStore({ space, content: text('x'), metadata: {} }));
      expect(emptyValue.code).toBe('VALIDATION_ERROR');
    }
    expect((await rpc.stats({ space: 'untouched' })).totalRecords).toBe(0);
  });

  it('speaks CMP JSON through call() and the helpers', async () => {
    const client = inProcess(options);
    const jsonSpace = `${space}-json`;
    const stored = await client.store('Otters hold hands while they sleep', { space: jsonSpace });
    expect(stored).toMatchObject({ store: 'episodic', initial_fidelity: 1 });
    const recalled = await client.recall('otters sleeping', { space: jsonSpace, recall_mode: 'perfect' });
    const memories = recalled.memories as { record: { id: string; content: { blocks: { data: string }[] } } }[];
    expect(memories[0]!.record.id).toBe(stored.record_id);
    expect(Buffer.from(memories[0]!.record.content.blocks[0]!.data, 'base64').toString()).toBe('Otters hold hands while they sleep');
    const context = await client.rpc.recallQuery({ space: jsonSpace, cue: { text: 'otters' }, format: 'claude', budgetTokens: 500 });
    expect(context.context?.format).toBe('claude');
    expect(context.context?.included).toEqual([stored.record_id]);
    expect(context.context?.text).toContain('Otters hold hands while they sleep');
    await client.storeRaw('otters came up in chat', { session_id: 'chat', space: jsonSpace });
    expect((await client.recallRaw('otters', { space: jsonSpace })).total_candidates).toBe(1);
    expect(await client.dreamTick({ space: jsonSpace, dry_run: true })).toMatchObject({ raw_records_processed: 1 });
    expect(await client.stats(jsonSpace)).toMatchObject({ total_records: 1, raw_journal_records: 1 });
    expect(await client.forget([stored.record_id as string], { confirm: true, space: jsonSpace })).toEqual({ records_deleted: 1 });
  });
});

describe('the one port', () => {
  it('answers a smoke round on every protocol it speaks', async () => {
    for (const [label, options] of REAL_PORT) {
      await smokeRound(connectDoor(clientFor(options)), `port-${label.replace(/[^A-Za-z0-9]/g, '-')}`);
    }
  });

  it('refuses a body over the limit and keeps serving', async () => {
    const huge = text('x'.repeat(70 * 1024 * 1024));
    const connect = clientFor({ protocol: 'connect', httpVersion: '1.1' });
    const refused = await rejection(connect.rpc.encodeStore({ content: huge }));
    expect(refused.code).toBe('CONTENT_TOO_LARGE');
    expect(refused.message).toMatch(/larger than configured readMaxBytes/);
    await expect(clientFor({ protocol: 'grpc' }).rpc.encodeStore({ content: huge })).rejects.toThrow();
    expect((await clientFor({ protocol: 'grpc' }).rpc.stats({ space: 'limit' })).totalRecords).toBe(0);
  });

  it('serves gRPC health and reflection', async () => {
    const sessions = new Http2SessionManager(server.url);
    try {
      const transport = createGrpcTransport({ baseUrl: server.url, sessionManager: sessions });
      const health = await createClient(Health, transport).check({});
      expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
      const reflection = createClient(ServerReflection, transport);
      const answers = [];
      for await (const answer of reflection.serverReflectionInfo(
        (async function* () {
          yield create(ServerReflectionRequestSchema, { messageRequest: { case: 'listServices', value: '' } });
          yield create(ServerReflectionRequestSchema, { messageRequest: { case: 'fileContainingSymbol', value: 'cerememory.v1.CerememoryService.RecallQuery' } });
        })(),
      )) {
        answers.push(answer);
      }
      expect(answers[0]!.messageResponse.case).toBe('listServicesResponse');
      const services = (answers[0]!.messageResponse.value as { service: { name: string }[] }).service.map((s) => s.name);
      expect(services).toEqual(expect.arrayContaining(['cerememory.v1.CerememoryService', 'grpc.health.v1.Health']));
      expect(answers[1]!.messageResponse.case).toBe('fileDescriptorResponse');
      // the service's file plus google/protobuf/struct.proto
      expect((answers[1]!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.length).toBe(2);
    } finally {
      sessions.abort();
    }
  });

  it('lets `buf curl` list and call the methods through reflection, without a schema', async () => {
    // async: the server lives in this process and must keep answering while buf runs
    const buf = join(import.meta.dirname, '../../../node_modules/.bin/buf');
    const run = promisify(execFile);
    const { stdout: listed } = await run(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '--list-methods', server.url]);
    expect(listed).toContain('cerememory.v1.CerememoryService/RecallQuery');
    expect(listed).toContain('cerememory.v1.CerememoryService/Export');
    const { stdout: stats } = await run(buf, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', '-d', '{"space":"buf"}', `${server.url}/cerememory.v1.CerememoryService/Stats`]);
    expect(JSON.parse(stats)).toMatchObject({ space: 'buf' });
  });

  it('still answers REST and plain curl-style Connect JSON on HTTP/1.1', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const stats = await fetch(`${server.url}/cerememory.v1.CerememoryService/Stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ space: 'curl' }),
    });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ space: 'curl', vectorSearchBackend: 'hnsw' });
    const malformed = await fetch(`${server.url}/cerememory.v1.CerememoryService/Stats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
  });
});
