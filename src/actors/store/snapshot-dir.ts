import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

// A crash-safe snapshot directory: numbered, complete snapshots under one directory and one small file,
// CURRENT, naming the one to load with a checksum the snapshot's writer chooses (as LevelDB's CURRENT):
//
//   <dir>/CURRENT              "snapshot-000007 <checksum>\n"
//   <dir>/snapshot-000007/     whatever the writer put there, fsynced before CURRENT names it
//
// commitSnapshot writes a new snapshot directory, fsyncs it, then replaces CURRENT by rename; a crash
// at any point leaves CURRENT naming either the old or the new snapshot, both complete. Stale snapshot
// directories are removed after the switch (and by the next commit if a crash interrupted that).
// Plus the durable-file primitives that takes: fsynced writes, directory syncs, chunked CRC-32.

const CURRENT = 'CURRENT';
const SNAPSHOT_NAME = /^snapshot-(\d{6,})$/;

/**
 * Writes a new snapshot under `dir` by `write(root)` (root: the new, empty snapshot directory), which
 * fsyncs what it writes and returns the checksum CURRENT is to record; then makes it current. Throws on
 * I/O failure; the previous snapshot then stays current. One writer per `dir`.
 */
export function commitSnapshot<T extends { checksum: number }>(dir: string, write: (root: string) => T): T & { snapshot: string } {
  mkdirSync(dir, { recursive: true });
  const existing = snapshotNames(dir);
  const next = existing.reduce((max, name) => Math.max(max, snapshotNumber(name)), 0) + 1;
  const snapshot = `snapshot-${String(next).padStart(6, '0')}`;
  const root = join(dir, snapshot);
  mkdirSync(root);
  let written: T;
  try {
    written = write(root);
    syncDirectory(dir);
    writeDurably(join(dir, `${CURRENT}.tmp`), Buffer.from(`${snapshot} ${written.checksum}\n`));
  } catch (error) {
    rmSync(root, { recursive: true, force: true }); // CURRENT still names the previous snapshot
    throw error;
  }
  // The commit point. Should the rename fail, CURRENT is unchanged and the next commit removes `root`.
  renameSync(join(dir, `${CURRENT}.tmp`), join(dir, CURRENT));
  syncDirectory(dir);
  for (const name of existing) rmSync(join(dir, name), { recursive: true, force: true });
  return { ...written, snapshot };
}

/** The snapshot CURRENT names under `dir` and the checksum it records; throws naming what is wrong. */
export function readCurrent(dir: string): { snapshot: string; root: string; checksum: number } {
  let current: string;
  try {
    current = readFileSync(join(dir, CURRENT), 'utf8').trim();
  } catch (error) {
    throw new Error(`no ${CURRENT} file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  const [snapshot, checksum, ...rest] = current.split(' ');
  if (!SNAPSHOT_NAME.test(snapshot) || !/^\d+$/.test(checksum ?? '') || rest.length > 0) {
    throw new Error(`${CURRENT} reads "${current}", not "<snapshot> <crc32>"`);
  }
  return { snapshot, root: join(dir, snapshot), checksum: Number(checksum) };
}

function snapshotNames(dir: string): string[] {
  return readdirSync(dir).filter((name) => SNAPSHOT_NAME.test(name));
}

function snapshotNumber(name: string): number {
  return Number(SNAPSHOT_NAME.exec(name)![1]);
}

const CHUNK = 8 * 1024 * 1024;

/** Length and CRC-32 of a file, read in chunks; with `sync`, also flushes it to disk (it was just written). */
export function checksum(path: string, sync: boolean): { bytes: number; crc32: number } {
  const fd = openSync(path, sync ? 'r+' : 'r');
  try {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, statSync(path).size)));
    let crc = 0;
    let bytes = 0;
    for (let read; (read = readSync(fd, buffer, 0, buffer.length, bytes)) > 0; bytes += read) {
      crc = crc32(buffer.subarray(0, read), crc);
    }
    if (sync) fsyncSync(fd);
    return { bytes, crc32: crc };
  } finally {
    closeSync(fd);
  }
}

/** Writes `data` to `path` and fsyncs it; returns the bytes written. */
export function writeDurably(path: string, data: Buffer): number {
  const fd = openSync(path, 'w');
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return data.length;
}

/** Makes a rename or a new entry in `dir` durable. Some platforms cannot fsync a directory; skip there. */
export function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
