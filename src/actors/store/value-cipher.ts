import { createCipheriv, createDecipheriv, createHmac, randomFillSync } from 'node:crypto';
import { CmpError } from '../../cmp/errors.js';

// Encryption at rest of a store's values (spec §8.1, issue 6): every value that can hold memory text
// (records, applied events, idempotency entries, the BM25 snapshot, HNSW graph files) is sealed with AES-256-GCM under the
// data directory's key (src/runtime/store-key.ts derives it once, in the main thread; workers get the
// key bytes, never the passphrase).
//
//   sealed value = "CMR1" (4 ASCII bytes) ‖ nonce (12 random bytes) ‖ ciphertext ‖ GCM tag (16 bytes)
//
// Anything not starting with the magic is a plaintext value (JSON never starts with "C"): a partition
// half-way through `migrate-store-encryption` reads, and a rerun of the migration knows what is left.

export const SEALED_MAGIC = Buffer.from('CMR1', 'ascii');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const OVERHEAD = SEALED_MAGIC.length + NONCE_BYTES + TAG_BYTES;

export function isSealed(data: Uint8Array): boolean {
  return data.length >= SEALED_MAGIC.length && SEALED_MAGIC.equals(data.subarray(0, SEALED_MAGIC.length));
}

export class ValueCipher {
  readonly #key: Buffer | undefined;

  /** `key`: 32 bytes, or undefined for a store without encryption at rest (values are written plain). */
  constructor(key?: Uint8Array) {
    if (key !== undefined && key.length !== 32) throw new Error(`ValueCipher: the key must be 32 bytes, got ${key.length}`);
    this.#key = key === undefined ? undefined : Buffer.from(key);
  }

  get enabled(): boolean {
    return this.#key !== undefined;
  }

  /** The bytes to store for `plain`: sealed when a key is set, else its UTF-8 bytes. */
  seal(plain: string | Uint8Array): Buffer {
    const bytes = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength);
    if (this.#key === undefined) return bytes;
    const out = Buffer.allocUnsafe(OVERHEAD + bytes.length);
    SEALED_MAGIC.copy(out, 0);
    const nonce = out.subarray(SEALED_MAGIC.length, SEALED_MAGIC.length + NONCE_BYTES);
    randomFillSync(nonce);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce);
    let at = SEALED_MAGIC.length + NONCE_BYTES;
    at += cipher.update(bytes).copy(out, at);
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, at);
    return out;
  }

  /**
   * The plaintext of a stored value. Sealed values need the key that sealed them: no key, a wrong key or
   * a changed byte is UNAUTHORIZED (spec §3.22: reading encrypted store records without / with a wrong key).
   */
  open(data: Uint8Array): Buffer {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (!isSealed(bytes)) return bytes;
    if (this.#key === undefined) throw new CmpError('UNAUTHORIZED', 'store encryption key is required to read encrypted records');
    if (bytes.length < OVERHEAD) throw new CmpError('INTERNAL_ERROR', 'An internal storage error occurred (sealed value too short)');
    const nonce = bytes.subarray(SEALED_MAGIC.length, SEALED_MAGIC.length + NONCE_BYTES);
    const tag = bytes.subarray(bytes.length - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, nonce);
      decipher.setAuthTag(tag);
      const body = decipher.update(bytes.subarray(SEALED_MAGIC.length + NONCE_BYTES, bytes.length - TAG_BYTES));
      const last = decipher.final();
      return last.length === 0 ? body : Buffer.concat([body, last]);
    } catch (error) {
      throw new CmpError('UNAUTHORIZED', 'failed to decrypt store record; wrong key or corrupted data', { cause: error });
    }
  }

  openText(data: Uint8Array): string {
    return this.open(data).toString('utf8');
  }

  /**
   * A key part derived from user text (a raw-journal session id), so that LevelDB keys hold no text when
   * encryption is on (spec §8.1 "cmh1:" keys); the text itself when it is off.
   */
  protectKeyPart(scope: string, text: string): string {
    if (this.#key === undefined) return encodeURIComponent(text);
    const mac = createHmac('sha256', this.#key).update('cerememory-index-key-v1').update(lengthPrefixed(scope)).update(lengthPrefixed(text));
    return `cmh1:${mac.digest('hex')}`;
  }
}

function lengthPrefixed(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(body.length));
  return Buffer.concat([length, body]);
}
