import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeDir, sharedServer, startTestServer, textContent, textOfRecord, type TestServer } from '../helpers/server.js';
import { buildArchive, encryptArchive, referenceRawRecord, referenceRecord } from './cma-format.js';

// lifecycle.export / lifecycle.import over REST on real servers (spec §3.16, §3.17, §7). Archives made
// by hand from the spec import; exports of one server import into a fresh one unchanged; a damaged,
// truncated or wrongly keyed archive imports nothing. Each encrypted import or export runs Argon2id at
// 64 MiB (~0.4 s), so encrypted cases are few.

const server = sharedServer();

const ID_A = '0190a000-0000-7000-8000-00000000000a';
const ID_B = '0190a000-0000-7000-8000-00000000000b';
const ID_RAW = '0190a000-0000-7000-8000-0000000000f1';

const encode = (space: string, text: string, extra: Record<string, unknown> = {}) => server.call('POST', '/v1/encode', { space, content: textContent(text), ...extra });
const inspect = (space: string, id: string) => server.call('GET', `/v1/introspect/record/${id}?space=${space}`);
const stats = async (space: string, target: TestServer = server) => (await target.call('GET', `/v1/introspect/stats?space=${space}`)).body;
const importArchive = (space: string, archive: Buffer, extra: Record<string, unknown> = {}, target: TestServer = server) =>
  target.call('POST', '/v1/lifecycle/import', { space, archive_id: 'test', archive_data: [...archive], ...extra });
const exportArchive = async (body: Record<string, unknown>, target: TestServer = server) => {
  const response = await target.call('POST', '/v1/lifecycle/export', body);
  expect(response.status).toBe(200);
  return { ...response.body, archive: Buffer.from(response.body.archive_data as number[]) } as {
    archive_id: string;
    size_bytes: number;
    record_count: number;
    checksum: string;
    archive: Buffer;
  };
};

function expectConflict(response: { status: number; body: any }, message: string | RegExp): void {
  expect(response.status).toBe(409);
  expect(response.body.code).toBe('IMPORT_CONFLICT');
  if (typeof message === 'string') expect(response.body.message).toBe(message);
  else expect(response.body.message).toMatch(message);
}

