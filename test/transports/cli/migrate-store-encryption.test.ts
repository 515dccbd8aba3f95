import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledEntry } from '../../helpers/compiled-cli.js';
import { LEXICAL_ENV, removeDir, tempDataDir } from '../../helpers/server.js';

// `cerememory migrate-store-encryption` as a user types it (issue 6): it refuses without --confirm,
// encrypts a plaintext directory in place and reports per store, and the commands then read the
// memories only with the passphrase.

const ROOT = join(import.meta.dirname, '../../..');
const CLI = compiledEntry();
const PASSPHRASE = 'a long enough passphrase';
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function cerememory(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('cerememory migrate-store-encryption', { timeout: 120_000 }, () => {
  it('refuses without --confirm, migrates with it, and the memories then need the passphrase', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const withKey = { CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE: PASSPHRASE };
    const stored = await cerememory({}, '--data-dir', dataDir, 'store', 'The lighthouse keeper feeds three cats');
    expect(stored.code, stored.stderr).toBe(0);

    const refusedOpen = await cerememory(withKey, '--data-dir', dataDir, 'stats');
    expect(refusedOpen.code).toBe(1);
    expect(refusedOpen.stderr).toContain('cerememory migrate-store-encryption --confirm');
    expect(refusedOpen.stderr).not.toContain(PASSPHRASE);

    const unconfirmed = await cerememory(withKey, '--data-dir', dataDir, 'migrate-store-encryption');
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('--confirm');

    const migrated = await cerememory(withKey, '--data-dir', dataDir, '--json', 'migrate-store-encryption', '--confirm');
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(JSON.parse(migrated.stdout).episodic).toEqual({ records_total: 1, records_migrated: 1, records_already_encrypted: 0 });
    const audit = readFileSync(join(dataDir, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(audit.at(-1)).toMatchObject({
      operation: 'security.migrate_store_encryption',
      summary: { episodic: { records_total: 1, records_migrated: 1, records_already_encrypted: 0 } },
    });
    expect(JSON.stringify(audit)).not.toContain(PASSPHRASE);

    const recalled = await cerememory(withKey, '--data-dir', dataDir, 'recall', 'lighthouse cats', '--mode', 'perfect');
    expect(recalled.code, recalled.stderr).toBe(0);
    expect(recalled.stdout).toContain('The lighthouse keeper feeds three cats');

    const keyless = await cerememory({}, '--data-dir', dataDir, 'stats');
    expect(keyless.code).toBe(1);
    expect(keyless.stderr).toContain('is encrypted at rest');
  });
});
