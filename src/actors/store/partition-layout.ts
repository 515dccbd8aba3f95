import type { StoredRecord } from '../../cmp/types.js';
import type { EventEnvelope } from './events.js';
import type { ValueCipher } from './value-cipher.js';

// The LevelDB partition's layout (partition.ts): its keys and how values are written, apart from the
// class that reads and writes them. Keys are laid out per space so that a space can be exported,
// forgotten or moved on its own (DESIGN §4). `!` separates parts; space names cannot hold it.
//
//   key                                         value
//   m!format                                    partition format version ("1")
//   m!partition                                 partition name, e.g. "episodic"
//   r!<space>!<id>                              record JSON
//   t!<space>!<created_ms:15>!<id>              "" — time index (recency, temporal ranges)
//   s!<space>!<session, URI-encoded>!<created_ms:15>!<id>   "" — raw journal session index
//   e!<space>!<seq:16>                          applied event envelope JSON
//   q!<space>                                   last applied sequence number
//   k!<space>!<idempotency key, URI-encoded>    IdempotencyEntry JSON (key part an HMAC under encryption)
//   c!<space>                                   highest sequence compaction removed from the log
//   d!<space>                                   decay checkpoint: tick overlays of records whose JSON a
//                                               tick did not rewrite (binary, decay-table.ts)
//
// Values go through one codec (ValueCipher): with encryption at rest on, every r!, e!, k! and d! value is
// sealed (AES-256-GCM, value-cipher.ts), and the caller-given text in keys (the session of s! keys, the
// idempotency key of k! keys) is an HMAC, so neither keys nor values hold memory text. m!, q!, c!
// values (names, numbers) stay plain.

export const pad = (value: number, width: number) => String(Math.max(0, Math.trunc(value))).padStart(width, '0');
export const createdMs = (record: StoredRecord) => Date.parse(record.created_at);

export const keys = {
  record: (space: string, id: string) => `r!${space}!${id}`,
  recordPrefix: (space: string) => `r!${space}!`,
  time: (space: string, ms: number, id: string) => `t!${space}!${pad(ms, 15)}!${id}`,
  timePrefix: (space: string) => `t!${space}!`,
  /** `sessionPart`: the URI-encoded session id, or its HMAC under encryption (ValueCipher.protectKeyPart). */
  session: (space: string, sessionPart: string, ms: number, id: string) => `s!${space}!${sessionPart}!${pad(ms, 15)}!${id}`,
  sessionPrefix: (space: string, sessionPart: string) => `s!${space}!${sessionPart}!`,
  event: (space: string, seq: number) => `e!${space}!${pad(seq, 16)}`,
  eventPrefix: (space: string) => `e!${space}!`,
  sequence: (space: string) => `q!${space}`,
  /** `keyPart`: the URI-encoded idempotency key, or its HMAC under encryption (ValueCipher.protectKeyPart). */
  idempotency: (space: string, keyPart: string) => `k!${space}!${keyPart}`,
  idempotencyPrefix: (space: string) => `k!${space}!`,
  decayCheckpoint: (space: string) => `d!${space}`,
};

/** The exclusive upper bound of a key prefix. */
export const end = (prefix: string) => prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
export const lastSegment = (key: string) => key.slice(key.lastIndexOf('!') + 1);

export type BatchOp = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };

export const EMPTY = Buffer.alloc(0);
export const plain = (text: string) => Buffer.from(text, 'utf8');

export function sameIndexKeys(a: StoredRecord, b: StoredRecord): boolean {
  if (a.created_at !== b.created_at) return false;
  const sessionA = 'session_id' in a ? a.session_id : undefined;
  const sessionB = 'session_id' in b ? b.session_id : undefined;
  return sessionA === sessionB;
}

/** Stands in a shell's JSON for the records, spliced in as their already-made JSON. */
const SPLICE = '\u0000spliced\u0000';
const SPLICE_JSON = JSON.stringify(SPLICE);

/**
 * JSON of an envelope; a put's records reuse the JSON already made for their record keys, since
 * serialising is most of a write's CPU and a put carries the same records twice (effect and event).
 */
export function serialiseEnvelope(envelope: EventEnvelope, serialised: Map<StoredRecord, string>): string {
  const { event } = envelope;
  if (event.type !== 'records.put' || !event.records.every((record) => serialised.has(record))) return JSON.stringify(envelope);
  const shell = JSON.stringify({ ...envelope, event: { ...event, records: SPLICE } });
  return shell.replace(SPLICE_JSON, () => `[${event.records.map((record) => serialised.get(record)).join(',')}]`);
}

const SESSION_SCOPE = 'raw-journal-session';
const IDEMPOTENCY_SCOPE = 'idempotency-key';

/** The session part of an s! key: the URI-encoded session id, or its HMAC under encryption. */
export const sessionKeyPart = (cipher: ValueCipher, session: string) => cipher.protectKeyPart(SESSION_SCOPE, session);

/** The key part of a k! key. Idempotency keys come from callers (an HTTP header): free text as far as we know. */
export const idempotencyKeyPart = (cipher: ValueCipher, key: string) => cipher.protectKeyPart(IDEMPOTENCY_SCOPE, key);
