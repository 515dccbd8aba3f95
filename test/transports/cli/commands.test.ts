import { execFile } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compiledEntry } from '../../helpers/compiled-cli.js';
import { LEXICAL_ENV, removeDir, sharedServer, tempDataDir } from '../../helpers/server.js';

// The memory commands as a user types them: a separate `cerememory` process, on a data directory no
// server owns (the command runs the engine itself) and on one a running server owns (the command
// talks to that server).

const ROOT = join(import.meta.dirname, '../../..');
const CLI = compiledEntry();
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cerememory(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function cerememoryWithStdin(stdin: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin);
  });
}

describe('on a data directory no server owns', { timeout: 120_000 }, () => {
  const dataDir = tempDataDir();
  dirs.push(dataDir);
  const inDir = (...args: string[]) => cerememory('--data-dir', dataDir, ...args);

  it('stores, recalls, inspects, counts and forgets', async () => {
    const stored = await inDir('--json', 'store', 'The ferry to the island leaves at seven', '--emotion', 'anticipation');
    expect(stored.code, stored.stderr).toBe(0);
    const { record_id: id } = JSON.parse(stored.stdout) as { record_id: string };

    const recalled = await inDir('recall', 'when does the ferry leave', '--mode', 'perfect');
    expect(recalled.stdout).toContain('The ferry to the island leaves at seven');
    expect(recalled.stdout).toContain(id);

    const inspected = JSON.parse((await inDir('inspect', id)).stdout) as { id: string; access_count: number };
    expect(inspected).toMatchObject({ id, access_count: 1 });

    expect((await inDir('stats')).stdout).toMatch(/records: 1 \(.*emotional 1/);

    const refused = await inDir('forget', id);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/FORGET_UNCONFIRMED/);
    expect((await inDir('forget', id, '--confirm')).stdout).toBe('Deleted 1 records\n');
  });

  it('keeps the raw journal and dreams about it', async () => {
    const raw = await inDir('store-raw', 'we planned the trip to the island', '--session-id', 'trip', '--speaker', 'user');
    expect(raw.stdout).toMatch(/^Stored raw .* in session trip \(normal, public\)/);
    expect((await inDir('recall-raw', 'island')).stdout).toContain('we planned the trip to the island');
    expect((await inDir('dream-tick', '--dry-run')).stdout).toContain('raw_records_processed: 1');
  });

  it('names the problem and changes nothing on bad input', async () => {
    const limit = await inDir('recall', 'x', '--limit', '5000');
    expect(limit.code).toBe(1);
    expect(limit.stderr).toMatch(/--limit <n>.*5000.*0\.\.1000/);
    const missing = await inDir('store-raw', 'x');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--session-id/);
    const store = await inDir('store', 'x', '--store', 'attic');
    expect(store.code).toBe(1);
    expect(store.stderr).toMatch(/STORE_INVALID/);
    expect((await inDir('--json', 'stats')).stdout).toMatch(/"total_records": 0/);
  });
});

describe('export and import', { timeout: 180_000 }, () => {
  it('carries memories to a fresh data directory in an encrypted archive, the key read from stdin', async () => {
    const from = tempDataDir();
    const to = tempDataDir();
    dirs.push(from, to);
    const archive = join(from, 'backup.cma');
    await cerememory('--data-dir', from, 'store', 'The lighthouse keeper fed the gulls');
    const exported = await cerememoryWithStdin('correct horse\n', '--data-dir', from, 'export', '--output', archive, '--encrypt', '--encryption-key-stdin', '--include-raw-journal');
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^Exported 1 records to /);
    expect(exported.stderr).toContain('wrote');
    const wrongKey = await cerememory('--data-dir', to, 'import', archive, '--decryption-key', 'wrong');
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/IMPORT_CONFLICT: Decryption failed/);
    const imported = await cerememoryWithStdin('correct horse\n', '--data-dir', to, 'import', archive, '--decryption-key-stdin');
    expect(imported.stdout).toBe('Imported 1 records from ' + archive + '\n');
    expect((await cerememory('--data-dir', to, 'recall', 'gulls')).stdout).toContain('The lighthouse keeper fed the gulls');
    const missing = await cerememory('--data-dir', to, 'import', join(to, 'nope.cma'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.cma: no such file or directory \(ENOENT\)\n$/);
  });
});

// Issue 14, defect 12: `--data-dir /no/such/dir stats` created the directory with twelve stores.
describe('on a data directory that does not exist', { timeout: 120_000 }, () => {
  const parent = tempDataDir();
  dirs.push(parent);
  const missing = join(parent, 'no', 'such', 'dir');

  it.each([
    ['stats'],
    ['recall', 'ferry'],
    ['recall-raw'],
    ['inspect', '01J00000000000000000000000'],
    ['decay-forecast', '01J00000000000000000000000', '--at', '2030-01-01T00:00:00Z'],
    ['decay-tick'],
    ['dream-tick'],
    ['consolidate'],
    ['set-mode', 'perfect'],
    ['forget', '01J00000000000000000000000', '--confirm'],
    ['export', '--output', join(parent, 'x.cma')],
    ['healthcheck'],
    ['cluster', 'status'],
  ])('%s says it does not exist and creates nothing', async (...args) => {
    const run = await cerememory('--data-dir', missing, ...args);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `cerememory: data directory ${missing} does not exist; check --data-dir (or data_dir in the configuration). Only serve, mcp and the commands that store memories (store, store-raw, import) create one.\n`,
    );
    expect(existsSync(join(parent, 'no'))).toBe(false);
  });

  it('store creates it', async () => {
    const stored = await cerememory('--data-dir', missing, 'store', 'A new data directory');
    expect(stored.code, stored.stderr).toBe(0);
    expect(existsSync(missing)).toBe(true);
  });
});

