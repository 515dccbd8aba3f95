import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir, sharedServer, textOfRecord } from '../helpers/server.js';
import { jsonl, recorder, tempSpoolDir } from './helpers.js';

// `cerememory-recorder ingest` against a real server: what lands in the raw journal.

const server = sharedServer();
const spools: string[] = [];
afterAll(() => spools.forEach((dir) => removeDir(dirname(dir))));

function ingest(stdin: string, ...args: string[]) {
  const spoolDir = tempSpoolDir();
  spools.push(spoolDir);
  return recorder(['ingest', '--server-url', server.url, '--spool-dir', spoolDir, ...args], { stdin });
}

async function journal(sessionId: string) {
  const answer = await server.call('POST', '/v1/recall/raw', {
    session_id: sessionId,
    limit: 100,
    include_private_scratch: true,
    secrecy_levels: ['public', 'sensitive', 'secret'],
  });
  expect(answer.status).toBe(200);
  return answer.body.records as { session_id: string; turn_id: string | null; source: string; speaker: string; visibility: string; secrecy_level: string; metadata: any; content: any }[];
}

describe('cerememory-recorder ingest', { timeout: 120_000 }, () => {
  it('stores the README example in the raw journal', async () => {
    const run = await ingest('{"session_id":"demo","event_type":"user_message","content":"hello recorder"}\n');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('cerememory-recorder: accepted=1, duplicate=0, rejected=0, sent=1, spooled=0');
    const [record] = await journal('demo');
    expect(textOfRecord(record)).toBe('hello recorder');
    expect(record).toMatchObject({ session_id: 'demo', source: 'conversation', speaker: 'user', visibility: 'normal', secrecy_level: 'sensitive' });
    expect(record.metadata).toMatchObject({ recorder: 'cerememory-recorder', event_type: 'user_message' });
  });

  it('redacts secrets before they reach the server', async () => {
    const run = await ingest(
      jsonl({
        session_id: 'secrets',
        event_type: 'command',
        content: 'curl -H "Authorization: Bearer abcDEF123456789xyz" -d token=ghp_abcdefghijklmnopqrstuvwxyz0123456789',
        metadata: { env: { OPENAI_API_KEY: 'sk-proj-abcdefghijklmnop1234' }, note: 'AKIAIOSFODNN7EXAMPLE' },
      }),
    );
    expect(run.code, run.stderr).toBe(0);
    const [record] = await journal('secrets');
    const stored = JSON.stringify(record) + textOfRecord(record);
    for (const secret of ['abcDEF123456789xyz', 'ghp_abcdefghij', 'sk-proj-abcdef', 'AKIAIOSFODNN7EXAMPLE']) expect(stored).not.toContain(secret);
    expect(textOfRecord(record)).toContain('Authorization: Bearer [REDACTED:authorization]');
    expect(record.metadata.capture_metadata).toEqual({ env: { OPENAI_API_KEY: '[REDACTED:api_key]' }, note: '[REDACTED:aws_access_key]' });
  });

  it('batches, drops explicit duplicates, reports bad and oversized lines by number and goes on', async () => {
    const events = [
      { session_id: 'batch', event_type: 'user_message', content: 'one', turn_id: 't1' },
      { session_id: 'batch', event_type: 'user_message', content: 'one', turn_id: 't1' },
      { session_id: 'batch', event_type: 'assistant_message', content: 'two', turn_id: 't1' },
      { session_id: 'batch', event_type: 'tool_call', content: 'same words' },
      { session_id: 'batch', event_type: 'tool_call', content: 'same words' },
    ];
    const stdin =
      jsonl(...events.slice(0, 2)) +
      '{"session_id": "batch", oops\n' +
      '\n' +
      JSON.stringify({ session_id: 'batch', event_type: 'user_message', content: 'x'.repeat(300 * 1024) }) +
      '\n' +
      jsonl({ session_id: 'batch', event_type: 'nonsense', content: 'x' }, ...events.slice(2));
    const run = await ingest(stdin, '--batch-size', '2');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/line 3: rejected, invalid JSON/);
    expect(run.stderr).toMatch(/line 5: rejected, \d+ bytes is over the 262144-byte limit/);
    expect(run.stderr).toMatch(/line 6: rejected, event_type: must be one of/);
    expect(run.stderr).toContain('accepted=4, duplicate=1, rejected=3, sent=4, spooled=0');
    const stored = await journal('batch');
    expect(stored.map(textOfRecord).sort()).toEqual(['one', 'same words', 'same words', 'two']);
  });

  it('keeps private_scratch and secret levels as given', async () => {
    const run = await ingest(jsonl({ session_id: 'levels', event_type: 'session_summary', content: 'scratch', visibility: 'private_scratch', secrecy_level: 'secret' }));
    expect(run.code, run.stderr).toBe(0);
    const [record] = await journal('levels');
    expect(record).toMatchObject({ visibility: 'private_scratch', secrecy_level: 'secret', source: 'summary', speaker: 'system' });
  });

  it('refuses plain http to a non-loopback host before reading anything', async () => {
    const run = await recorder(['ingest', '--server-url', 'http://memory.example.com:8420', '--spool-dir', tempSpoolDir()], {
      stdin: jsonl({ session_id: 's', event_type: 'user_message', content: 'x' }),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/plain http:\/\/ is allowed only to loopback/);
  });

  it('leaves the spool empty when everything was sent', async () => {
    const spoolDir = tempSpoolDir();
    spools.push(spoolDir);
    const run = await recorder(['ingest', '--server-url', server.url], {
      stdin: jsonl({ session_id: 'env-spool', event_type: 'user_message', content: 'x' }),
      env: { CEREMEMORY_RECORDER_SPOOL_DIR: spoolDir },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
