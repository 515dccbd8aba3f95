import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOOK_EXAMPLE, HOOK_SCRIPT } from '../../src/recorder/codex-hook.js';
import { removeDir } from '../helpers/server.js';
import { recordText, recorder, startFakeServer, tempSpoolDir } from './helpers.js';

// `cerememory-recorder install-hook codex`: what it writes, what it refuses, and that the written
// Python hook really feeds the recorder (and never fails Codex).

// The installed hook calls the real bin, as a user's would (it runs dist/ when a build left one there).
const BIN = join(import.meta.dirname, '../../bin/cerememory-recorder.js');
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));
const project = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'cerememory-hook-test-'));
  dirs.push(dir);
  return dir;
};
const isPosix = process.platform !== 'win32';

function runHook(script: string, payload: object, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('python3', [script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stderr }),
    );
    child.stdin!.end(JSON.stringify(payload));
  });
}

describe('cerememory-recorder install-hook codex', { timeout: 120_000 }, () => {
  it('writes the hook script (0755) and an example hooks.json, and refuses to overwrite without --force', async () => {
    const dir = project();
    const run = await recorder(['install-hook', 'codex', '--target-dir', dir, '--server-url', 'http://127.0.0.1:9999']);
    expect(run.code, run.stderr).toBe(0);
    const script = join(dir, HOOK_SCRIPT);
    expect(readFileSync(script, 'utf8')).toContain('SERVER_URL = "http://127.0.0.1:9999"');
    if (isPosix) expect(statSync(script).mode & 0o777).toBe(0o755);
    const example = JSON.parse(readFileSync(join(dir, HOOK_EXAMPLE), 'utf8'));
    expect(Object.keys(example.hooks)).toEqual(['UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop']);

    const again = await recorder(['install-hook', 'codex', '--target-dir', dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists; use --force/);
    const forced = await recorder(['install-hook', 'codex', '--target-dir', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(script, 'utf8')).toContain('SERVER_URL = "http://127.0.0.1:8420"');
  });

  it('checks both paths before writing either', async () => {
    const dir = project();
    mkdirSync(join(dir, '.codex/hooks'), { recursive: true });
    writeFileSync(join(dir, HOOK_EXAMPLE), 'mine');
    const run = await recorder(['install-hook', 'codex', '--target-dir', dir]);
    expect(run.code).toBe(1);
    expect(existsSync(join(dir, HOOK_SCRIPT))).toBe(false);
    expect(readFileSync(join(dir, HOOK_EXAMPLE), 'utf8')).toBe('mine');
  });

  it.skipIf(!isPosix)('refuses a symlink target even with --force', async () => {
    const dir = project();
    mkdirSync(join(dir, '.codex/hooks'), { recursive: true });
    writeFileSync(join(dir, 'elsewhere.py'), 'precious');
    symlinkSync(join(dir, 'elsewhere.py'), join(dir, HOOK_SCRIPT));
    const run = await recorder(['install-hook', 'codex', '--target-dir', dir, '--force']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/is a symlink/);
    expect(readFileSync(join(dir, 'elsewhere.py'), 'utf8')).toBe('precious');
  });

  it('refuses other agents and non-loopback http', async () => {
    expect((await recorder(['install-hook', 'cursor', '--target-dir', project()])).stderr).toMatch(/unknown agent "cursor"/);
    expect((await recorder(['install-hook', 'codex', '--target-dir', project(), '--server-url', 'http://example.com'])).stderr).toMatch(/only to loopback/);
  });

  it('the written hook sends a Codex event through the recorder, and exits 0 even when the recorder is missing', async () => {
    const fake = await startFakeServer(200);
    try {
      const dir = project();
      expect((await recorder(['install-hook', 'codex', '--target-dir', dir, '--server-url', fake.url])).code).toBe(0);
      const spool = tempSpoolDir();
      const env = { CEREMEMORY_RECORDER_BIN: `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`, CEREMEMORY_RECORDER_SPOOL_DIR: spool };
      const hook = await runHook(
        join(dir, HOOK_SCRIPT),
        { hook_event_name: 'UserPromptSubmit', session_id: 'codex-1', prompt: 'deploy with token=ghp_abcdefghijklmnopqrstuvwxyz0123456789', cwd: dir },
        env,
      );
      expect(hook.code, hook.stderr).toBe(0);
      expect(hook.stderr).toBe('');
      expect(fake.accepted).toHaveLength(1);
      const [record] = fake.accepted as unknown as { session_id: string; speaker: string; metadata: Record<string, unknown>; content: { blocks: { data: string }[] } }[];
      expect(record).toMatchObject({ session_id: 'codex-1', speaker: 'user' });
      expect(recordText(record)).toBe('deploy with token=[REDACTED:token]');
      expect(record.metadata).toMatchObject({ capture_source: 'codex', capture_metadata: { codex_hook_event: 'UserPromptSubmit', cwd: dir } });

      const missing = await runHook(join(dir, HOOK_SCRIPT), { hook_event_name: 'Stop' }, { CEREMEMORY_RECORDER_BIN: '/nonexistent/cerememory-recorder' });
      expect(missing.code).toBe(0);
      expect(missing.stderr).toMatch(/cerememory-recorder hook: /);
    } finally {
      await fake.close();
    }
  });
});
