import { describe, expect, it } from 'vitest';
import { sharedServer, textContent, textOfRecord, type TestServer } from '../helpers/server.js';

// The reference's export/import acceptance scenarios (spec §10, P2-11 … P2-14), over REST: a source
// server exports, a second server (the "fresh engine") imports. Each scenario has spaces of its own.

const source = sharedServer();
const fresh = sharedServer();

const KEY = 'p2-13 passphrase';

async function encode(space: string, text: string, store: string): Promise<string> {
  const response = await source.call('POST', '/v1/encode', { space, store, content: textContent(text) });
  expect(response.status).toBe(200);
  return response.body.record_id as string;
}

async function exportArchive(body: Record<string, unknown>) {
  const response = await source.call('POST', '/v1/lifecycle/export', body);
  expect(response.status).toBe(200);
  return { ...response.body, archive: response.body.archive_data as number[] } as {
    record_count: number;
    size_bytes: number;
    archive: number[];
  };
}

const importArchive = (target: TestServer, space: string, archive: number[], extra: Record<string, unknown> = {}) =>
  target.call('POST', '/v1/lifecycle/import', { space, archive_id: 'scenario', archive_data: archive, ...extra });

const stats = async (target: TestServer, space: string) => (await target.call('GET', `/v1/introspect/stats?space=${space}`)).body;

describe('spec §10 export/import scenarios', () => {
  it('P2-11: three records in different stores round-trip into a fresh engine', async () => {
    await encode('p2-11', 'An episode at the harbour', 'episodic');
    await encode('p2-11', 'Harbours shelter boats', 'semantic');
    await encode('p2-11', 'How to moor: slow, line, cleat', 'procedural');
    const exported = await exportArchive({ space: 'p2-11' });
    expect(exported.record_count).toBe(3);
    expect(exported.size_bytes).toBeGreaterThan(0);

    expect((await importArchive(fresh, 'p2-11', exported.archive)).body).toEqual({ records_imported: 3 });
    expect(await stats(fresh, 'p2-11')).toMatchObject({
      total_records: 3,
      records_by_store: { episodic: 1, semantic: 1, procedural: 1, emotional: 0 },
    });
  });

  it('P2-12: an export of the episodic store alone imports only episodic records', async () => {
    await encode('p2-12', 'First episode', 'episodic');
    await encode('p2-12', 'Second episode', 'episodic');
    await encode('p2-12', 'A fact', 'semantic');
    await encode('p2-12', 'How to do it', 'procedural');
    const exported = await exportArchive({ space: 'p2-12', stores: ['episodic'] });
    expect(exported.record_count).toBe(2);

    expect((await importArchive(fresh, 'p2-12', exported.archive)).body).toEqual({ records_imported: 2 });
    expect(await stats(fresh, 'p2-12')).toMatchObject({
      total_records: 2,
      records_by_store: { episodic: 2, semantic: 0, procedural: 0, emotional: 0 },
    });
  });

  it('P2-13: an encrypted export needs its key to import', async () => {
    await encode('p2-13', 'A sealed episode', 'episodic');
    await encode('p2-13', 'A sealed fact', 'semantic');
    const exported = await exportArchive({ space: 'p2-13', encrypt: true, encryption_key: KEY });
    expect(exported.record_count).toBe(2);

    const withoutKey = await importArchive(fresh, 'p2-13', exported.archive);
    expect(withoutKey.status).toBeGreaterThanOrEqual(400);
    expect(await stats(fresh, 'p2-13')).toMatchObject({ total_records: 0 });

    expect((await importArchive(fresh, 'p2-13', exported.archive, { decryption_key: KEY })).body).toEqual({ records_imported: 2 });
    expect(await stats(fresh, 'p2-13')).toMatchObject({ total_records: 2 });
  }, 60_000);

  it('P2-13b: a bundle with the raw journal carries both planes', async () => {
    await encode('p2-13b', 'A curated episode', 'episodic');
    const raw = await source.call('POST', '/v1/encode/raw', {
      space: 'p2-13b',
      session_id: 's-1',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      content: textContent('the verbatim turn'),
    });
    expect(raw.body).toMatchObject({ record_id: expect.any(String) });
    const exported = await exportArchive({ space: 'p2-13b', include_raw_journal: true });
    expect(exported.record_count).toBe(2);

    expect((await importArchive(fresh, 'p2-13b', exported.archive)).body).toEqual({ records_imported: 2 });
    expect(await stats(fresh, 'p2-13b')).toMatchObject({ total_records: 1, records_by_store: { episodic: 1 }, raw_journal_records: 1 });
  });

  it('P2-14: keep_existing re-imports nothing and leaves the record as it was', async () => {
    const id = await encode('p2-14', 'The original wording', 'episodic');
    const exported = await exportArchive({ space: 'p2-14' });
    const update = await source.call('PATCH', `/v1/encode/${id}`, { space: 'p2-14', content: textContent('The local edit') });
    expect(update.status).toBeLessThan(300);

    const again = await importArchive(source, 'p2-14', exported.archive, { conflict_resolution: 'keep_existing' });
    expect(again.body).toEqual({ records_imported: 0 });
    expect(textOfRecord((await source.call('GET', `/v1/introspect/record/${id}?space=p2-14`)).body)).toBe('The local edit');
    expect(await stats(source, 'p2-14')).toMatchObject({ total_records: 1 });
  });
});