describe('archives written by hand from spec §7 import', () => {
  const curated = [
    referenceRecord(ID_A, 'semantic', 'Paris is the capital of France', {
      associations: [{ target_id: ID_B, association_type: 'causal', weight: 0.8, created_at: '2026-04-28T12:34:56Z', last_co_activation: '2026-04-28T12:34:56Z' }],
    }),
    referenceRecord(ID_B, 'episodic', 'We visited Paris in spring'),
  ];

  it('imports a plain version 1.0 archive with every field kept and no meta → legacy', async () => {
    const response = await importArchive('hand1', buildArchive('1.0', curated));
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ records_imported: 2 });
    const { body: record } = await inspect('hand1', ID_A);
    expect(textOfRecord(record)).toBe('Paris is the capital of France');
    expect(record).toMatchObject({
      id: ID_A,
      space: 'hand1',
      store: 'semantic',
      created_at: '2026-04-28T12:34:56.123Z',
      access_count: 2,
      version: 3,
      metadata: { tag: 'imported' },
      fidelity: { score: 0.9, noise_level: 0.1, decay_rate: 0.3, reinforcement_count: 1, stability: 2.5 },
      emotion: { joy: 0.5, intensity: 0.5, valence: 0.5 },
      meta: { capture_status: 'legacy' },
    });
    expect(record.associations).toEqual([expect.objectContaining({ target_id: ID_B, association_type: 'causal', weight: 0.8 })]);
    expect(await stats('hand1')).toMatchObject({ total_records: 2, records_by_store: { semantic: 1, episodic: 1 }, total_associations: 1 });
    // The association is in the hippocampus's graph: navigable from its target (DESIGN §2.5).
    const associated = await server.call('POST', `/v1/recall/associate/${ID_B}`, { space: 'hand1', min_weight: 0 });
    expect(associated.status).toBe(200);
    expect(JSON.stringify(associated.body)).toContain(ID_A);
  });

  it('imports an encrypted version 2.0 bundle with the key, curated and raw records alike', async () => {
    const bundle = buildArchive(
      '2.0',
      [
        { kind: 'memory_record', data: curated[1] },
        { kind: 'raw_journal_record', data: referenceRawRecord(ID_RAW, 'session-7', 'hello from the journal') },
      ],
      { curated: 1, raw: 1 },
    );
    const encrypted = await encryptArchive(bundle, 'correct horse battery staple');
    const response = await importArchive('hand2', encrypted, { decryption_key: 'correct horse battery staple' });
    expect(response.body).toEqual({ records_imported: 2 });
    expect(await stats('hand2')).toMatchObject({ total_records: 1, raw_journal_records: 1 });
    const raw = await server.call('POST', '/v1/recall/raw', { space: 'hand2', session_id: 'session-7' });
    expect(raw.body.records).toEqual([expect.objectContaining({ id: ID_RAW, session_id: 'session-7', turn_id: 't1', space: 'hand2' })]);
  });

  it('accepts archive_data as base64 as well as an integer array (DESIGN §2.10)', async () => {
    const response = await server.call('POST', '/v1/lifecycle/import', {
      space: 'hand3',
      archive_id: 'b64',
      archive_data: buildArchive('1.0', curated).toString('base64'),
    });
    expect(response.body).toEqual({ records_imported: 2 });
  });

  it('reads lines as the reference does: CRLF endings and empty lines between entries are fine', async () => {
    const archive = buildArchive('1.0', curated).toString().replace(/\n/g, '\r\n').replace('}\r\n{"id"', '}\r\n\r\n\n{"id"');
    expect((await importArchive('hand4', Buffer.from(archive))).body).toEqual({ records_imported: 2 });
  });

  it.each([
    ['empty', Buffer.alloc(0), 'Archive is empty: missing header'],
    ['header only', Buffer.from('{"version":"1.0","timestamp":"2026-04-28T12:34:56Z","record_count":0}\n'), 'Archive too short: missing footer'],
    ['unknown version', buildArchive('1.0', []).toString().replace('"1.0"', '"3.0"'), 'Unsupported archive version: 3.0 (expected 1.0 or 2.0)'],
    ['a wrong record_count', buildArchive('1.0', curated).toString().replace('"record_count":2', '"record_count":3'), 'record_count mismatch: header says 3, found 2 archive entries'],
    ['an edited entry', buildArchive('1.0', curated).toString().replace('"tag":"imported"', '"tag":"imp0rted"'), /^Checksum mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}$/],
    ['an invalid record', buildArchive('1.0', [referenceRecord(ID_A, 'semantic', 'x', { store: 'cortex' })]).toString(), /^Invalid record at line 2: .*cortex/],
    ['a record breaking §1.3', buildArchive('1.0', [referenceRecord(ID_A, 'semantic', 'x', { fidelity: { score: 2 } })]).toString(), /^Record validation failed at line 2: fidelity\.score/],
    ['an encrypted archive without the key', Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 5, 6, 7, 8]), 'Invalid header: not valid UTF-8'],
    ['a header that is not JSON', Buffer.from('salt+nonce+ciphertext'), /^Invalid header: /],
  ])('refuses %s and writes nothing', async (_name, archive, message) => {
    const space = `bad-${Math.random().toString(36).slice(2, 8)}`;
    expectConflict(await importArchive(space, Buffer.from(archive)), message);
    expect(await stats(space)).toMatchObject({ total_records: 0, raw_journal_records: 0 });
  });
});

