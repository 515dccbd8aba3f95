import { afterAll, describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../../src/client/client.js';
import { isCmpError } from '../../../src/cmp/errors.js';
import { rechunk } from '../../../src/transports/connect/archive-streams.js';
import { sharedServer } from '../../helpers/server.js';

// Export (server streaming) and Import (client streaming) over gRPC and Connect: an archive leaves one
// space in 64 KiB chunks with its metadata first, and lands in another space whole or not at all.

const server = sharedServer();
const clients: CerememoryClient[] = [];
afterAll(() => clients.forEach((client) => client.close()));

const text = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: new TextEncoder().encode(value) }] });

describe.each(['grpc', 'connect'] as const)('%s', (protocol) => {
  it('exports in chunks with the metadata first and imports into another space', async () => {
    const client = new CerememoryClient({ baseUrl: server.url, protocol });
    clients.push(client);
    const from = `${protocol}-from`;
    // enough text for several 64 KiB chunks
    await client.rpc.encodeBatch({ space: from, records: Array.from({ length: 300 }, (_, i) => ({ content: text(`memory ${i} ${'of the sea '.repeat(40)}`) })) });
    await client.rpc.encodeStoreRaw({ space: from, sessionId: 's', source: 'conversation', speaker: 'user', visibility: 'normal', secrecyLevel: 'public', content: text('raw words') });

    const chunks = [];
    for await (const chunk of client.rpc.export({ space: from, includeRawJournal: true })) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0]!.metadata).toMatchObject({ recordCount: 301 });
    expect(chunks.slice(1).every((chunk) => chunk.metadata === undefined)).toBe(true);
    expect(chunks.map((chunk) => chunk.isLast)).toEqual([...Array(chunks.length - 1).fill(false), true]);
    expect(chunks.slice(0, -1).every((chunk) => chunk.data.length === 64 * 1024)).toBe(true);
    const size = chunks.reduce((sum, chunk) => sum + chunk.data.length, 0);
    expect(BigInt(size)).toBe(chunks[0]!.metadata!.sizeBytes);

    const to = `${protocol}-to`;
    const imported = await client.rpc.import(
      (async function* () {
        yield { options: { space: to, archiveId: 'a' } };
        for (const chunk of chunks) yield { data: chunk.data };
      })(),
    );
    expect(imported.recordsImported).toBe(301);
    const stats = await client.rpc.stats({ space: to });
    expect(stats.totalRecords).toBe(300);
    expect(stats.rawJournalRecords).toBe(1);
  });

  // The export's refusal is raised inside the response stream (a server-streaming handler runs when
  // read): the one error interceptor translates it there too, code and field kept.
  it('refuses an export naming the field, as a CMP error', async () => {
    const client = new CerememoryClient({ baseUrl: server.url, protocol });
    clients.push(client);
    const refused = await (async () => {
      for await (const _ of client.rpc.export({ space: `${protocol}-refused`, encrypt: true })) return undefined;
    })().catch((e: unknown) => e);
    expect(isCmpError(refused) && [refused.code, refused.field, refused.message]).toEqual(['VALIDATION_ERROR', 'encryption_key', 'encryption_key is required when encrypt=true']);
  });

  it('refuses an import without options, and a tampered archive, importing nothing', async () => {
    const client = new CerememoryClient({ baseUrl: server.url, protocol });
    clients.push(client);
    const space = `${protocol}-bad`;
    const noOptions = await client.rpc
      .import(
        (async function* () {
          yield { data: new Uint8Array([1, 2, 3]) };
        })(),
      )
      .catch((e: unknown) => e);
    expect(isCmpError(noOptions) && noOptions.code).toBe('VALIDATION_ERROR');

    await client.rpc.encodeStore({ space, content: text('one') });
    const bytes: Uint8Array[] = [];
    for await (const chunk of client.rpc.export({ space })) bytes.push(chunk.data);
    const archive = Buffer.concat(bytes);
    const inEntry = archive.indexOf('\n') + 3; // a byte of the entry line: the checksum no longer matches
    archive[inEntry] = archive[inEntry] === 0x61 ? 0x62 : 0x61;
    const target = `${space}-target`;
    const tampered = await client.rpc
      .import(
        (async function* () {
          yield { options: { space: target, archiveId: 'x' }, data: archive };
        })(),
      )
      .catch((e: unknown) => e);
    expect(isCmpError(tampered) && tampered.code).toBe('IMPORT_CONFLICT');
    expect((await client.rpc.stats({ space: target })).totalRecords).toBe(0);
  });
});

describe('rechunk', () => {
  it('cuts a byte stream into pieces of the given size, the last one shorter', async () => {
    async function* source() {
      yield new Uint8Array(5);
      yield new Uint8Array(12);
      yield new Uint8Array(0);
      yield new Uint8Array(3);
    }
    const sizes = [];
    for await (const piece of rechunk(source(), 8)) sizes.push(piece.length);
    expect(sizes).toEqual([8, 8, 4]);
  });
});
