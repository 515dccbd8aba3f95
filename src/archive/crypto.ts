// Archive encryption exactly as the reference frames it (spec §7.2), so encrypted archives move both
// ways: passphrase → Argon2id v1.3 (64 MiB, 3 passes, 1 lane, 32 bytes, fixed salt) → a per-archive key
// diversified with a random 16-byte salt → ChaCha20-Poly1305 (RFC 8439, 12-byte nonce, 16-byte tag, no
// AAD). Frame: salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16). The cipher is node:crypto's; Argon2id is
// hash-wasm's (Node 20 has none built in).
import { createCipheriv, createDecipheriv, createHash, randomBytes, type DecipherChaCha20Poly1305 } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { argon2id } from 'hash-wasm';
import { CmpError } from '../cmp/errors.js';

export const SALT_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes the §7.2 frame adds to the plaintext. */
export const ENCRYPTION_OVERHEAD = SALT_BYTES + NONCE_BYTES + TAG_BYTES;

/** Argon2id parameters of §7.2; changing any of them makes every existing archive unreadable. */
export const ARCHIVE_KDF = {
  memoryKiB: 65_536,
  iterations: 3,
  parallelism: 1,
  hashLength: 32,
  salt: 'cerememory-archive-v2',
} as const;

const DIVERSIFY_INFO = Buffer.from('cerememory-archive-key-v2', 'ascii');

export const DECRYPTION_FAILED = 'Decryption failed: wrong key or corrupted data';

/** The passphrase's base key. The passphrase is used as given (not trimmed), as UTF-8 bytes. */
export async function deriveArchiveKey(passphrase: string): Promise<Buffer> {
  const key = await argon2id({
    password: Buffer.from(passphrase, 'utf8'),
    salt: Buffer.from(ARCHIVE_KDF.salt, 'ascii'),
    memorySize: ARCHIVE_KDF.memoryKiB,
    iterations: ARCHIVE_KDF.iterations,
    parallelism: ARCHIVE_KDF.parallelism,
    hashLength: ARCHIVE_KDF.hashLength,
    outputType: 'binary',
  });
  return Buffer.from(key);
}

/** The archive's own key: prk = SHA-256(salt ‖ key); k = SHA-256(prk ‖ "cerememory-archive-key-v2" ‖ 0x01). */
export function diversifyKey(baseKey: Buffer, salt: Buffer): Buffer {
  const prk = createHash('sha256').update(salt).update(baseKey).digest();
  const key = createHash('sha256').update(prk).update(DIVERSIFY_INFO).update(Buffer.of(1)).digest();
  prk.fill(0);
  return key;
}

/**
 * Encrypts a plaintext archive stream into the §7.2 frame. `baseKey` comes from `deriveArchiveKey`;
 * salt and nonce are drawn here, fresh for every archive.
 */
export function encryptingStream(baseKey: Buffer): Transform {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = diversifyKey(baseKey, salt);
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  key.fill(0);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (!started) {
        started = true;
        this.push(Buffer.concat([salt, nonce]));
      }
      callback(null, cipher.update(chunk));
    },
    flush(callback: TransformCallback) {
      if (!started) this.push(Buffer.concat([salt, nonce]));
      const rest = cipher.final();
      if (rest.length > 0) this.push(rest);
      callback(null, cipher.getAuthTag());
    },
  });
}

/**
 * Decrypts a §7.2 frame. Plaintext comes out before the tag is known (the tag is the last 16 bytes),
 * so callers must treat everything pushed as unverified until the stream ends without error: the
 * importer spools it to a file and only reads that file afterwards.
 */
export function decryptingStream(baseKey: Buffer): Transform {
  let head = Buffer.alloc(0);
  let decipher: DecipherChaCha20Poly1305 | undefined;
  // The last TAG_BYTES seen so far: they may be the tag, so they are held back from the decipher.
  let held = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      if (decipher === undefined) {
        head = Buffer.concat([head, chunk]);
        if (head.length < SALT_BYTES + NONCE_BYTES) return callback();
        const salt = head.subarray(0, SALT_BYTES);
        const nonce = head.subarray(SALT_BYTES, SALT_BYTES + NONCE_BYTES);
        const key = diversifyKey(baseKey, salt);
        decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
        key.fill(0);
        chunk = head.subarray(SALT_BYTES + NONCE_BYTES);
      }
      const data = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
      const cut = Math.max(0, data.length - TAG_BYTES);
      held = Buffer.from(data.subarray(cut));
      callback(null, cut > 0 ? decipher.update(data.subarray(0, cut)) : undefined);
    },
    flush(callback: TransformCallback) {
      if (decipher === undefined) {
        return callback(new CmpError('IMPORT_CONFLICT', 'Encrypted data too short (missing salt/nonce)'));
      }
      if (held.length < TAG_BYTES) return callback(new CmpError('IMPORT_CONFLICT', DECRYPTION_FAILED));
      try {
        decipher.setAuthTag(held);
        callback(null, decipher.final());
      } catch (error) {
        callback(new CmpError('IMPORT_CONFLICT', DECRYPTION_FAILED, { cause: error }));
      }
    },
  });
}