describe('export', () => {
  beforeAll(async () => {
    for (const [space, text] of [
      ['exp', 'first episode'],
      ['exp', 'second episode'],
      ['other', 'not mine'],
    ])
      await encode(space, text);
    await encode('exp', 'How to bake bread: knead, rest, bake', { store: 'procedural', metadata: { note: 'pain de campagne ☕' } });
    await server.call('POST', '/v1/encode/raw', {
      space: 'exp',
      session_id: 's1',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      content: textContent('raw turn'),
    });
  });

  it("writes a version 1.0 archive of the request's space in the reference's JSON shape", async () => {
    const exported = await exportArchive({ space: 'exp' });
    expect(exported.record_count).toBe(3);
    expect(exported.size_bytes).toBe(exported.archive.length);
    expect(exported.archive_id).toMatch(/^[0-9a-f-]{36}$/);
    const lines = exported.archive.toString('utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    const header = JSON.parse(lines[0]);
    expect(Object.keys(header)).toEqual(['version', 'timestamp', 'record_count', 'curated_record_count', 'raw_record_count']);
    expect(header).toMatchObject({ version: '1.0', record_count: 3, curated_record_count: null, raw_record_count: null });
    const record = JSON.parse(lines[1]);
    expect(Object.keys(record)).toEqual([
      'id',
      'store',
      'created_at',
      'updated_at',
      'last_accessed_at',
      'access_count',
      'content',
      'fidelity',
      'emotion',
      'associations',
      'metadata',
      'version',
      'meta',
      'space',
    ]);
    expect(record.content.blocks[0].data).toEqual(expect.arrayContaining([expect.any(Number)]));
    expect(record.space).toBe('exp');
    expect(JSON.parse(lines.at(-2)!)).toEqual({ checksum: exported.checksum });
    expect(exported.archive.toString()).not.toContain('not mine');
  });

  it('filters stores (names given twice count once) and bundles the raw journal as version 2.0', async () => {
    const exported = await exportArchive({ space: 'exp', stores: ['procedural', 'procedural'], include_raw_journal: true, format: ' JSONL ' });
    const header = JSON.parse(exported.archive.toString().split('\n')[0]);
    expect(header).toMatchObject({ version: '2.0', record_count: 2, curated_record_count: 1, raw_record_count: 1 });
    const kinds = exported.archive
      .toString()
      .split('\n')
      .slice(1, 3)
      .map((line) => JSON.parse(line).kind);
    expect(kinds).toEqual(['memory_record', 'raw_journal_record']);
  });

  it.each([
    [{ encrypt: true }, 'encryption_key', 'encryption_key is required when encrypt=true'],
    [{ format: 'zip' }, 'format', "Unsupported export format 'zip'. Valid options: cma, jsonl"],
    [{ stores: ['cortex'] }, 'stores.0', 'Invalid store: cortex'],
  ])('refuses %j naming the field', async (body, field, message) => {
    const response = await server.call('POST', '/v1/lifecycle/export', { space: 'exp', ...body });
    expect(response.status).toBe(400);
    expect(response.body.details?.field ?? field).toBe(field);
    expect(response.body.message).toBe(message);
  });
});

describe('import requests', () => {
  it.each([
    [{ archive_id: 'x' }, 'archive_data', 'Import requires archive_data'],
    [{ archive_data: [] }, 'archive_id', 'archive_id: is required'],
    [{ archive_id: 'x', archive_data: [], strategy: 'overwrite' }, 'strategy', 'strategy: expected one of merge, replace'],
    [{ archive_id: 'x', archive_data: [], conflict_resolution: 'newest' }, 'conflict_resolution', 'conflict_resolution: expected one of keep_newer, keep_existing, keep_imported'],
    [{ archive_id: 'x', archive_data: [256] }, 'archive_data.0', 'archive_data.0: must be an integer 0-255'],
  ])('refuses %j naming the field', async (body, field, message) => {
    const response = await server.call('POST', '/v1/lifecycle/import', body);
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_ERROR');
    expect(response.body.details?.field ?? field).toBe(field);
    expect(response.body.message).toBe(message);
  });
});

describe('merge conflict resolution (§3.17)', () => {
  const older = '2026-01-01T00:00:00Z';
  const newer = '2099-01-01T00:00:00Z';
  const archiveOf = (text: string, updated_at: string, store = 'episodic') => buildArchive('1.0', [referenceRecord(ID_A, store, text, { updated_at })]);

  async function seed(space: string) {
    expect((await importArchive(space, archiveOf('local copy', '2026-06-01T00:00:00Z'))).body).toEqual({ records_imported: 1 });
  }

  it('keep_existing skips records that exist', async () => {
    await seed('m1');
    const response = await importArchive('m1', archiveOf('archived copy', newer), { conflict_resolution: 'keep_existing' });
    expect(response.body).toEqual({ records_imported: 0 });
    expect(textOfRecord((await inspect('m1', ID_A)).body)).toBe('local copy');
  });

  it('keep_newer overwrites only with a later updated_at', async () => {
    await seed('m2');
    expect((await importArchive('m2', archiveOf('stale copy', older))).body).toEqual({ records_imported: 0 });
    expect(textOfRecord((await inspect('m2', ID_A)).body)).toBe('local copy');
    expect((await importArchive('m2', archiveOf('fresh copy', newer))).body).toEqual({ records_imported: 1 });
    expect(textOfRecord((await inspect('m2', ID_A)).body)).toBe('fresh copy');
  });

  it('keep_imported overwrites, moving a record to its archived store and leaving one copy', async () => {
    await seed('m3');
    const response = await importArchive('m3', archiveOf('moved copy', older, 'semantic'), { conflict_resolution: 'keep_imported' });
    expect(response.body).toEqual({ records_imported: 1 });
    const { body: record } = await inspect('m3', ID_A);
    expect(record).toMatchObject({ store: 'semantic' });
    expect(textOfRecord(record)).toBe('moved copy');
    expect(await stats('m3')).toMatchObject({ total_records: 1, records_by_store: { episodic: 0, semantic: 1 } });
  });
});

describe('replace (§3.17)', () => {
  it('replaces the whole space with the archive', async () => {
    await encode('r1', 'will be replaced');
    await encode('r1-neighbour', 'other spaces are untouched');
    const response = await importArchive('r1', buildArchive('1.0', [referenceRecord(ID_B, 'semantic', 'the new world')]), { strategy: 'replace' });
    expect(response.body).toEqual({ records_imported: 1 });
    expect(await stats('r1')).toMatchObject({ total_records: 1, records_by_store: { semantic: 1, episodic: 0 } });
    expect(await stats('r1-neighbour')).toMatchObject({ total_records: 1 });
  });

  it('with a damaged archive leaves the data as it was', async () => {
    const kept = await encode('r2', 'must survive');
    const damaged = buildArchive('1.0', [referenceRecord(ID_B, 'semantic', 'intruder')])
      .toString()
      .replace('"version":3', '"version":4');
    expectConflict(await importArchive('r2', Buffer.from(damaged), { strategy: 'replace' }), /^Checksum mismatch/);
    expect(await stats('r2')).toMatchObject({ total_records: 1 });
    expect(textOfRecord((await inspect('r2', kept.body.record_id)).body)).toBe('must survive');
  });
});

describe('replace when a store fails part-way', () => {
  it('restores the space as it was once the crashed store is back', async () => {
    const kept = await encode('crash', 'the data before the import', { store: 'semantic' });
    const records = Array.from({ length: 3000 }, (_, index) => referenceRecord(`0190b000-0000-7000-8000-${String(index).padStart(12, '0')}`, 'semantic', `imported ${index}`));
    // The fault hook, not a race: the semantic worker crashes at its third apply from now, part-way
    // through the import (its records go in batches of 500; whatever else the replace writes first).
    await server.runtime.workers.get('semantic')!.crashAt('apply:before-write', { skip: 2 });
    const response = await importArchive('crash', buildArchive('1.0', records), { strategy: 'replace' });
    expectConflict(response, 'Import failed; the previous data was restored');
    expect(await stats('crash')).toMatchObject({ total_records: 1, records_by_store: { semantic: 1 } });
    expect(textOfRecord((await inspect('crash', kept.body.record_id)).body)).toBe('the data before the import');
  }, 60_000);
});

describe('round trip into a fresh data directory', () => {
  let fresh: TestServer;
  let encrypted: Awaited<ReturnType<typeof exportArchive>>;
  const KEY = 'a passphrase, used as given ';

  beforeAll(async () => {
    fresh = await startTestServer();
    const first = await encode('trip-a', 'Alpha remembers the lake', { context: { session_id: 'trip' } });
    await encode('trip-a', 'Alpha remembers the boat', { context: { session_id: 'trip' }, emotion: 'joy' });
    await encode('trip-a', 'How to row: pull, feather, return', {
      store: 'procedural',
      associations: [{ target_id: first.body.record_id, association_type: 'causal', weight: 0.6 }],
    });
    await encode('trip-b', 'Beta keeps its own memories', { store: 'semantic', meta: { intent: 'keep spaces apart' } });
    await server.call('POST', '/v1/encode/raw', {
      space: 'trip-b',
      session_id: 'sb',
      source: 'conversation',
      speaker: 'assistant',
      visibility: 'sealed',
      secrecy_level: 'secret',
      content: textContent('sealed raw'),
    });
    encrypted = await exportArchive({ space: 'trip-a', all_spaces: true, include_raw_journal: true, encrypt: true, encryption_key: KEY });
    expect(encrypted.size_bytes).toBe(encrypted.archive.length);
  });
  afterAll(async () => {
    await fresh?.close();
    if (fresh) removeDir(fresh.dataDir);
  });

  it('imports into a fresh server with the same counts, spaces and checksum', async () => {
    const before = { a: await stats('trip-a'), b: await stats('trip-b') };
    const plain = await exportArchive({ all_spaces: true, include_raw_journal: true, stores: ['episodic', 'semantic', 'procedural', 'emotional'] });
    const trips = plain.archive
      .toString()
      .split('\n')
      .filter((line) => line.includes('"space":"trip-'));
    expect(trips.length).toBe(5);

    const imported = await importArchive('ignored', encrypted.archive, { decryption_key: KEY, all_spaces: true }, fresh);
    expect(imported.status).toBe(200);
    expect(imported.body.records_imported).toBe(encrypted.record_count);
    for (const [space, expected] of [
      ['trip-a', before.a],
      ['trip-b', before.b],
    ] as const) {
      const after = await stats(space, fresh);
      for (const key of ['total_records', 'records_by_store', 'total_associations', 'raw_journal_records', 'avg_fidelity']) {
        expect(after[key], `${space} ${key}`).toEqual(expected[key]);
      }
    }
    const again = await exportArchive({ space: 'trip-a', all_spaces: true, include_raw_journal: true }, fresh);
    expect(again.record_count).toBe(encrypted.record_count);
    expect(again.checksum).toBe(encrypted.checksum);
  });

  it("puts every record into the request's space without all_spaces", async () => {
    const exported = await exportArchive({ space: 'trip-b' });
    expect((await importArchive('copy-of-b', exported.archive, {}, fresh)).body).toEqual({ records_imported: 1 });
    expect(await stats('copy-of-b', fresh)).toMatchObject({ total_records: 1, records_by_store: { semantic: 1 } });
  });

  it('detects one flipped byte anywhere in an encrypted archive and imports nothing', async () => {
    const { archive } = encrypted;
    // salt, nonce, first ciphertext byte, the middle, the tag's last byte
    for (const at of [0, 16, 28, Math.floor(archive.length / 2), archive.length - 1]) {
      const tampered = Buffer.from(archive);
      tampered[at] ^= 0x01;
      expectConflict(await importArchive('tampered', tampered, { decryption_key: KEY, all_spaces: false }, fresh), 'Decryption failed: wrong key or corrupted data');
    }
    expect(await stats('tampered', fresh)).toMatchObject({ total_records: 0, raw_journal_records: 0 });
  }, 60_000);

  it('refuses a wrong key and a truncated archive', async () => {
    expectConflict(await importArchive('wrong', encrypted.archive, { decryption_key: KEY.trim() }, fresh), 'Decryption failed: wrong key or corrupted data');
    expectConflict(await importArchive('wrong', encrypted.archive.subarray(0, encrypted.archive.length - 100), { decryption_key: KEY }, fresh), 'Decryption failed: wrong key or corrupted data');
    expectConflict(await importArchive('wrong', encrypted.archive.subarray(0, 20), { decryption_key: KEY }, fresh), 'Encrypted data too short (missing salt/nonce)');
    const plain = await exportArchive({ space: 'trip-a' });
    const lines = plain.archive.toString().split('\n');
    expectConflict(await importArchive('wrong', Buffer.from(lines.slice(0, -2).join('\n')), {}, fresh), /^(Invalid footer|record_count mismatch)/);
    expectConflict(await importArchive('wrong', plain.archive.subarray(0, plain.archive.length - 30), {}, fresh), /^Invalid footer/);
    expect(await stats('wrong', fresh)).toMatchObject({ total_records: 0 });
  }, 60_000);
});
