import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { RECORDER, jsonl, recordText, recorder, startFakeServer, tempSpoolDir } from './helpers.js';

// The command surface: help on every command, option bounds, and the flush interval of a long-lived
// stream.

describe('cerememory-recorder commands', { timeout: 120_000 }, () => {
  it.each([
    [[], /Usage: cerememory-recorder.*ingest.*doctor.*install-hook/s],
    [['ingest'], /--server-url.*--spool-dir.*--batch-size.*--flush-interval-ms.*--max-event-bytes.*Example:/s],
    [['doctor'], /--skip-raw-ingest-probe/],
    [['install-hook'], /--target-dir.*--force/s],
  ])('has help: %j', async (command, pattern) => {
    const run = await recorder([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(pattern);
  });

  it('refuses a batch size over the server limit', async () => {
    const run = await recorder(['ingest', '--batch-size', '1001']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--batch-size.*1\.\.1000/);
  });

  it('sends a started batch after the flush interval while stdin stays open', async () => {
    const fake = await startFakeServer(200);
    const spool = tempSpoolDir();
    const child = spawn(process.execPath, [...RECORDER, 'ingest', '--server-url', fake.url, '--spool-dir', spool, '--flush-interval-ms', '200'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      child.stdin.write(jsonl({ session_id: 'live', event_type: 'user_message', content: 'early' }));
      const deadline = Date.now() + 20_000;
      while (fake.accepted.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(fake.accepted.map(recordText)).toEqual(['early']);
      child.stdin.end(jsonl({ session_id: 'live', event_type: 'user_message', content: 'late' }));
      expect(await exited, stderr).toBe(0);
      expect(fake.accepted.map(recordText)).toEqual(['early', 'late']);
      expect(stderr).toContain('accepted=2, duplicate=0, rejected=0, sent=2');
    } finally {
      child.kill();
      await fake.close();
    }
  });
});
