import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRestApp } from '../../../src/transports/rest/app.js';
import { sharedRuntime } from '../../helpers/front-doors.js';
import { waitFor } from '../../helpers/recall.js';
import { textContent } from '../../helpers/server.js';

// POST /v1/lifecycle/export streams its answer (issue 18, move 3): the archive's bytes leave as the
// archiver reads the staged archive, never held whole; the answer is still the reference's one JSON
// object, which imports back. In process (Hono app.request), so the body's chunks are the app's own.

const server = sharedRuntime();
const RECORDS = 2000;

function app() {
  const { runtime } = server;
  return createRestApp({ operations: runtime.operations, health: () => runtime.health(), maxBodyBytes: runtime.config.http.max_body_bytes });
}

const post = (path: string, body: unknown) => app().request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function chunksOf(response: Response): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of response.body!) chunks.push(chunk);
  return chunks;
}

/** Nothing left staged in <data_dir>/tmp: the archives of finished exports are removed. */
const staged = () => {
  const dir = join(server.dataDir, 'tmp');
  return existsSync(dir) ? readdirSync(dir) : [];
};

describe('lifecycle.export over REST', () => {
  it('streams a large archive in many chunks, which imports back whole', async () => {
    const filler = 'of the wine-dark sea and the long ships '.repeat(20);
    for (let batch = 0; batch < RECORDS / 1000; batch++) {
      const records = Array.from({ length: 1000 }, (_, i) => ({ content: textContent(`memory ${batch * 1000 + i} ${filler}`), store: 'semantic' }));
      expect((await server.call('POST', '/v1/encode/batch', { space: 'big', records })).status).toBe(200);
    }
    const response = await post('/v1/lifecycle/export', { space: 'big' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const chunks = await chunksOf(response);
    // Streamed: the answer arrives as the archive is read (64 KiB pieces), not as one buffered body.
    expect(chunks.length).toBeGreaterThan(10);
    const answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
      archive_data: number[];
      archive_id: string;
      size_bytes: number;
      record_count: number;
      checksum: string;
    };
    expect(answer.record_count).toBe(RECORDS);
    expect(answer.size_bytes).toBeGreaterThan(2 * 1024 * 1024);
    expect(answer.archive_data.length).toBe(answer.size_bytes);
    expect(Object.keys(answer)).toEqual(['archive_data', 'archive_id', 'size_bytes', 'record_count', 'checksum']);

    const imported = await server.call('POST', '/v1/lifecycle/import', { space: 'big-copy', archive_id: answer.archive_id, archive_data: answer.archive_data });
    expect(imported.body).toEqual({ records_imported: RECORDS });
    expect((await server.call('GET', '/v1/introspect/stats?space=big-copy')).body.total_records).toBe(RECORDS);
    expect(staged()).toEqual([]);
  });

  it('stops the export and removes what it staged when the client stops reading', async () => {
    const response = await post('/v1/lifecycle/export', { space: 'big' });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitFor(async () => (staged().length === 0 ? true : undefined), 30_000, 'the staged archive removed');
    // The runtime is unharmed: the next export runs to its end.
    const again = await chunksOf(await post('/v1/lifecycle/export', { space: 'big', stores: ['episodic'] }));
    expect(JSON.parse(Buffer.concat(again).toString('utf8'))).toMatchObject({ archive_data: expect.any(Array), record_count: 0 });
  });

  it.each([
    [{ encrypt: true }, 'VALIDATION_ERROR', 'encryption_key', 'encryption_key is required when encrypt=true'],
    [{ stores: ['cortex'] }, 'STORE_INVALID', 'stores.0', 'Invalid store: cortex'],
  ])('refuses %j with an error envelope naming the field, before any byte', async (body, code, field, message) => {
    const response = await post('/v1/lifecycle/export', { space: 'big', ...body });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ code, message, details: { field } });
  });
});
