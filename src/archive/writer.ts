// Writes a CMA archive (spec §7.1) from record streams without holding the archive in memory. The
// header must state the record count before the first entry, and the stores keep changing while an
// export runs, so entries go to a temporary file first (counted and hashed on the way); the archive is
// then header + that file + footer, encrypted on the fly when asked (§7.2). Staging also makes the
// archive's size and checksum known before it is sent.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { MemoryRecord, RawJournalRecord } from '../cmp/types.js';
import { ENCRYPTION_OVERHEAD, encryptingStream } from './crypto.js';
import { ARCHIVE_VERSION, BUNDLE_ARCHIVE_VERSION, entryLine, footerLine, headerLine, type ArchiveVersion } from './format.js';

export interface ArchiveSource {
  curated: AsyncIterable<MemoryRecord[]>;
  /** Present for a bundle (version 2.0); absent for a curated-only archive (version 1.0). */
  raw?: AsyncIterable<RawJournalRecord[]>;
}

export interface StageArchiveOptions {
  /** The base key from `deriveArchiveKey`; absent: a plain archive. */
  encryptionKey?: Buffer;
  /** Where the entries are staged; default the system's temporary directory. */
  tempDir?: string;
  /** The header's timestamp (RFC 3339). */
  timestamp: string;
}

export interface ArchiveSummary {
  version: ArchiveVersion;
  record_count: number;
  curated_record_count: number;
  raw_record_count: number;
  /** SHA-256 (lowercase hex) of the entry lines, each with its `\n` (§7.1). */
  checksum: string;
  /** Bytes written to the output: the ciphertext frame when encrypted. */
  size_bytes: number;
}

/** Staged entry lines are flushed to the file in writes of about this many bytes. */
const FLUSH_BYTES = 1 << 20;

/**
 * An archive whose entries are staged and counted: its metadata (checksum, record count, final size)
 * is known before a byte goes out, which the gRPC export needs for its first chunk (spec §6.2).
 */
export interface StagedArchive {
  summary: ArchiveSummary;
  /** Writes the archive (header, entries, footer; encrypted when asked) into `out` and ends it. */
  writeTo(out: Writable): Promise<void>;
  /** Removes the staged entries; call once done, written or not. */
  discard(): Promise<void>;
}

export async function stageArchive(source: ArchiveSource, options: StageArchiveOptions): Promise<StagedArchive> {
  const version: ArchiveVersion = source.raw === undefined ? ARCHIVE_VERSION : BUNDLE_ARCHIVE_VERSION;
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'cma-export-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  try {
    const staged = join(dir, 'entries');
    const hash = createHash('sha256');
    let curated = 0;
    let raw = 0;
    let entryBytes = 0;
    const file = await open(staged, 'w');
    try {
      let pending: string[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pending.length === 0) return;
        const text = pending.join('');
        pending = [];
        pendingBytes = 0;
        await file.write(text);
      };
      const add = async (record: MemoryRecord | RawJournalRecord) => {
        const line = `${entryLine(version, record)}\n`;
        hash.update(line, 'utf8');
        const bytes = Buffer.byteLength(line, 'utf8');
        entryBytes += bytes;
        pending.push(line);
        pendingBytes += bytes;
        if (pendingBytes >= FLUSH_BYTES) await flush();
      };
      for await (const records of source.curated) {
        for (const record of records) await add(record);
        curated += records.length;
      }
      if (source.raw !== undefined) {
        for await (const records of source.raw) {
          for (const record of records) await add(record);
          raw += records.length;
        }
      }
      await flush();
    } finally {
      await file.close();
    }

    const checksum = hash.digest('hex');
    const bundle = version === BUNDLE_ARCHIVE_VERSION;
    const header = Buffer.from(
      `${headerLine({
        version,
        timestamp: options.timestamp,
        record_count: curated + raw,
        curated_record_count: bundle ? curated : null,
        raw_record_count: bundle ? raw : null,
      })}\n`,
      'utf8',
    );
    const footer = Buffer.from(`${footerLine(checksum)}\n`, 'utf8');
    const plainBytes = header.length + entryBytes + footer.length;
    const size_bytes = options.encryptionKey === undefined ? plainBytes : plainBytes + ENCRYPTION_OVERHEAD;
    async function* archiveBytes(): AsyncGenerator<Buffer> {
      yield header;
      for await (const chunk of createReadStream(staged, { highWaterMark: FLUSH_BYTES })) yield chunk as Buffer;
      yield footer;
    }
    return {
      summary: { version, record_count: curated + raw, curated_record_count: curated, raw_record_count: raw, checksum, size_bytes },
      async writeTo(out) {
        if (options.encryptionKey === undefined) await pipeline(Readable.from(archiveBytes()), out);
        else await pipeline(Readable.from(archiveBytes()), encryptingStream(options.encryptionKey), out);
      },
      discard,
    };
  } catch (error) {
    await discard();
    throw error;
  }
}
