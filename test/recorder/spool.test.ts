import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeDir } from '../helpers/server.js';
import { jsonl, recordText, recorder, startFakeServer, tempSpoolDir } from './helpers.js';

// Failed batches wait in the spool and go first on the next run; what cannot be read is set aside.
// A loopback fake server plays the failing (and then recovered) Cerememory server.

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const event = (content: string, sessionId = 'spool') => jsonl({ session_id: sessionId, event_type: 'user_message', content });
const batchFiles = (dir: string) => readdirSync(dir).filter((name) => /^batch-.*\.jsonl$/.test(name));
const isPosix = process.platform !== 'win32';

describe('spool and retry', { timeout: 120_000 }, () => {
  it('spools on 503, keeps going, and replays and empties the spool on the next run', async () => {
    const fake = await startFakeServer(503);
    try {
      const dir = tempSpoolDir();
      const first = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir, '--batch-size', '1'], {
        stdin: event('first') + event('second'),
      });
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).toMatch(/send failed \(will retry on the next run\): HTTP 503/);
      expect(first.stderr).toContain('accepted=2, duplicate=0, rejected=0, sent=0, spooled=2');
      const files = batchFiles(dir);
      expect(files).toHaveLength(2);
      // Spooled batches are already redacted raw records, private to the user.
      if (isPosix) {
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        for (const name of files) expect(statSync(join(dir, name)).mode & 0o777).toBe(0o600);
      }
      expect(recordText(JSON.parse(readFileSync(join(dir, files[0]), 'utf8')))).toBe('first');

      fake.status = 200;
      const second = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('third') });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toContain('sent=1, spooled=0, replayed=2');
      expect(fake.accepted.map(recordText)).toEqual(['first', 'second', 'third']);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('spools when the server cannot be reached at all', async () => {
    const fake = await startFakeServer(200);
    const url = fake.url;
    await fake.close();
    const dir = tempSpoolDir();
    const run = await recorder(['ingest', '--server-url', url, '--spool-dir', dir], { stdin: event('nobody home') });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/cannot reach/);
    expect(batchFiles(dir)).toHaveLength(1);
  });

  it('on 401 spools, stops sending, exits non-zero, and keeps the spool for later', async () => {
    const fake = await startFakeServer(401);
    try {
      const dir = tempSpoolDir();
      const env = { CEREMEMORY_SERVER_API_KEY: '  wrong-key  ' };
      const run = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir, '--batch-size', '1'], {
        stdin: event('a') + event('b'),
        env,
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/server rejected CEREMEMORY_SERVER_API_KEY/);
      expect(run.stderr).toContain('sent=0, spooled=2');
      // The key is sent trimmed, once: after a 401 nothing more is tried in this run.
      expect(fake.authorizations).toEqual(['Bearer wrong-key']);
      expect(batchFiles(dir)).toHaveLength(2);

      // Still rejected: the spool replay stops at once, new events join the spool, the exit is non-zero.
      const again = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('c'), env });
      expect(again.code).toBe(1);
      expect(batchFiles(dir)).toHaveLength(3);

      fake.status = 200;
      const fixed = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: '', env: { CEREMEMORY_SERVER_API_KEY: 'right' } });
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fake.accepted.map(recordText)).toEqual(['a', 'b', 'c']);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('quarantines a malformed spool file, sends the others, and ignores files that are not its own', async () => {
    const fake = await startFakeServer(503);
    try {
      const dir = tempSpoolDir();
      await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('good') });
      writeFileSync(join(dir, 'batch-0000000000000-broken.jsonl'), '{"session_id": "x", trunc\n', { mode: 0o600 });
      writeFileSync(join(dir, 'notes.jsonl'), 'not ours\n', { mode: 0o600 });
      writeFileSync(join(dir, 'batch-0000000000001-empty.jsonl'), '', { mode: 0o600 });

      fake.status = 200;
      const run = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: '' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/spool file batch-0000000000000-broken\.jsonl is unreadable .*moved to batch-0000000000000-broken\.jsonl\.bad-\d+/);
      expect(run.stderr).toContain('replayed=1, quarantined=1');
      expect(fake.accepted.map(recordText)).toEqual(['good']);
      const left = readdirSync(dir).sort();
      expect(left).toHaveLength(2);
      expect(left[0]).toMatch(/^batch-0000000000000-broken\.jsonl\.bad-\d+$/);
      expect(left[1]).toBe('notes.jsonl');
    } finally {
      await fake.close();
    }
  });

  it('quarantines a spool file the server refuses as invalid (400) instead of retrying it forever', async () => {
    const fake = await startFakeServer(503);
    try {
      const dir = tempSpoolDir();
      await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('refused') });
      expect(batchFiles(dir)).toHaveLength(1);
      fake.status = 400;
      const run = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: '' });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/was refused by the server \(HTTP 400.*moved to batch-.*\.jsonl\.bad-\d+/);
      expect(batchFiles(dir)).toHaveLength(0);
      expect(readdirSync(dir)).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('leaves the spool to a recorder that is already replaying it, and takes over a stale lock', async () => {
    const fake = await startFakeServer(503);
    try {
      const dir = tempSpoolDir();
      await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('old') });
      const lock = join(dir, '.replay.lock');
      writeFileSync(lock, '', { mode: 0o600 });
      fake.status = 200;
      const busy = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: event('new') });
      expect(busy.code, busy.stderr).toBe(0);
      expect(busy.stderr).toMatch(/another recorder is sending the spool/);
      expect(fake.accepted.map(recordText)).toEqual(['new']);
      expect(batchFiles(dir)).toHaveLength(1);

      const longAgo = new Date(Date.now() - 10 * 60_000);
      utimesSync(lock, longAgo, longAgo);
      // A temp file a crashed recorder left behind goes too.
      writeFileSync(join(dir, '.tmp-crashed'), '{"half', { mode: 0o600 });
      utimesSync(join(dir, '.tmp-crashed'), longAgo, longAgo);
      const takeover = await recorder(['ingest', '--server-url', fake.url, '--spool-dir', dir], { stdin: '' });
      expect(takeover.code, takeover.stderr).toBe(0);
      expect(fake.accepted.map(recordText)).toEqual(['new', 'old']);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it.skipIf(!isPosix)('refuses a pre-existing spool dir that is not private, and leaves its mode alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerememory-recorder-open-'));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const run = await recorder(['ingest', '--server-url', 'http://127.0.0.1:1', '--spool-dir', dir], { stdin: event('x') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/spool dir .* is not private \(mode 0755\); the recorder will not change it/);
    expect(statSync(dir).mode & 0o777).toBe(0o755);
    expect(readdirSync(dir)).toEqual([]);
  });

  it.skipIf(!isPosix)('refuses a symlinked spool dir', async () => {
    const base = mkdtempSync(join(tmpdir(), 'cerememory-recorder-link-'));
    dirs.push(base);
    mkdirSync(join(base, 'real'), { mode: 0o700 });
    symlinkSync(join(base, 'real'), join(base, 'link'));
    const run = await recorder(['ingest', '--server-url', 'http://127.0.0.1:1', '--spool-dir', join(base, 'link')], { stdin: event('x') });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is a symlink/);
  });
});
