import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog, AuditLogError, verifyAuditFile } from '../../src/audit/audit-log.js';
import { removeDir, tempDataDir } from '../helpers/server.js';

// The audit log file on its own: ordering under concurrency, reopening, refusing a broken file.

const dir = tempDataDir();
afterAll(() => removeDir(dir));
const event = (n: number) => ({ operation: 'encode.store', record_ids: [`id-${n}`], store_types: ['episodic'], summary: { n } });

describe('AuditLog', () => {
  it('chains concurrent appends in call order and resolves each with its entry', async () => {
    const path = join(dir, 'concurrent', 'audit.jsonl');
    const log = await AuditLog.open(path);
    const written = await Promise.all(Array.from({ length: 200 }, (_, n) => log.append(event(n))));
    expect(written.map((entry) => entry.sequence)).toEqual(Array.from({ length: 200 }, (_, n) => n + 1));
    expect(written.map((entry) => entry.summary.n)).toEqual(Array.from({ length: 200 }, (_, n) => n));
    await log.close();
    expect(await verifyAuditFile(path)).toMatchObject({ entries: 200, head: { sequence: 200, hash: written[199]!.entry_hash } });
    await expect(log.append(event(0))).rejects.toThrow(/closed/);
  });

  it('continues an existing chain when reopened', async () => {
    const path = join(dir, 'reopen.jsonl');
    const first = await AuditLog.open(path);
    await first.append(event(1));
    await first.close();
    const second = await AuditLog.open(path);
    expect(second.head.sequence).toBe(1);
    expect((await second.append(event(2))).sequence).toBe(2);
    await second.close();
    expect((await verifyAuditFile(path)).broken).toBeUndefined();
  });

  it('refuses to open a broken file, and a missing file is an empty log', async () => {
    expect(await verifyAuditFile(join(dir, 'missing.jsonl'))).toMatchObject({ entries: 0, head: { sequence: 0 } });
    const path = join(dir, 'broken.jsonl');
    const log = await AuditLog.open(path);
    await log.append(event(1));
    await log.append(event(2));
    await log.close();
    writeFileSync(path, readFileSync(path, 'utf8').replace('"n":2', '"n":3'));
    const error = await AuditLog.open(path).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuditLogError);
    expect((error as AuditLogError).report.broken).toMatchObject({ line: 2 });
  });
});

// A disk with a few bytes left makes write() write part of a batch and return without failing; the
// rest must be tried, fail, and be cut back off. Mounting a tiny tmpfs needs root; skipped otherwise.
describe.skipIf(process.getuid?.() !== 0)('AuditLog on a full disk', () => {
  it('leaves no partial line when only part of a batch fits, and continues once there is room', async () => {
    const disk = tempDataDir('cerememory-audit-disk-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
    let log: AuditLog | undefined;
    try {
      const path = join(disk, 'audit.jsonl');
      log = await AuditLog.open(path);
      await log.append(event(0));
      // Fill every free page: the log's own last page keeps its free tail, so the next batch fits only partly.
      const filler = join(disk, 'filler');
      const fd = openSync(filler, 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(4096, 1));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
      const open = log;
      const batch = await Promise.allSettled(Array.from({ length: 40 }, (_, n) => open.append(event(n + 1))));
      // Group commit: the first append goes out alone and may fit; the rest share one write that cannot.
      const acknowledged = batch.filter((outcome) => outcome.status === 'fulfilled').length;
      const refused = batch.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      expect(refused.length).toBeGreaterThanOrEqual(39);
      expect(String(refused[0]!.reason)).toMatch(/append failed \(ENOSPC\)/);
      expect(await verifyAuditFile(path)).toMatchObject({ entries: 1 + acknowledged });
      expect((await verifyAuditFile(path)).broken).toBeUndefined();

      rmSync(filler);
      expect((await log.append(event(99))).sequence).toBe(2 + acknowledged);
      await log.close();
      expect(await verifyAuditFile(path)).toMatchObject({ entries: 2 + acknowledged });
      expect((await verifyAuditFile(path)).broken).toBeUndefined();
    } finally {
      await log?.close();
      execFileSync('umount', [disk]);
      removeDir(disk);
    }
  });
});
