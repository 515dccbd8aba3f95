import { CaptureEventError, DedupeWindow, normaliseEvent, parseCaptureLine, type RawRecord } from './capture-event.js';
import type { IngestClient, SendResult } from './ingest-client.js';
import { readLines } from './lines.js';
import type { Spool } from './spool.js';

// `cerememory-recorder ingest`: first the spool (batches earlier runs could not send), then stdin.
// A batch the server does not take is spooled and reading goes on. After a failure retrying cannot
// fix (401, a protocol error) nothing more is sent in this run: every later batch goes straight to the
// spool, and the command ends non-zero. A bad line is reported with its number and skipped.

export interface IngestOptions {
  client: IngestClient;
  spool: Spool;
  input: AsyncIterable<Buffer | string>;
  /** Records per POST (the server takes at most 1000). */
  batchSize: number;
  /**
   * A started batch is sent at the latest this many milliseconds after its first record, so a
   * long-running stream is not held back waiting for `batchSize` records. 0 turns it off.
   */
  flushIntervalMs: number;
  /** Longest accepted line in bytes, whitespace included; longer lines are never parsed. */
  maxEventBytes: number;
  cwd: string;
  report: (line: string) => void;
}

export interface IngestSummary {
  accepted: number;
  duplicate: number;
  rejected: number;
  sent: number;
  spooled: number;
  /** Records from earlier runs' spool files sent in this run. */
  replayed: number;
  quarantined: number;
  /** The failure that stopped sending, when retrying cannot fix it. */
  fatal: string | null;
}

/**
 * A batch is also sent once its JSON reaches this size, so a batch of large events stays far below the
 * server's body limit (http.max_body_bytes, 64 MiB by default).
 */
export const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export const defaultIngestOptions = { batchSize: 50, flushIntervalMs: 1000, maxEventBytes: 256 * 1024 } as const;

export async function runIngest(options: IngestOptions): Promise<IngestSummary> {
  const { client, spool, report } = options;
  const summary: IngestSummary = { accepted: 0, duplicate: 0, rejected: 0, sent: 0, spooled: 0, replayed: 0, quarantined: 0, fatal: null };
  let sending = true;

  const failed = (result: Extract<SendResult, { ok: false }>): void => {
    if (!result.retryable && summary.fatal === null) {
      summary.fatal = result.message;
      sending = false;
    }
  };

  await replaySpool();

  const dedupe = new DedupeWindow();
  let batch: RawRecord[] = [];
  let batchBytes = 0;
  // Sends run one after another (the interval timer and a full batch may both start one), in order.
  let sends: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const dispatch = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (batch.length === 0) return;
    const records = batch;
    batch = [];
    batchBytes = 0;
    sends = sends.then(() => flush(records));
  };
  for await (const line of readLines(options.input, options.maxEventBytes)) {
    if ('oversized' in line) {
      summary.rejected += 1;
      report(`line ${line.number}: rejected, ${line.bytes} bytes is over the ${options.maxEventBytes}-byte limit`);
      continue;
    }
    if (line.text.trim() === '') continue;
    try {
      const { record, identity } = normaliseEvent(parseCaptureLine(line.text), options.cwd);
      if (dedupe.isDuplicate(identity)) {
        summary.duplicate += 1;
        continue;
      }
      summary.accepted += 1;
      batch.push(record);
      batchBytes += JSON.stringify(record).length;
      if (batch.length === 1 && options.flushIntervalMs > 0) timer = setTimeout(dispatch, options.flushIntervalMs);
    } catch (error) {
      if (!(error instanceof CaptureEventError)) throw error;
      summary.rejected += 1;
      report(`line ${line.number}: rejected, ${error.message}`);
      continue;
    }
    if (batch.length >= options.batchSize || batchBytes >= MAX_BATCH_BYTES) {
      dispatch();
      // Backpressure: read on only once this batch is sent or spooled.
      await sends;
    }
  }
  dispatch();
  await sends;
  return summary;

  async function flush(records: RawRecord[]): Promise<void> {
    if (sending) {
      const result = await client.sendBatch(records);
      if (result.ok) {
        summary.sent += records.length;
        return;
      }
      failed(result);
      report(`send failed (${result.retryable ? 'will retry on the next run' : 'not retryable'}): ${result.message}`);
    }
    const name = spool.write(records);
    summary.spooled += records.length;
    report(`spooled ${records.length} record(s) to ${name}`);
  }

  async function replaySpool(): Promise<void> {
    if (spool.names().length === 0) return;
    const lock = spool.tryLockReplay();
    if (lock === null) {
      report('another recorder is sending the spool; left it to that one');
      return;
    }
    try {
      spool.removeStaleTemps();
      await replayFiles(lock);
    } finally {
      lock.release();
    }
  }

  async function replayFiles(lock: { touch(): void }): Promise<void> {
    for (const name of spool.names()) {
      const pending = spool.read(name);
      if ('bad' in pending) {
        const moved = spool.quarantine(name);
        summary.quarantined += 1;
        report(`spool file ${name} is unreadable (${pending.bad}); moved to ${moved}`);
        continue;
      }
      // An empty file (nothing left to send) is simply done.
      if (pending.records.length === 0) spool.rewrite(name, []);
      let remaining = pending.records;
      while (remaining.length > 0) {
        const chunk = remaining.slice(0, options.batchSize);
        const result = await client.sendBatch(chunk);
        if (!result.ok && rejectsTheBatch(result.status)) {
          // The server says these records themselves are bad: sending them again cannot succeed, and
          // keeping the file in line would block every later batch. Set it aside for a human.
          const moved = spool.quarantine(name);
          summary.quarantined += 1;
          report(`spool file ${name} was refused by the server (${result.message}); moved to ${moved}`);
          break;
        }
        if (!result.ok) {
          failed(result);
          report(`spool replay stopped at ${name}: ${result.message}`);
          return;
        }
        summary.replayed += chunk.length;
        remaining = remaining.slice(chunk.length);
        spool.rewrite(name, remaining);
        lock.touch();
      }
    }
  }
}

/**
 * A 4xx about the request itself (400 validation, 413 too large, 422…), as opposed to who is asking
 * (401, 403), a timeout (408) or the rate (429).
 */
function rejectsTheBatch(status: number | null): boolean {
  return status !== null && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status);
}

export function formatSummary(summary: IngestSummary): string {
  return (
    `cerememory-recorder: accepted=${summary.accepted}, duplicate=${summary.duplicate}, rejected=${summary.rejected}, ` +
    `sent=${summary.sent}, spooled=${summary.spooled}, replayed=${summary.replayed}, quarantined=${summary.quarantined}`
  );
}
