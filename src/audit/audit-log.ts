import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CerememoryConfig } from '../runtime/config.js';
import { entryLine, nextEntry, verifyChain, type AuditEntry, type AuditEvent, type ChainHead, type ChainReport } from './chain.js';

// The audit log file (reference spec §8.2): JSON Lines, one hash-chained entry per mutating operation.
// It is verified when opened, and the engine refuses to start on a broken chain. Appends are strictly
// ordered (one queue), one write per line, then fsync, and only then does the head advance; a failed
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

export class AuditLog {
  readonly path: string;
  readonly #file: FileHandle;
  readonly #sync: boolean;
  readonly #now: () => number;
  #head: ChainHead;
  #size: number;
  /** The last append; the next one starts after it, so lines are written in call order. */
  #queue: Promise<unknown> = Promise.resolve();
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

  /** Appends one entry; resolves once it is on disk (fsynced unless `sync: false`). */
  append(event: AuditEvent): Promise<AuditEntry> {
    const run = this.#queue.then(() => this.#write(event));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #write(event: AuditEvent): Promise<AuditEntry> {
    if (this.#closed) throw new Error(`audit log ${this.path} is closed`);
    const entry = nextEntry(this.#head, event, new Date(this.#now()));
    const bytes = Buffer.from(entryLine(entry), 'utf8');
    try {
      await this.#file.write(bytes, 0, bytes.length, null);
      if (this.#sync) await this.#file.datasync();
    } catch (error) {
      // Cut a partial line back off so the chain stays verifiable; the head does not move.
      await this.#file.truncate(this.#size).catch(() => {});
      throw new Error(`audit log ${this.path}: append failed (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
    this.#size += bytes.length;
    this.#head = { sequence: entry.sequence, hash: entry.entry_hash };
    return entry;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#queue;
    this.#closed = true;
    await this.#file.close();
  }
}
