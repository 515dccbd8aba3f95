import { createHmac, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The data directory's store encryption key (issue 6, spec §8.1). Derived once per start, in the main
// thread, from `security.store_encryption_passphrase` with scrypt over a random per-directory salt; the
// store workers get the 32 key bytes, never the passphrase. The salt, the KDF parameters and a key-check
// value sit in <data_dir>/encryption.json (plaintext: nothing in it helps without the passphrase), so a
// wrong passphrase is refused at start instead of surfacing as failed reads.
//
// The header's `state` makes the migration of a plaintext directory restartable: "migrating" while
// `cerememory migrate-store-encryption` runs (the server refuses to open), "encrypted" once every value
// is sealed.

export const ENCRYPTION_FILE = 'encryption.json';
export const MIGRATE_COMMAND = 'cerememory migrate-store-encryption --confirm';

/** scrypt cost: N = 2^15, r = 8 (32 MiB, ~0.1 s on a laptop core), once per start. */
const KDF = { name: 'scrypt', N: 32_768, r: 8, p: 1 } as const;
const KEY_CHECK_LABEL = 'cerememory-store-key-check-v1';

export interface EncryptionHeader {
  format: 1;
  cipher: 'aes-256-gcm';
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** base64 HMAC-SHA256(key, KEY_CHECK_LABEL). */
  key_check: string;
  state: 'migrating' | 'encrypted';
}

export type StoreKeyProblem = 'wrong_passphrase' | 'passphrase_required' | 'plaintext_data' | 'migration_incomplete' | 'bad_header';

/** Why a data directory cannot be opened with the configured passphrase (or its absence). Never holds the passphrase. */
export class StoreKeyError extends Error {
  override readonly name = 'StoreKeyError';
  readonly problem: StoreKeyProblem;

  constructor(problem: StoreKeyProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

const headerPath = (dataDir: string) => join(dataDir, ENCRYPTION_FILE);

export function readHeader(dataDir: string): EncryptionHeader | undefined {
  const path = headerPath(dataDir);
  if (!existsSync(path)) return undefined;
  let header: EncryptionHeader;
  try {
    header = JSON.parse(readFileSync(path, 'utf8')) as EncryptionHeader;
  } catch (error) {
    throw new StoreKeyError('bad_header', `${path} is not readable JSON (${(error as Error).message}); the key cannot be derived`);
  }
  if (header?.format !== 1 || header.kdf?.name !== 'scrypt' || typeof header.kdf.salt !== 'string' || typeof header.key_check !== 'string') {
    throw new StoreKeyError('bad_header', `${path} is not an encryption header this build reads`);
  }
  return header;
}

function writeHeader(dataDir: string, header: EncryptionHeader): void {
  mkdirSync(dataDir, { recursive: true });
  const path = headerPath(dataDir);
  writeFileSync(`${path}.tmp`, JSON.stringify(header, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

function derive(passphrase: string, kdf: EncryptionHeader['kdf']): Buffer {
  return scryptSync(passphrase.normalize('NFC'), Buffer.from(kdf.salt, 'base64'), 32, {
    N: kdf.N,
    r: kdf.r,
    p: kdf.p,
    maxmem: 256 * kdf.N * kdf.r,
  });
}

const keyCheck = (key: Buffer) => createHmac('sha256', key).update(KEY_CHECK_LABEL).digest();

function verified(dataDir: string, header: EncryptionHeader, passphrase: string): Buffer {
  const key = derive(passphrase, header.kdf);
  const expected = Buffer.from(header.key_check, 'base64');
  const found = keyCheck(key);
  if (expected.length !== found.length || !timingSafeEqual(expected, found)) {
    throw new StoreKeyError(
      'wrong_passphrase',
      `the store encryption passphrase does not match the key of ${dataDir} (key check in ${ENCRYPTION_FILE} failed); ` +
        'set security.store_encryption_passphrase (or CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE) to the passphrase it was encrypted with',
    );
  }
  return key;
}

function newHeader(passphrase: string, state: EncryptionHeader['state']): { header: EncryptionHeader; key: Buffer } {
  const kdf = { ...KDF, salt: randomBytes(16).toString('base64') };
  const key = derive(passphrase, kdf);
  return { header: { format: 1, cipher: 'aes-256-gcm', kdf, key_check: keyCheck(key).toString('base64'), state }, key };
}

/**
 * The key the stores of `dataDir` are opened with (undefined: encryption at rest is off), or a
 * StoreKeyError naming why this directory and this configuration do not go together. `hasData`
 * tells whether the directory already holds store partitions (written before encryption was on).
 */
export function openStoreKey(dataDir: string, passphrase: string | undefined, hasData: boolean): Buffer | undefined {
  const header = readHeader(dataDir);
  if (passphrase === undefined) {
    if (header === undefined) return undefined;
    throw new StoreKeyError(
      'passphrase_required',
      `${dataDir} is encrypted at rest (${ENCRYPTION_FILE}); set security.store_encryption_passphrase ` + '(or CEREMEMORY_SECURITY__STORE_ENCRYPTION_PASSPHRASE) to open it',
    );
  }
  if (header === undefined) {
    if (hasData) {
      throw new StoreKeyError(
        'plaintext_data',
        `${dataDir} holds unencrypted store data and a store encryption passphrase is configured; ` + `stop the server and run \`${MIGRATE_COMMAND}\` to encrypt it in place (or unset the passphrase)`,
      );
    }
    const fresh = newHeader(passphrase, 'encrypted');
    writeHeader(dataDir, fresh.header);
    return fresh.key;
  }
  const key = verified(dataDir, header, passphrase);
  if (header.state !== 'encrypted') {
    throw new StoreKeyError('migration_incomplete', `the encryption of ${dataDir} was interrupted; run \`${MIGRATE_COMMAND}\` again to finish it`);
  }
  return key;
}

/** For the migration: the key (a new header in state "migrating" when there is none yet). */
export function beginMigration(dataDir: string, passphrase: string): Buffer {
  const header = readHeader(dataDir);
  if (header !== undefined) return verified(dataDir, header, passphrase);
  const fresh = newHeader(passphrase, 'migrating');
  writeHeader(dataDir, fresh.header);
  return fresh.key;
}

/** Marks the migration done: the server opens the directory again. */
export function finishMigration(dataDir: string): void {
  const header = readHeader(dataDir);
  if (header === undefined) throw new StoreKeyError('bad_header', `${headerPath(dataDir)} vanished during the migration`);
  writeHeader(dataDir, { ...header, state: 'encrypted' });
}
