import { createHash, randomFillSync } from 'node:crypto';
import { v7 as uuidv7, validate as uuidValidate } from 'uuid';

// Record ids are UUIDv7 (time-ordered, spec §1.1). Retried requests with an idempotency key must get
// the same ids the first attempt got, so those are derived from the key rather than drawn at random.

// Random bytes are drawn 4 KiB at a time: one system call per 256 ids instead of one per id, which
// shows in batch encoding profiles.
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

export function newId(nowMs: number): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const random = pool.slice(poolOffset, (poolOffset += 16));
  return uuidv7({ msecs: nowMs, random });
}

/** A UUIDv7 stamped at `atMs` whose random bits come from (space, key, index): stable across retries. */
export function derivedId(atMs: number, space: string, key: string, index: number): string {
  const digest = createHash('sha256').update(`${space}\u0000${key}\u0000${index}`).digest();
  return uuidv7({ msecs: atMs, random: new Uint8Array(digest.subarray(0, 16)) });
}

export function isUuid(value: string): boolean {
  return uuidValidate(value);
}

/** RFC 3339 UTC with millisecond precision. */
export function toTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or NaN. */
export function fromTimestamp(value: string): number {
  return Date.parse(value);
}
