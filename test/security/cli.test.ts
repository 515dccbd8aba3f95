import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { compiledEntry } from '../helpers/compiled-cli.js';
import { LEXICAL_ENV, sharedServer } from '../helpers/server.js';

// The CLI against a server with auth: `--api-key` (or CEREMEMORY_SERVER_API_KEY) gets in, nothing else
// does, and the key is never printed.

const KEY = 'cli-test-key-9f8e7d6c5b4a';
const server = sharedServer({ flags: { auth: { enabled: true, api_keys: [KEY] } } });

function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...compiledEntry(), '--server-url', server.url, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

// CLI processes from source: the timeout is a safety net for a hang on a loaded machine, not a speed check.
describe('cerememory against a server with auth', { timeout: 120_000 }, () => {
  it('is refused without a key or with a wrong one, and never prints the key', async () => {
    const [missing, wrong] = await Promise.all([cli(['--json', '--space', 'default', 'stats']), cli(['--api-key', 'not-the-key', '--json', '--space', 'default', 'stats'])]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('UNAUTHORIZED: Missing authorization metadata');
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('UNAUTHORIZED: Invalid API key');
    expect(wrong.stderr).not.toContain('not-the-key');
  });

  it('works with --api-key or CEREMEMORY_SERVER_API_KEY', async () => {
    const [flag, env] = await Promise.all([cli(['--api-key', KEY, '--json', '--space', 'default', 'stats']), cli(['--json', '--space', 'default', 'stats'], { CEREMEMORY_SERVER_API_KEY: KEY })]);
    expect(flag.status, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ total_records: 0 });
    expect(env.status, env.stderr).toBe(0);
  });
});
