import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CerememoryConfig } from '../runtime/config.js';
import { entryLine, nextEntry, verifyChain, type AuditEntry, type AuditEvent, type ChainHead, type ChainReport } from './chain.js';

// The audit log file (reference spec §8.2): JSON Lines, one hash-chained entry per mutating operation.
// It is verified when opened, and the engine refuses to start on a broken chain. Appends are strictly
// ordered, written whole lines at a time, then fsynced, and only then does the head advance; a failed
// write is cut back off, so the file never keeps half a line from us. A torn last line can still come
// from a power loss between write and fsync; verification reports it as such, by line number.

/** `security.audit_log_path`, else `<data_dir>/audit.jsonl` (both absolute after loadConfig). */
export function auditLogPath(config: CerememoryConfig): string {
  return config.security.audit_log_path ?? join(config.data_dir, 'audit.jsonl');
}

export interface AuditLogOptions {
  /** fsync each entry before the operation is acknowledged. Default true. */
  sync?: boolean;
  /** Milliseconds clock for timestamps. Default `Date.now`. */
  now?: () => number;
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
        `${verified}. Keep a copy of the file, then remove the incomplete last line to start again.`
    : `audit log ${report.path}: entry ${broken.line} is broken (${broken.reason}); ${verified}. ` +
        'The log was modified outside Cerememory; keep it as evidence and move it aside to start a new one.';
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

  /** Verifies the file (creating it and its directory when missing) and opens it for appending. */
  static async open(path: string, options: AuditLogOptions = {}): Promise<AuditLog> {
    const report = await verifyAuditFile(path);
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
        await this.#file.write(bytes, 0, bytes.length, null);
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
