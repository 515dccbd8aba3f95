import { appendFile, mkdir, open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CerememoryConfig } from '../runtime/config/index.js';
import { entryLine, nextEntry, verifyChain, type AuditEntry, type AuditEvent, type ChainHead, type ChainReport } from './chain.js';

// The audit log file (reference spec §8.2): JSON Lines, one hash-chained entry per mutating operation.
// It is verified when opened, and the engine refuses to start on a broken chain. Appends are strictly
// ordered, written whole lines at a time (a short write, as on a filling disk, is continued or cut
// back off), then fsynced, and only then does the head advance, so the file never keeps half a line
// from us. A torn last line can still come from a crash or power loss between write and fsync. Its
// operation was never acknowledged (that waits for the fsync), so opening sets those bytes aside in
// `<path>.torn` and continues the chain from the last whole entry, saying so; every other break stops the start.

/** `security.audit_log_path`, else `<data_dir>/audit.jsonl` (both absolute after loadConfig). */
export function auditLogPath(config: CerememoryConfig): string {
  return config.security.audit_log_path ?? join(config.data_dir, 'audit.jsonl');
}

export interface AuditLogOptions {
  /** fsync each entry before the operation is acknowledged. Default true. */
  sync?: boolean;
  /** Milliseconds clock for timestamps. Default `Date.now`. */
  now?: () => number;
  /** Told, in one sentence, when opening set a torn last line aside. Default: stderr. */
  log?: (line: string) => void;
}

/** The result of verifying a file: where it is, and what the chain says. A missing file is an empty log. */
export interface AuditFileReport extends ChainReport {
  path: string;
}

export async function verifyAuditFile(path: string): Promise<AuditFileReport> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, ...verifyChain('') };
    throw error;
  }
  return { path, ...verifyChain(text) };
}

/** One sentence for a broken report, naming the file, the line and what to do. */
export function describeBreak(report: AuditFileReport): string {
  const { broken } = report;
  if (broken === undefined) return `audit log ${report.path}: ok (${report.entries} entries)`;
  const verified = `entries 1..${broken.line - 1} verify`;
  return broken.torn
    ? `audit log ${report.path}: line ${broken.line} is incomplete (a write was cut short by a crash or power loss); ` +
        `${verified}. Its operation was never acknowledged; the next start moves the line to ${tornPath(report.path)} and continues.`
    : `audit log ${report.path}: entry ${broken.line} is broken (${broken.reason}); ${verified}. ` +
        'The log was modified outside Cerememory; keep it as evidence and move it aside to start a new one.';
}

/** Where an incomplete last line goes when the log is opened (appended, so earlier ones stay). */
export function tornPath(path: string): string {
  return `${path}.torn`;
}

/** Moves the bytes after the last newline of `path` to `tornPath(path)` and cuts the file after that newline. */
async function setTornLineAside(path: string): Promise<void> {
  const bytes = await readFile(path);
  const end = bytes.lastIndexOf(0x0a) + 1;
  await appendFile(tornPath(path), Buffer.concat([bytes.subarray(end), Buffer.from('\n')]));
  await truncate(path, end);
}

export class AuditLogError extends Error {
  override readonly name = 'AuditLogError';
  readonly report: AuditFileReport;

  constructor(report: AuditFileReport) {
    super(describeBreak(report));
    this.report = report;
  }
}

interface Pending {
  event: AuditEvent;
  resolve: (entry: AuditEntry) => void;
  reject: (error: Error) => void;
}

export class AuditLog {
  readonly path: string;
  readonly #file: FileHandle;
  readonly #sync: boolean;
  readonly #now: () => number;
  #head: ChainHead;
  #size: number;
  /** Appends waiting for the next write; they go out together (group commit: one write, one fsync). */
  #pending: Pending[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  private constructor(path: string, file: FileHandle, head: ChainHead, size: number, options: AuditLogOptions) {
    this.path = path;
    this.#file = file;
    this.#head = head;
    this.#size = size;
    this.#sync = options.sync ?? true;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Verifies the file (creating it and its directory when missing) and opens it for appending. A torn
   * last line is set aside (see the top of this file); any other break throws AuditLogError.
   */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    let report = await verifyAuditFile(path);
    if (report.broken?.torn) {
      await setTornLineAside(path);
      (options.log ?? ((line: string) => console.error(line)))(
        `audit log ${path}: line ${report.broken.line} was incomplete (an append cut short by a crash, never acknowledged); ` +
          `moved it to ${tornPath(path)}, continuing after entry ${report.entries}`,
      );
      report = await verifyAuditFile(path);
    }
    if (report.broken) throw new AuditLogError(report);
    await mkdir(dirname(path), { recursive: true });
    const file = await open(path, 'a');
    const { size } = await file.stat();
    return new AuditLog(path, file, report.head, size, options);
  }

  get head(): ChainHead {
    return this.#head;
  }

  /**
   * Appends one entry; resolves once it is on disk (fsynced unless `sync: false`). Entries are chained
   * in call order; appends made while a write is in flight share the next write and fsync, so many
   * concurrent operations cost one fsync, not one each.
   */
  append(event: AuditEvent): Promise<AuditEntry> {
    if (this.#closed) return Promise.reject(new Error(`audit log ${this.path} is closed`));
    return new Promise<AuditEntry>((resolve, reject) => {
      this.#pending.push({ event, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0);
      if (this.#closed) {
        for (const waiting of batch) waiting.reject(new Error(`audit log ${this.path} is closed`));
        continue;
      }
      let head = this.#head;
      const entries = batch.map(({ event }) => {
        const entry = nextEntry(head, event, new Date(this.#now()));
        head = { sequence: entry.sequence, hash: entry.entry_hash };
        return entry;
      });
      const bytes = Buffer.from(entries.map(entryLine).join(''), 'utf8');
      try {
        // write() may write less than asked (a disk with a few bytes left) without failing; the rest
        // is written by the next call, which then fails if nothing more fits.
        for (let written = 0; written < bytes.length; ) {
          const { bytesWritten } = await this.#file.write(bytes, written, bytes.length - written, null);
          if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
          written += bytesWritten;
        }
        if (this.#sync) await this.#file.datasync();
      } catch (error) {
        // Cut a partial write back off so the chain stays verifiable; the head does not move.
        await this.#file.truncate(this.#size).catch(() => {});
        const failure = new Error(`audit log ${this.path}: append failed (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
        for (const waiting of batch) waiting.reject(failure);
        continue;
      }
      this.#size += bytes.length;
      this.#head = head;
      batch.forEach((waiting, index) => waiting.resolve(entries[index]!));
    }
    this.#flushing = undefined;
  }

  /** Waits for appends already made, then closes the file; later appends fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#flushing;
    this.#closed = true;
    await this.#file.close();
  }
}
