// Reads a CMA archive (spec §7.3) in two steps, so that a bad archive changes nothing: `openArchive`
// spools the (decrypted) plaintext to a temporary file and verifies all of it — AEAD tag, header,
// every entry, record count, checksum — staging the decoded entries beside it; only then does the
// caller read the entries back, in batches, to apply them. Nothing is held in memory beyond one batch.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CmpError, isCmpError } from '../cmp/errors.js';
import { decryptingStream } from './crypto.js';
import { entryParser, MAX_ARCHIVE_BYTES, parseFooter, parseHeader, type ArchiveEntry, type ArchiveHeader } from './format.js';

export interface OpenArchiveOptions {
  /** The base key from `deriveArchiveKey`; the archive is decrypted iff given (§7.2: no marker). */
  decryptionKey?: Buffer;
  tempDir?: string;
  /** Fills timestamps an archived record leaves out (RFC 3339). */
  now: string;
  /** Largest plaintext accepted, bytes; default MAX_ARCHIVE_BYTES. */
  maxBytes?: number;
}

export interface OpenedArchive {
  header: ArchiveHeader;
  checksum: string;
  curated: number;
  raw: number;
  /** The verified entries in archive order, `size` at a time. */
  entries(size: number): AsyncGenerator<ArchiveEntry[]>;
  /** Removes the spooled plaintext. */
  close(): Promise<void>;
}

/** Verifies the whole archive; throws IMPORT_CONFLICT with the reference's texts on any defect. */
export async function openArchive(source: Readable | AsyncIterable<Uint8Array>, options: OpenArchiveOptions): Promise<OpenedArchive> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'cma-import-'));
  const path = join(dir, 'archive');
  const close = () => rm(dir, { recursive: true, force: true });
  try {
    await spool(source, path, options);
    const decodedPath = join(dir, 'decoded');
    const verified = await verify(path, decodedPath, options.now);
    // The raw archive has served its purpose; only the decoded entries are read from here on.
    await rm(path);
    return {
      header: verified.header,
      checksum: verified.checksum,
      curated: verified.curated,
      raw: verified.raw,
      entries: (size) => readEntries(decodedPath, size),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

async function spool(source: Readable | AsyncIterable<Uint8Array>, path: string, options: OpenArchiveOptions): Promise<void> {
  const max = options.maxBytes ?? MAX_ARCHIVE_BYTES;
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > max) return callback(new CmpError('IMPORT_CONFLICT', `Archive too large: more than ${max} bytes (max ${max})`));
      callback(null, chunk);
    },
  });
  try {
    if (options.decryptionKey === undefined) await pipeline(source, limit, createWriteStream(path));
    else await pipeline(source, decryptingStream(options.decryptionKey), limit, createWriteStream(path));
  } catch (error) {
    if (isCmpError(error)) throw error;
    throw new CmpError('IMPORT_CONFLICT', `Read error: ${(error as Error).message}`, { cause: error });
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The file's lines without `\n` (and without a `\r` before it, like the reference's line reader). */
async function* lines(path: string): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  const line = (bytes: Buffer) => (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, -1) : bytes);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const data = carry.length === 0 ? (chunk as Buffer) : Buffer.concat([carry, chunk as Buffer]);
    let start = 0;
    for (let newline = data.indexOf(0x0a, start); newline !== -1; newline = data.indexOf(0x0a, start)) {
      yield line(data.subarray(start, newline));
      start = newline + 1;
    }
    carry = Buffer.from(data.subarray(start));
  }
  if (carry.length > 0) yield line(carry);
}

function decode(bytes: Buffer, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch (error) {
    throw new CmpError('IMPORT_CONFLICT', `${what}: not valid UTF-8`, { cause: error });
  }
}

/**
 * The archive's lines as the reference reads them (§7.3): the first line is the header, empty lines are
 * skipped, the last non-empty line is the footer, every other line is an entry (with its line number).
 * An encrypted archive read without its key fails here, at the header.
 */
async function* structure(path: string): AsyncGenerator<{ type: 'header'; line: string } | { type: 'entry'; line: string; number: number } | { type: 'footer'; line: string }> {
  let number = 0;
  let previous: { line: string; number: number } | undefined;
  for await (const bytes of lines(path)) {
    number += 1;
    if (number === 1) {
      yield { type: 'header', line: decode(bytes, 'Invalid header') };
      continue;
    }
    if (bytes.length === 0) continue;
    if (previous !== undefined) yield { type: 'entry', ...previous };
    previous = { line: decode(bytes, `Read error at line ${number}`), number };
  }
  if (number === 0) throw new CmpError('IMPORT_CONFLICT', 'Archive is empty: missing header');
  if (previous === undefined) throw new CmpError('IMPORT_CONFLICT', 'Archive too short: missing footer');
  yield { type: 'footer', line: previous.line };
}

/** Decoded entries are staged in writes of about this many bytes. */
const STAGE_BYTES = 1 << 20;

/**
 * Checks the archive line by line and stages every decoded entry as one JSON line in `decodedPath`:
 * the apply pass reads those back with JSON.parse alone instead of decoding and validating again.
 */
async function verify(path: string, decodedPath: string, now: string): Promise<{ header: ArchiveHeader; checksum: string; curated: number; raw: number }> {
  let header: ArchiveHeader | undefined;
  let parse: ReturnType<typeof entryParser> | undefined;
  const hash = createHash('sha256');
  let curated = 0;
  let raw = 0;
  const decoded = await open(decodedPath, 'w');
  try {
    let staged: string[] = [];
    let stagedBytes = 0;
    for await (const part of structure(path)) {
      if (part.type === 'header') {
        header = parseHeader(part.line);
        parse = entryParser(header.version, now);
      } else if (part.type === 'entry') {
        hash.update(part.line, 'utf8').update('\n');
        const entry = parse!(part.line, part.number);
        if (entry.kind === 'memory_record') curated += 1;
        else raw += 1;
        const line = `${JSON.stringify(entry)}\n`;
        staged.push(line);
        stagedBytes += line.length;
        if (stagedBytes >= STAGE_BYTES) {
          await decoded.write(staged.join(''));
          staged = [];
          stagedBytes = 0;
        }
      } else {
        await decoded.write(staged.join(''));
        const footer = parseFooter(part.line);
        if (header!.record_count !== curated + raw) {
          throw new CmpError('IMPORT_CONFLICT', `record_count mismatch: header says ${header!.record_count}, found ${curated + raw} archive entries`);
        }
        const computed = hash.digest('hex');
        if (computed !== footer.checksum) {
          throw new CmpError('IMPORT_CONFLICT', `Checksum mismatch: expected ${footer.checksum}, got ${computed}`);
        }
        return { header: header!, checksum: computed, curated, raw };
      }
    }
  } finally {
    await decoded.close();
  }
  throw new CmpError('IMPORT_CONFLICT', 'Archive too short: missing footer');
}

async function* readEntries(decodedPath: string, size: number): AsyncGenerator<ArchiveEntry[]> {
  let batch: ArchiveEntry[] = [];
  for await (const bytes of lines(decodedPath)) {
    batch.push(JSON.parse(bytes.toString('utf8')) as ArchiveEntry);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
