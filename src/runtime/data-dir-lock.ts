import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

// Only one server process may own a data directory (DESIGN §1). LevelDB's own LOCK files would stop a
// second owner too, but only after workers start and with a message about a LOCK file; this pid file
// fails at once and says who holds the directory.

export const LOCK_FILE = 'cerememory.pid';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(readonly dataDir: string, readonly holderPid: number, readonly since: string) {
    super(
      `data directory ${dataDir} is in use by process ${holderPid} (since ${since}); ` +
        `stop that process or point --data-dir elsewhere. Only one Cerememory server may own a data directory.`,
    );
  }
}

export interface LockContent {
  pid: number;
  since: string;
  /** Where the holder serves, once it listens: the CLI and `cerememory mcp` talk to it there. */
  url?: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Records the holder's server URL in the lock file. */
  advertise(url: string): void;
  release(): void;
}

/** The live process holding the data directory, or null when it is free (or the lock is stale). */
export function lockHolder(dataDir: string): LockContent | null {
  let holder: LockContent;
  try {
    holder = JSON.parse(readFileSync(join(dataDir, LOCK_FILE), 'utf8')) as LockContent;
  } catch {
    return null;
  }
  return Number.isInteger(holder.pid) && isAlive(holder.pid) ? holder : null;
}

/** Takes the directory's lock or throws DataDirLockedError naming the holder. A stale lock is taken over. */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const content: LockContent = { pid: process.pid, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, JSON.stringify(content));
      closeSync(fd);
      let released = false;
      return {
        path,
        advertise(url: string) {
          if (!released) writeFileSync(path, JSON.stringify({ ...content, url }), { mode: 0o600 });
        },
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder: LockContent | undefined;
      try {
        holder = JSON.parse(readFileSync(path, 'utf8')) as LockContent;
      } catch {
        holder = undefined; // unreadable: a crash while writing it; treat as stale
      }
      // Our own pid counts as a holder: two engines in one process would fight over LevelDB too.
      if (holder && Number.isInteger(holder.pid) && isAlive(holder.pid)) {
        throw new DataDirLockedError(dataDir, holder.pid, holder.since);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