// Issue 14, defect 11: each of these printed a Node stack.
describe('a path the CLI cannot use', { timeout: 120_000 }, () => {
  const dataDir = tempDataDir();
  dirs.push(dataDir);
  const folder = join(dataDir, 'a-folder');
  mkdirSync(folder);

  it.each([
    ['import of a directory', ['import', folder], `cerememory: cannot read ${folder}: is a directory (EISDIR)\n`],
    ['export into a missing folder', ['export', '--output', '/missing-dir/x.cma'], 'cerememory: cannot write /missing-dir/x.cma: /missing-dir does not exist (ENOENT)\n'],
    ['export onto a directory', ['export', '--output', folder], `cerememory: cannot write ${folder}: is a directory (EISDIR)\n`],
  ])('%s prints one line naming the path and the cause', async (_case, args, message) => {
    const run = await cerememory('--data-dir', dataDir, ...args);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(message);
  });

  it('a server start on a read-only data directory prints one line naming it and the cause', async () => {
    const readOnly = tempDataDir();
    dirs.push(readOnly);
    expect((await cerememory('--data-dir', readOnly, 'store', 'Written before the disk turned read-only')).code).toBe(0);
    // Root ignores file modes, so as root the directory becomes a read-only mount instead.
    const root = process.getuid?.() === 0;
    if (root) {
      execFileSync('mount', ['--bind', readOnly, readOnly]);
      execFileSync('mount', ['-o', 'remount,bind,ro', readOnly]);
    } else {
      chmodSync(readOnly, 0o555);
      chmodSync(join(readOnly, 'cerememory.lock'), 0o555);
    }
    try {
      const run = await cerememory('--data-dir', readOnly, 'serve', '--port', '0');
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`cerememory: cannot open data directory ${readOnly}: ${root ? 'read-only file system (EROFS)' : 'permission denied (EACCES)'}\n`);
    } finally {
      if (root) execFileSync('umount', [readOnly]);
      else for (const dir of [readOnly, join(readOnly, 'cerememory.lock')]) chmodSync(dir, 0o755);
    }
  });
});

describe('on a data directory a running server owns', { timeout: 120_000 }, () => {
  const server = sharedServer();

  it('talks to the server instead of opening the directory', async () => {
    const stored = await cerememory('--data-dir', server.dataDir, '--space', 'cli', '--json', 'store', 'Owls hunt at dusk');
    expect(stored.code, stored.stderr).toBe(0);
    const { record_id: id } = JSON.parse(stored.stdout) as { record_id: string };
    expect((await server.call('GET', `/v1/introspect/record/${id}?space=cli`)).status).toBe(200);
    const recalled = await cerememory('--server-url', server.url, '--space', 'cli', 'recall', 'owls');
    expect(recalled.stdout).toContain('Owls hunt at dusk');
    const claude = await cerememory('--server-url', server.url, '--space', 'cli', 'recall', 'owls', '--format', 'claude');
    expect(claude.stdout).toMatch(/^<[a-z_]+/);
    expect(claude.stdout).toContain(id);
  });

  it('exports and imports through the server in the default space (no --space given)', async () => {
    const stored = await server.call('POST', '/v1/encode', { content: { blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from('Herons wait in the shallows')] }] } });
    expect(stored.status).toBe(200);
    const archive = join(tempDataDir(), 'default.cma');
    dirs.push(join(archive, '..'));
    const exported = await cerememory('--server-url', server.url, '--json', 'export', '--output', archive);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ record_count: 1 });
    await server.call('DELETE', '/v1/lifecycle/forget', { record_ids: [stored.body.record_id], confirm: true });
    const imported = await cerememory('--server-url', server.url, '--json', 'import', archive);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({ records_imported: 1 });
    expect((await server.call('GET', `/v1/introspect/record/${stored.body.record_id}`)).status).toBe(200);
  });

  it('healthcheck exits 0 for a healthy server and 1 for none', async () => {
    const healthy = await cerememory('--server-url', server.url, 'healthcheck');
    expect(healthy.code).toBe(0);
    expect(healthy.stdout).toContain('200');
    const none = await cerememory('--server-url', 'http://127.0.0.1:9', 'healthcheck');
    expect(none.code).toBe(1);
  });

  // Issue 14: healthcheck asked the configured port while every other command found the server
  // through the data directory's lock (this server listens on a port picked at random).
  it('healthcheck finds the server that owns the data directory', async () => {
    const found = await cerememory('--data-dir', server.dataDir, 'healthcheck');
    expect(found.code, found.stderr).toBe(0);
    expect(found.stdout).toContain(`${server.url}: 200`);
  });
});
