import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/recorder/capture-event.js';
import { createIngestClient } from '../../src/recorder/ingest-client.js';
import { removeDir, startTestServer, type TestServer } from '../helpers/server.js';

// The recorder resends a batch whose answer it never saw (from its spool, on the next run). The batch
// carries an idempotency key derived from its content, so the server journals it once.

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
  removeDir(server.dataDir);
});

describe('recorder batches', () => {
  it('are journalled once however often they are sent', async () => {
    const client = createIngestClient({ serverUrl: server.url });
    const records = [
      {
        session_id: 'rec-1',
        source: 'conversation',
        speaker: 'user',
        visibility: 'normal',
        secrecy_level: 'public',
        content: { blocks: [{ modality: 'text', format: 'text/plain', data: [104, 105] }] },
      },
    ] as unknown as RawRecord[];
    expect(await client.sendBatch(records)).toEqual({ ok: true });
    expect(await client.sendBatch(records)).toEqual({ ok: true });
    const journal = await server.call('POST', '/v1/recall/raw', { session_id: 'rec-1', limit: 100 });
    expect(journal.status).toBe(200);
    expect(journal.body.records ?? journal.body.results ?? journal.body.entries).toHaveLength(1);
  });
});
