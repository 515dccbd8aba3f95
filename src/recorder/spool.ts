import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import type { RawRecord } from './capture-event.js';

// The spool: batches the server did not take, kept on disk (already redacted) until the next
// `ingest` sends them. One `batch-<unix_ms>-<uuidv7>.jsonl` file per batch, one raw record per line;
// names sort in the order they were written. Files are written to a temp name, fsynced and renamed, so
// a crash leaves either a whole batch or none. The directory is private (0700) and the files 0600 on
// Unix: they hold transcripts.

export const SPOOL_DIR_ENV = 'CEREMEMORY_RECORDER_SPOOL_DIR';
const BATCH_FILE = /^batch-.*\.jsonl$/;
const REPLAY_LOCK = '.replay.lock';
/** A replay lock untouched this long belongs to a recorder that died; it is taken over. */
export const REPLAY_LOCK_STALE_MS = 120_000;
const isPosix = process.platform !== 'win32';

export class SpoolError extends Error {
  override name = 'SpoolError';
}

/** --spool-dir, else $CEREMEMORY_RECORDER_SPOOL_DIR, else ~/.cerememory/recorder/spool. */
export function resolveSpoolDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined && flag.trim() !== '') return flag;
  const fromEnv = env[SPOOL_DIR_ENV]?.trim();
  if (fromEnv) return fromEnv;
  return join(homedir(), '.cerememory', 'recorder', 'spool');
}

/**
 * Creates the spool directory (0700) or checks an existing one. An existing directory that is a
 * symlink, or that group or others may use, is refused and left as it is: changing the mode of a
 * directory the user made is not the recorder's call.
 */
export function openSpoolDir(dir: string): Spool {
  let stats;
  try {
    stats = lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new SpoolError(`spool dir ${dir}: ${(error as Error).message}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return new Spool(dir);
  }
  if (stats.isSymbolicLink()) throw new SpoolError(`spool dir ${dir} is a symlink; refusing to use it (give a real directory with --spool-dir)`);
  if (!stats.isDirectory()) throw new SpoolError(`spool dir ${dir} exists and is not a directory`);
  if (isPosix && (stats.mode & 0o077) !== 0) {
    const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
    throw new SpoolError(`spool dir ${dir} is not private (mode ${mode}); the recorder will not change it. Run \`chmod 700 ${dir}\` or choose another --spool-dir`);
  }
  return new Spool(dir);
}

export type PendingFile = { name: string; records: RawRecord[] } | { name: string; bad: string };

export class Spool {
  constructor(readonly dir: string) {}

  /** Writes one batch as a new spool file and returns its name. */
  write(records: readonly RawRecord[]): string {
    const name = `batch-${Date.now()}-${uuidv7()}.jsonl`;
    this.#writeAtomically(name, records);
    return name;
  }

  /** Replaces a spool file's contents with the records still unsent; deletes it when none are left. */
  rewrite(name: string, remaining: readonly RawRecord[]): void {
    if (remaining.length === 0) rmSync(join(this.dir, name), { force: true });
    else this.#writeAtomically(name, remaining);
  }

  /** Spool file names (only `batch-*.jsonl`; anything else in the directory is not ours), oldest first. */
  names(): string[] {
    return readdirSync(this.dir)
      .filter((name) => BATCH_FILE.test(name))
      .sort();
  }

  /** Reads one spool file; an unreadable one is reported as `bad` (with the reason), not thrown. */
  read(name: string): PendingFile {
    try {
      const lines = readFileSync(join(this.dir, name), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '');
      const records = lines.map((line, index) => {
        const record = JSON.parse(line) as RawRecord;
        if (record === null || typeof record !== 'object' || typeof record.session_id !== 'string' || typeof record.content !== 'object') {
          throw new Error(`line ${index + 1} is not a raw record`);
        }
        return record;
      });
      return { name, records };
    } catch (error) {
      return { name, bad: (error as Error).message };
    }
  }

  /**
   * Hooks run recorders concurrently; only one of them replays the spool at a time, or the same
   * batch would be sent twice. Returns the lock (touch it while working, release it when done), or
   * null when another live recorder holds it.
   */
  tryLockReplay(now = Date.now()): { touch(): void; release(): void } | null {
    const path = join(this.dir, REPLAY_LOCK);
    const take = (): boolean => {
      try {
        closeSync(openSync(path, 'wx', 0o600));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        return false;
      }
    };
    if (!take()) {
      let age: number;
      try {
        age = now - statSync(path).mtimeMs;
      } catch {
        age = Infinity; // released in between
      }
      if (age < REPLAY_LOCK_STALE_MS) return null;
      rmSync(path, { force: true });
      if (!take()) return null;
    }
    return {
      touch: () => {
        const time = new Date();
        utimesSync(path, time, time);
      },
      release: () => rmSync(path, { force: true }),
    };
  }

  /** Removes temp files a crashed recorder left half-written (older than the stale-lock age). */
  removeStaleTemps(now = Date.now()): void {
    for (const name of readdirSync(this.dir)) {
      if (!name.startsWith('.tmp-')) continue;
      const path = join(this.dir, name);
      try {
        if (now - statSync(path).mtimeMs >= REPLAY_LOCK_STALE_MS) rmSync(path, { force: true });
      } catch {
        // gone already
      }
    }
  }

  /** Moves a file that cannot be sent out of the way (`<name>.bad-<unix_ms>`), keeping it for a human. */
  quarantine(name: string): string {
    const target = `${name}.bad-${Date.now()}`;
    renameSync(join(this.dir, name), join(this.dir, target));
    return target;
  }

  /** A file can be created, written and removed here (doctor's probe). */
  probeWritable(): void {
    const name = `.doctor-probe-${uuidv7()}`;
    this.#writeAtomically(name, []);
    rmSync(join(this.dir, name), { force: true });
  }

  #writeAtomically(name: string, records: readonly RawRecord[]): void {
    const temp = join(this.dir, `.tmp-${uuidv7()}`);
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, join(this.dir, name));
  }
}
