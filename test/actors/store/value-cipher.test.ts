import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Partition } from '../../../src/actors/store/partition.js';
import { isSealed, ValueCipher } from '../../../src/actors/store/value-cipher.js';
import { isCmpError, type CmpError } from '../../../src/cmp/errors.js';
import type { StoredRecord } from '../../../src/cmp/types.js';
import { envelope, memoryRecord, rawRecord, recordId, textContent } from '../../helpers/records.js';

// Encryption at rest of partition values (issue 6, spec §8.1): sealed on write, authenticated on read,
// plain values of a partition half-way through the migration still read, and the migration resumes.

const KEY = randomBytes(32);
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cerememory-cipher-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<CmpError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (reason: unknown) => reason,
  );
  if (!isCmpError(error)) throw error;
  return error;
}

async function rawValues(): Promise<Map<string, Buffer>> {
  const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
  const all = new Map(await db.iterator().all());
  await db.close();
  return all;
}

const put = (seq: number, records: StoredRecord[]) => envelope({ type: 'records.put', records }, { seq });

describe('ValueCipher', () => {
  it('round-trips, uses a fresh nonce per value, and passes plain values through', () => {
    const cipher = new ValueCipher(KEY);
    const a = cipher.seal('the same text');
    const b = cipher.seal('the same text');
    expect(isSealed(a)).toBe(true);
    expect(a.equals(b)).toBe(false);
    expect(cipher.openText(a)).toBe('the same text');
    expect(cipher.openText(Buffer.from('{"plain":true}'))).toBe('{"plain":true}');
  });

  it('refuses a flipped byte, a wrong key and a missing key as UNAUTHORIZED', () => {
    const sealed = new ValueCipher(KEY).seal('secret');
    const flipped = Buffer.from(sealed);
    flipped[20] ^= 1;
    expect(() => new ValueCipher(KEY).open(flipped)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => new ValueCipher(randomBytes(32)).open(sealed)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
    expect(() => new ValueCipher().open(sealed)).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });
});

describe('a partition with a key', () => {
  it('holds no memory text in keys or values, and reads it back', async () => {
    const cipher = new ValueCipher(KEY);
    const partition = await Partition.open(dir, 'raw_journal', { syncWrites: false, cipher });
    const record = rawRecord({ id: recordId(1), session_id: 'trip-to-zanzibar', content: textContent('the quokka smiled at noon') });
    await partition.apply({ ...put(1, [record]), idempotency_key: 'zanzibar-retry-1' });
    await partition.close();

    for (const [key, value] of await rawValues()) {
      expect(key).not.toContain('zanzibar');
      expect(value.toString('latin1')).not.toContain('quokka');
    }
    const again = await Partition.open(dir, 'raw_journal', { syncWrites: false, cipher, cacheSize: 0 });
    expect(await again.get('default', record.id)).toEqual(record);
    expect(await again.idsInSession('default', 'trip-to-zanzibar')).toEqual([record.id]);
    expect(await again.findIdempotent('default', 'zanzibar-retry-1')).toMatchObject({ seq: 1, written: [record.id] });
    expect((await again.eventsAfter('default', 0))[0].event).toMatchObject({ type: 'records.put' });
    await again.close();
  });

  it('answers UNAUTHORIZED for a value with a flipped byte, and without the key', async () => {
    const cipher = new ValueCipher(KEY);
    const partition = await Partition.open(dir, 'episodic', { syncWrites: false, cipher });
    const record = memoryRecord({ id: recordId(2), content: textContent('flip me') });
    await partition.apply(put(1, [record]));
    await partition.close();

    const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
    const key = `r!default!${record.id}`;
    const value = (await db.get(key))!;
    value[value.length - 20] ^= 0x40;
    await db.put(key, value);
    await db.close();

    const again = await Partition.open(dir, 'episodic', { syncWrites: false, cipher, cacheSize: 0 });
    expect((await rejection(again.get('default', record.id))).code).toBe('UNAUTHORIZED');
    await again.close();
    const keyless = await Partition.open(dir, 'episodic', { syncWrites: false, cacheSize: 0 });
    expect((await rejection(keyless.eventsAfter('default', 0))).code).toBe('UNAUTHORIZED');
    await keyless.close();
  });

  it('migrates plain values in place, resumes after an interruption, and counts', async () => {
    // What an interrupted earlier run leaves: some values sealed (with their session keys moved), some plain.
    const records = [1, 2, 3, 4].map((n) => rawRecord({ id: recordId(n), session_id: 'old session', content: textContent(`plain ${n}`) }));
    const plain = await Partition.open(dir, 'raw_journal', { syncWrites: false });
    await plain.apply({ ...put(1, records.slice(0, 2)), idempotency_key: 'plain retry key' });
    await plain.close();
    const cipher = new ValueCipher(KEY);
    const sealed = await Partition.open(dir, 'raw_journal', { syncWrites: false, cipher });
    await sealed.apply(put(2, records.slice(2)));
    await sealed.close();

    const partition = await Partition.open(dir, 'raw_journal', { syncWrites: false, cipher, cacheSize: 0 });
    const count = await partition.migrateToSealed(3);
    expect(count).toMatchObject({ records_total: 4, records_migrated: 2, records_already_encrypted: 2, other_values_migrated: 2 });
    expect(await partition.migrateToSealed()).toMatchObject({ records_total: 4, records_migrated: 0, records_already_encrypted: 4, other_values_migrated: 0 });
    expect(
      await partition.getMany(
        'default',
        records.map((record) => record.id),
      ),
    ).toEqual(records);
    expect(await partition.findIdempotent('default', 'plain retry key')).toMatchObject({ seq: 1 });
    expect((await partition.idsInSession('default', 'old session')).sort()).toEqual(records.map((record) => record.id).sort());
    await partition.close();
    for (const [key, value] of await rawValues()) {
      if (/^[rek]!/.test(key)) expect(isSealed(value)).toBe(true);
      expect(value.toString('latin1')).not.toContain('plain ');
      expect(key).not.toMatch(/plain|old%20session/);
    }
  });
});
