import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { storageCause } from '../cmp/storage-cause.js';

// Only one server process may own a data directory (DESIGN §1). The lock is the LOCK file of a tiny
// LevelDB of its own, <data_dir>/cerememory.lock/: LevelDB holds it with an fcntl lock, which the
// operating system drops when the holder dies, however it dies. A pid file was not enough: after
// kill -9 a restart that got the same pid (PID 1 in a container) saw its own pid "alive" and was
// refused forever (issue 14, defect 2). The store partitions' LOCKs would stop a second owner too,
// but only after the workers start and with a message about a LOCK file; this one fails at once.
// Who holds it (pid, since, url) is written beside it for messages and for the CLI, never trusted
// as the lock itself.

export const LOCK_DIR = 'cerememory.lock';
/** The holder's pid, start time and URL, relative to the data directory; read only while the lock is held. */
export const HOLDER_FILE = join(LOCK_DIR, 'holder.json');

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | undefined,
    readonly since: string | undefined,
  ) {
    super(
      `data directory ${dataDir} is in use by ${holderPid === undefined ? 'another process' : `process ${holderPid}`}` +
        `${since === undefined ? '' : ` (since ${since})`}; ` +
        `stop that process or point --data-dir elsewhere. Only one Cerememory server may own a data directory.`,
    );
  }
}

/** A command that only reads was pointed at a data directory that is not there (issue 14, defect 12). */
export class DataDirMissingError extends Error {
  override readonly name = 'DataDirMissingError';
  constructor(readonly dataDir: string) {
    super(
      `data directory ${dataDir} does not exist; check --data-dir (or data_dir in the configuration). ` + `Only serve, mcp and the commands that store memories (store, store-raw, import) create one.`,
    );
  }
}

/** The data directory cannot be created or written (read-only, full, no permission): says which and why. */
export class DataDirOpenError extends Error {
  override readonly name = 'DataDirOpenError';
  constructor(
    readonly dataDir: string,
    cause: unknown,
  ) {
    super(`cannot open data directory ${dataDir}: ${storageCause(cause).text}`, { cause });
  }
}

export interface LockContent {
  pid: number;
  since: string;
  /** Where the holder serves, once it listens: the CLI and `cerememory mcp` talk to it there. */
  url?: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Records the holder's server URL beside the lock. */
  advertise(url: string): void;
  release(): Promise<void>;
}

function mkdirIfMissing(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/** LevelDB refused the LOCK because a live process (maybe this one) holds it. */
function isLocked(error: unknown): boolean {
  return (error as { cause?: { code?: string } } | undefined)?.cause?.code === 'LEVEL_LOCKED';
}

function readHolder(dataDir: string): LockContent | undefined {
  try {
    const holder = JSON.parse(readFileSync(join(dataDir, HOLDER_FILE), 'utf8')) as LockContent;
    return Number.isInteger(holder.pid) ? holder : undefined;
  } catch {
    return undefined; // the holder died or has not written it yet
  }
}

/**
 * The live process holding the data directory, or null when it is free. Probes the lock without
 * creating anything, so a mistyped data directory stays absent. A holder that has not written its
 * side file yet still counts (pid -1, no url): null means free, never "unknown".
 */
export async function lockHolder(dataDir: string): Promise<LockContent | null> {
  const db = new ClassicLevel(join(dataDir, LOCK_DIR), { createIfMissing: false });
  try {
    await db.open();
  } catch (error) {
    if (!isLocked(error)) return null;
    return readHolder(dataDir) ?? { pid: -1, since: '' };
  }
  await db.close();
  return null;
}

/**
 * Takes the directory's lock or throws DataDirLockedError naming the holder. A dead holder's lock is
 * free. The directory is created only when `create` is set; otherwise a missing one throws
 * DataDirMissingError, so a mistyped path never becomes an empty database.
 */
export async function lockDataDir(dataDir: string, { create = true }: { create?: boolean } = {}): Promise<DataDirLock> {
  if (!create && !existsSync(dataDir)) throw new DataDirMissingError(dataDir);
  const path = join(dataDir, LOCK_DIR);
  const db = new ClassicLevel(path);
  try {
    if (create) mkdirSync(dataDir, { recursive: true });
    // Made here, not by LevelDB: a recursive mkdir on a read-only file system reports ENOENT, not EROFS.
    mkdirIfMissing(path);
    await db.open();
  } catch (error) {
    // Another thread of this process counts as a holder too: two engines in one process would fight
    // over the partitions just the same (LevelDB refuses a second open in one process).
    if (!isLocked(error)) throw new DataDirOpenError(dataDir, error);
    const holder = readHolder(dataDir);
    throw new DataDirLockedError(dataDir, holder?.pid, holder?.since);
  }
  const holderPath = join(dataDir, HOLDER_FILE);
  const content: LockContent = { pid: process.pid, since: new Date().toISOString() };
  const writeHolder = (next: LockContent) => {
    // Replaced whole, so a reader never sees half of it.
    writeFileSync(`${holderPath}.tmp`, JSON.stringify(next), { mode: 0o600 });
    renameSync(`${holderPath}.tmp`, holderPath);
  };
  try {
    writeHolder(content);
  } catch (error) {
    await db.close();
    throw new DataDirOpenError(dataDir, error);
  }
  let released = false;
  return {
    path,
    advertise(url: string) {
      if (!released) writeHolder({ ...content, url });
    },
    async release() {
      if (released) return;
      released = true;
      // Best effort: the OS drops the LOCK with the process anyway, and a stale side file is ignored.
      try {
        rmSync(holderPath, { force: true });
      } catch {
        // a read-only or failing disk: the file is ignored once the lock is free
      }
      await db.close();
    },
  };
}
