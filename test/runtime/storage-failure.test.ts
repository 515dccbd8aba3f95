import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import { lockHolder } from '../../src/runtime/data-dir-lock.js';
import { removeDir, startTestServer, tempDataDir, textContent } from '../helpers/server.js';

// Issue 14, defect 7, on a real full disk: a small tmpfs filled to the last byte, and a store
// directory remounted read-only. Mounting needs root; elsewhere these are skipped.

const root = process.getuid?.() === 0;
const mounts: string[] = [];
const dirs: string[] = [];

function mount(...args: string[]): string {
  const dir = tempDataDir('cerememory-disk-');
  dirs.push(dir);
  execFileSync('mount', [...args, dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system holding `dir` until a write of even one byte fails with ENOSPC; returns the filler. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  try {
    for (let chunk = 1 << 20; chunk >= 1; chunk >>= 4) {
      const bytes = Buffer.alloc(chunk, 1);
      for (;;) {
        try {
          writeSync(fd, bytes);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

afterAll(() => {
  for (const dir of mounts.splice(0).reverse()) execFileSync('umount', [dir]);
  for (const dir of dirs.splice(0)) removeDir(dir);
});

describe.skipIf(!root)('a full data disk', { timeout: 120_000 }, () => {
  let disk: string;
  beforeAll(() => {
    disk = mount('-t', 'tmpfs', '-o', 'size=64m', 'tmpfs');
  });

  it('refuses writes as STORAGE_FULL, still answers a recall that does not reconsolidate, and shuts down completely', async () => {
    const dataDir = join(disk, 'data');
    const server = await startTestServer({ dataDir });
    const stored = await server.call('POST', '/v1/encode', { content: textContent('Written before the disk filled up'), store: 'episodic' });
    expect(stored.status).toBe(200);
    const filler = fill(disk);
    onTestFinished(async () => {
      rmSync(filler, { force: true });
      await server.close();
    });

    const refused = await server.call('POST', '/v1/encode', { content: textContent('Written on a full disk'), store: 'episodic' });
    expect(refused.status).toBe(507);
    expect(refused.body).toMatchObject({ code: 'STORAGE_FULL', message: expect.stringContaining('(ENOSPC)') });
    const client = new CerememoryClient({ baseUrl: server.url });
    const overConnect = await client.rpc.encodeStore({ content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from('Also on a full disk') }] } }).catch((error: unknown) => error);
    client.close();
    // The typed client answers with the CMP error; the Connect status it came as is its cause.
    expect(overConnect).toMatchObject({ code: 'STORAGE_FULL' });
    expect((overConnect as Error).cause).toBeInstanceOf(ConnectError);
    expect(((overConnect as Error).cause as ConnectError).code).toBe(Code.ResourceExhausted);

    // A read writes nothing, so a full disk cannot fail it.
    const recalled = await server.call('POST', '/v1/recall/query', { cue: { text: 'disk filled' }, reconsolidate: false, recall_mode: 'perfect' });
    expect(recalled.status, JSON.stringify(recalled.body)).toBe(200);
    expect(recalled.body.memories.map((memory: { record: { id: string } }) => memory.record.id)).toContain(stored.body.record_id);

    // Shutdown closes every store and releases the directory though every flush fails.
    await server.close();
    expect(server.runtime.health().every((store) => store.state === 'stopped')).toBe(true);
    expect(await lockHolder(dataDir)).toBeNull();

    rmSync(filler);
    const restarted = await startTestServer({ dataDir });
    onTestFinished(() => restarted.close());
    expect((await restarted.call('GET', `/v1/introspect/record/${stored.body.record_id}`)).status).toBe(200);
  });

  it('a start on a full disk names the data directory and the errno', async () => {
    const dataDir = join(disk, 'start');
    await (await startTestServer({ dataDir })).close();
    const filler = fill(disk);
    onTestFinished(() => rmSync(filler, { force: true }));
    // The directory's own lock is the first thing a start writes.
    await expect(startTestServer({ dataDir })).rejects.toThrow(`cannot open data directory ${dataDir}: no space left on device (ENOSPC)`);
    expect(await lockHolder(dataDir)).toBeNull();
  });
});

describe.skipIf(!root)('a store directory that turned read-only', { timeout: 120_000 }, () => {
  it('fails the start naming the store, its path and the errno', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    await (await startTestServer({ dataDir })).close();
    const episodic = join(dataDir, 'episodic');
    mkdirSync(episodic, { recursive: true });
    execFileSync('mount', ['--bind', episodic, episodic]);
    mounts.push(episodic);
    execFileSync('mount', ['-o', 'remount,bind,ro', episodic]);
    await expect(startTestServer({ dataDir })).rejects.toMatchObject({
      code: 'STORAGE_ERROR',
      message: `episodic store cannot open ${episodic}: read-only file system (EROFS)`,
    });
    expect(await lockHolder(dataDir)).toBeNull();
  });
});
