import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterAll, describe, expect, it } from 'vitest';
import { migrateStoreEncryption } from '../../src/runtime/migrate-store-encryption.js';
import { StoreKeyError } from '../../src/runtime/store-key.js';
import { recall, textsOf } from '../helpers/recall.js';
import { removeDir, startTestServer, tempDataDir, testConfig, textContent, type TestServer } from '../helpers/server.js';

// Encryption at rest (issue 6, spec §8.1) on the real server: no file under the data directory holds a
// stored sentence, the right passphrase reads it back after a restart, and every mismatch between a
// directory and the configuration is refused at start with a message that names it.

const PASSPHRASE = 'correct horse battery staple';
const encrypted = { security: { store_encryption_passphrase: PASSPHRASE } };
// Words a tokenizer keeps as they are, so the BM25 snapshot would hold them too.
const SENTENCE = 'The zqxvortex quokkaflute plays at the ferry landing';
const RAW_SENTENCE = 'Raw transcript line about the blorptangle harbour';
const SESSION = 'session-zanzibarwharf';
const IDEMPOTENCY_KEY = 'retry-of-plinkerdoodle';
// Stored records hold content bytes as base64: look for that form of the sentences too.
const MARKERS = ['zqxvortex', 'quokkaflute', 'blorptangle', 'zanzibarwharf', 'plinkerdoodle', Buffer.from(SENTENCE).toString('base64'), Buffer.from(RAW_SENTENCE).toString('base64')];

const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file under the data directory that holds one of the marker words, with the word. */
function grep(dataDir: string): string[] {
  return filesUnder(dataDir).flatMap((path) => {
    const bytes = readFileSync(path);
    return MARKERS.filter((marker) => bytes.includes(marker)).map((marker) => `${path.slice(dataDir.length)}: ${marker}`);
  });
}

async function fill(server: TestServer): Promise<string> {
  const stored = await server.call('POST', '/v1/encode', { content: textContent(SENTENCE) }, { 'idempotency-key': IDEMPOTENCY_KEY });
  expect(stored.status, JSON.stringify(stored.body)).toBe(200);
  const raw = await server.call('POST', '/v1/encode/raw', {
    session_id: SESSION,
    source: 'conversation',
    speaker: 'user',
    visibility: 'normal',
    secrecy_level: 'public',
    content: textContent(RAW_SENTENCE),
  });
  expect(raw.status, JSON.stringify(raw.body)).toBe(200);
  return stored.body.record_id as string;
}

async function recallsBoth(server: TestServer): Promise<void> {
  const found = await recall(server, 'default', { cue: { text: 'quokkaflute ferry' }, recall_mode: 'perfect', reconsolidate: false });
  expect(textsOf(found)).toContain(SENTENCE);
  const raw = await server.call('POST', '/v1/recall/raw', { session_id: SESSION, query: 'blorptangle' });
  expect(raw.status, JSON.stringify(raw.body)).toBe(200);
  expect(JSON.stringify(raw.body)).toContain(Buffer.from(RAW_SENTENCE).toString('base64'));
}

async function refusal(promise: Promise<unknown>): Promise<StoreKeyError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the start to be refused');
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof StoreKeyError)) throw error;
  expect(error.message).not.toContain(PASSPHRASE);
  return error;
}

