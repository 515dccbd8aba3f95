import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { argon2id } from 'hash-wasm';

// CMA archives built by hand from the reference spec §7, independent of src/archive: what the
// reference itself would write. Used to prove that such archives import, and to tamper with them.

export const T0 = '2026-04-28T12:34:56.123456789Z';

/** §7.1: header line, entry lines, footer with the SHA-256 of the entry lines (each with its `\n`). */
export function buildArchive(version: '1.0' | '2.0', entries: object[], counts?: { curated: number; raw: number }): Buffer {
  const lines = entries.map((entry) => `${JSON.stringify(entry)}\n`);
  const checksum = createHash('sha256').update(lines.join('')).digest('hex');
  const header = {
    version,
    timestamp: T0,
    record_count: entries.length,
    curated_record_count: counts ? counts.curated : null,
    raw_record_count: counts ? counts.raw : null,
  };
  return Buffer.from(`${JSON.stringify(header)}\n${lines.join('')}${JSON.stringify({ checksum })}\n`, 'utf8');
}

/** §7.2: Argon2id(passphrase) → diversified by a random salt → ChaCha20-Poly1305; salt ‖ nonce ‖ ct ‖ tag. */
export async function encryptArchive(plain: Buffer, passphrase: string): Promise<Buffer> {
  const base = Buffer.from(
    await argon2id({
      password: passphrase,
      salt: 'cerememory-archive-v2',
      memorySize: 65_536,
      iterations: 3,
      parallelism: 1,
      hashLength: 32,
      outputType: 'binary',
    }),
  );
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const prk = createHash('sha256').update(salt).update(base).digest();
  const key = createHash('sha256').update(prk).update('cerememory-archive-key-v2').update(Buffer.of(1)).digest();
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([salt, nonce, body, cipher.getAuthTag()]);
}

const bytes = (text: string) => [...Buffer.from(text, 'utf8')];

/** A curated record exactly as the reference serialises one (struct field order, bytes as integers). */
export function referenceRecord(id: string, store: string, text: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    store,
    created_at: T0,
    updated_at: T0,
    last_accessed_at: T0,
    access_count: 2,
    content: { blocks: [{ modality: 'text', format: 'text/plain', data: bytes(text), embedding: null }], summary: null },
    fidelity: {
      score: 0.9,
      noise_level: 0.1,
      decay_rate: 0.3,
      emotional_anchor: 1.0,
      reinforcement_count: 1,
      stability: 2.5,
      last_decay_tick: T0,
    },
    emotion: { joy: 0.5, trust: 0, fear: 0, surprise: 0, sadness: 0, disgust: 0, anger: 0, anticipation: 0, intensity: 0.5, valence: 0.5 },
    associations: [] as object[],
    metadata: { tag: 'imported' },
    version: 3,
    ...extra,
  };
}

/** A raw journal record as the reference serialises one. */
export function referenceRawRecord(id: string, session: string, text: string) {
  return {
    id,
    session_id: session,
    turn_id: 't1',
    topic_id: null,
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    created_at: T0,
    updated_at: T0,
    content: { blocks: [{ modality: 'text', format: 'text/plain', data: bytes(text), embedding: null }], summary: null },
    metadata: {},
    derived_memory_ids: [],
    suppressed: false,
  };
}
