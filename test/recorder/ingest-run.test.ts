import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RawRecord } from '../../src/recorder/capture-event.js';
import type { IngestClient, SendResult } from '../../src/recorder/ingest-client.js';
import { MAX_BATCH_BYTES, runIngest } from '../../src/recorder/ingest.js';
import { openSpoolDir } from '../../src/recorder/spool.js';
import { removeDir } from '../helpers/server.js';

// runIngest in-process with a stub client: how events are cut into batches.

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function stubClient(answer: SendResult = { ok: true }) {
  const batches: RawRecord[][] = [];
  const client = {
    baseUrl: 'http://127.0.0.1:0',
    sendBatch: async (records: readonly RawRecord[]) => {
      batches.push([...records]);
      return answer;
    },
    get: async () => answer,
    post: async () => answer,
  } satisfies IngestClient;
  return { client, batches };
}

async function* lines(events: object[]) {
  for (const event of events) yield `${JSON.stringify(event)}\n`;
}

function run(client: IngestClient, events: object[], batchSize = 50) {
  const dir = mkdtempSync(join(tmpdir(), 'cerememory-recorder-run-'));
  dirs.push(dir);
  const reports: string[] = [];
  return runIngest({
    client,
    spool: openSpoolDir(join(dir, 'spool')),
    input: lines(events),
    batchSize,
    flushIntervalMs: 0,
    maxEventBytes: 256 * 1024,
    cwd: '/project',
    report: (line) => reports.push(line),
  }).then((summary) => ({ summary, reports }));
}

describe('runIngest batching', () => {
  it('cuts batches by count', async () => {
    const { client, batches } = stubClient();
    const events = Array.from({ length: 7 }, (_, index) => ({ session_id: 's', event_type: 'user_message', content: `m${index}` }));
    const { summary } = await run(client, events, 3);
    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 1]);
    expect(summary).toMatchObject({ accepted: 7, sent: 7, spooled: 0 });
  });

  it('cuts batches by size, far below the server body limit', async () => {
    const { client, batches } = stubClient();
    const big = 'x'.repeat(200 * 1024);
    const events = Array.from({ length: 40 }, (_, index) => ({ session_id: 's', event_type: 'tool_result', content: `${index}${big}` }));
    await run(client, events, 1000);
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) expect(JSON.stringify(batch).length).toBeLessThan(MAX_BATCH_BYTES + 400 * 1024);
    expect(batches.flat()).toHaveLength(40);
  });

  it('after a non-retryable failure sends nothing more and spools the rest', async () => {
    const { client, batches } = stubClient({ ok: false, retryable: false, status: 401, message: 'server rejected CEREMEMORY_SERVER_API_KEY' });
    const events = Array.from({ length: 5 }, (_, index) => ({ session_id: 's', event_type: 'user_message', content: `m${index}` }));
    const { summary } = await run(client, events, 2);
    expect(batches).toHaveLength(1);
    expect(summary).toMatchObject({ sent: 0, spooled: 5, fatal: 'server rejected CEREMEMORY_SERVER_API_KEY' });
  });
});