describe('encryption at rest', { timeout: 120_000 }, () => {
  it('control: without a passphrase the data directory holds the text', async () => {
    const server = await startTestServer();
    dirs.push(server.dataDir);
    await fill(server);
    await server.close();
    const found = grep(server.dataDir).join('\n');
    // Records and events (base64 content), the BM25 snapshot (terms), session and idempotency keys.
    for (const marker of ['zqxvortex', 'zanzibarwharf', 'plinkerdoodle', ...MARKERS.slice(-2)]) expect(found).toContain(marker);
  });

  it('with a passphrase no file holds the text; the right passphrase recalls it after a restart', async () => {
    const server = await startTestServer({ flags: encrypted });
    dirs.push(server.dataDir);
    await fill(server);
    await recallsBoth(server);
    await server.close();
    expect(grep(server.dataDir)).toEqual([]);

    const graphs = filesUnder(server.dataDir).filter((path) => path.endsWith('.hnsw'));
    expect(graphs.length).toBeGreaterThan(0);
    for (const path of graphs) expect(readFileSync(path).subarray(0, 4).toString('latin1')).toBe('CMR1');

    const again = await startTestServer({ dataDir: server.dataDir, flags: encrypted });
    await recallsBoth(again);
    // The sealed snapshots were opened, not rebuilt.
    expect(again.logs.join('\n')).not.toMatch(/rebuilding indexes/);
    await again.close();
    expect(grep(server.dataDir)).toEqual([]);
    expect(filesUnder(server.dataDir).filter((path) => path.endsWith('.open'))).toEqual([]);

    const wrong = await refusal(startTestServer({ dataDir: server.dataDir, flags: { security: { store_encryption_passphrase: 'not the one' } } }));
    expect(wrong.problem).toBe('wrong_passphrase');
    expect(wrong.message).toMatch(/passphrase does not match/);
    const none = await refusal(startTestServer({ dataDir: server.dataDir }));
    expect(none.problem).toBe('passphrase_required');
    expect(none.message).toContain('store_encryption_passphrase');
  });

  it('refuses a plaintext directory with a passphrase until migrate-store-encryption has run', async () => {
    const server = await startTestServer();
    dirs.push(server.dataDir);
    await fill(server);
    await server.close();

    const plain = await refusal(startTestServer({ dataDir: server.dataDir, flags: encrypted }));
    expect(plain.problem).toBe('plaintext_data');
    expect(plain.message).toContain('cerememory migrate-store-encryption --confirm');

    const report = await migrateStoreEncryption(testConfig(server.dataDir, encrypted));
    expect(report.episodic).toEqual({ records_total: 1, records_migrated: 1, records_already_encrypted: 0 });
    expect(report.raw_journal).toEqual({ records_total: 1, records_migrated: 1, records_already_encrypted: 0 });
    const rerun = await migrateStoreEncryption(testConfig(server.dataDir, encrypted));
    expect(rerun.episodic).toEqual({ records_total: 1, records_migrated: 0, records_already_encrypted: 1 });

    const again = await startTestServer({ dataDir: server.dataDir, flags: encrypted });
    await recallsBoth(again);
    await again.close();
    expect(grep(server.dataDir)).toEqual([]);
  });

  it('detects a changed byte in a sealed record: that record answers UNAUTHORIZED, the others still read', async () => {
    const server = await startTestServer({ flags: encrypted });
    dirs.push(server.dataDir);
    const id = await fill(server);
    const other = await server.call('POST', '/v1/encode', { content: textContent('An untouched neighbour memory') });
    await server.close();

    const db = new ClassicLevel<string, Buffer>(join(server.dataDir, 'episodic'), { valueEncoding: 'buffer' });
    const key = `r!default!${id}`;
    const value = (await db.get(key))!;
    value[value.length - 20] ^= 0x01;
    await db.put(key, value);
    await db.close();

    const again = await startTestServer({ dataDir: server.dataDir, flags: encrypted });
    const damaged = await again.call('GET', `/v1/introspect/record/${id}`);
    expect(damaged.status).toBe(401);
    expect(damaged.body.code).toBe('UNAUTHORIZED');
    expect(damaged.body.message).not.toContain(PASSPHRASE);
    expect((await again.call('GET', `/v1/introspect/record/${other.body.record_id}`)).status).toBe(200);
    expect(again.logs.join('\n')).toContain(`record ${key} cannot be read`);
    await again.close();
  });

  it('migration needs a passphrase', async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    await expect(migrateStoreEncryption(testConfig(dataDir))).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
  });
});
