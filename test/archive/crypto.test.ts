import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decryptingStream, deriveArchiveKey, diversifyKey, encryptingStream } from '../../src/archive/crypto.js';
import { isCmpError } from '../../src/cmp/errors.js';

// The §7.2 frame through the streaming cipher: round trips whatever the chunking, the exact frame
// layout, and the key derivation pinned to a known answer. Stream cases use a random base key, so
// Argon2id (64 MiB, ~0.4 s) runs once.

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `data` as a stream of `size`-byte chunks. */
const chunked = (data: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, index) => data.subarray(index * size, (index + 1) * size)));

describe('archive encryption (spec §7.2)', () => {
  it('derives the Argon2id v1.3 key of the spec (known answer, cross-checked with @noble/hashes)', async () => {
    const key = await deriveArchiveKey('pw');
    expect(key.toString('hex')).toBe('dd4175bb37ab80243242a199030b2a13a5a15adb61a1381b0a07d4daac62e24e');
  });

  it('diversifies the key as SHA-256(SHA-256(salt ‖ key) ‖ "cerememory-archive-key-v2" ‖ 0x01)', () => {
    const key = randomBytes(32);
    const salt = randomBytes(16);
    const prk = createHash('sha256')
      .update(Buffer.concat([salt, key]))
      .digest();
    const expected = createHash('sha256')
      .update(Buffer.concat([prk, Buffer.from('cerememory-archive-key-v2'), Buffer.of(1)]))
      .digest();
    expect(diversifyKey(key, salt)).toEqual(expected);
  });

  it.each([1, 7, 16, 17, 4096])('round trips in %i-byte chunks, framed salt ‖ nonce ‖ ciphertext ‖ tag', async (size) => {
    const key = randomBytes(32);
    const plain = randomBytes(10_000);
    const frame = await collect(chunked(plain, size).pipe(encryptingStream(key)));
    expect(frame.length).toBe(16 + 12 + plain.length + 16);
    expect(await collect(chunked(frame, size).pipe(decryptingStream(key)))).toEqual(plain);
  });

  it('encrypts an empty archive to salt, nonce and tag alone', async () => {
    const key = randomBytes(32);
    const frame = await collect(Readable.from([]).pipe(encryptingStream(key)));
    expect(frame.length).toBe(44);
    expect(await collect(Readable.from([frame]).pipe(decryptingStream(key)))).toEqual(Buffer.alloc(0));
  });

  it.each([
    ['a frame shorter than salt and nonce', (frame: Buffer) => frame.subarray(0, 27), 'Encrypted data too short (missing salt/nonce)'],
    ['a frame without its tag', (frame: Buffer) => frame.subarray(0, 40), 'Decryption failed: wrong key or corrupted data'],
    ['a flipped ciphertext bit', (frame: Buffer) => Buffer.concat([frame.subarray(0, 30), Buffer.of(frame[30] ^ 4), frame.subarray(31)]), 'Decryption failed: wrong key or corrupted data'],
  ])('refuses %s', async (_name, damage, message) => {
    const key = randomBytes(32);
    const frame = await collect(Readable.from([randomBytes(100)]).pipe(encryptingStream(key)));
    const error = await collect(Readable.from([damage(frame)]).pipe(decryptingStream(key))).catch((reason: unknown) => reason);
    expect(isCmpError(error) && error.code).toBe('IMPORT_CONFLICT');
    expect((error as Error).message).toBe(message);
  });
});
