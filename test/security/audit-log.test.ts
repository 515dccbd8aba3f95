import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CerememoryClient } from '../../src/client/client.js';
import { compiledEntry } from '../helpers/compiled-cli.js';
import { ManualScheduler } from '../helpers/scheduler.js';
import { AuditLogError, verifyAuditFile } from '../../src/audit/audit-log.js';
import type { AuditEntry } from '../../src/audit/chain.js';
import { LEXICAL_ENV, removeDir, startTestServer, tempDataDir, textContent, type TestServer } from '../helpers/server.js';

// The audit log on the real server (reference spec §8.2): every mutating operation, from any
// transport, leaves one hash-chained, content-free entry; a broken chain stops the next start; and
// `cerememory audit-verify` says where it broke.

const SECRET_TEXT = 'the vault combination is 31-41-59';
const ARCHIVE_KEY = 'archive passphrase 27-18-28';
const dirs: string[] = [];
const running: TestServer[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function start(dataDir = tempDataDir(), flags = {}, scheduler?: ManualScheduler) {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const server = await startTestServer({ dataDir, flags, scheduler });
  running.push(server);
  return server;
}

async function stop(server: TestServer) {
  running.splice(running.indexOf(server), 1);
  await server.close();
}

const ok = (response: { status: number; body: unknown }) => {
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  return response.body as Record<string, any>;
};

function entries(path: string): AuditEntry[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as AuditEntry);
}

function auditVerify(...args: string[]) {
  const result = spawnSync(process.execPath, [...compiledEntry(), 'audit-verify', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...LEXICAL_ENV },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the audit log on a running server', () => {
  it('records every mutating operation in order, with metadata only', async () => {
    const server = await start();
    const space = 'audit';
    const stored = ok(await server.call('POST', '/v1/encode', { space, content: textContent(SECRET_TEXT), metadata: { note: SECRET_TEXT } }));
    const batch = ok(await server.call('POST', '/v1/encode/batch', { space, records: [{ content: textContent(`${SECRET_TEXT} again`) }] }));
    ok(await server.call('PATCH', `/v1/encode/${stored.record_id}`, { space, record_id: stored.record_id, content: textContent(`${SECRET_TEXT} v2`) }));
    ok(
      await server.call('POST', '/v1/encode/raw', {
        space,
        session_id: 's1',
        source: 'conversation',
        speaker: 'user',
        visibility: 'normal',
        secrecy_level: 'public',
        content: textContent(SECRET_TEXT),
      }),
    );
    ok(await server.call('POST', '/v1/recall/query', { space, cue: { text: 'vault combination' }, reconsolidate: true }));
    ok(await server.call('POST', '/v1/recall/query', { space, cue: { text: 'vault combination' }, reconsolidate: false }));
    ok(await server.call('GET', `/v1/introspect/stats?space=${space}`));
    ok(await server.call('PUT', '/v1/lifecycle/mode', { mode: 'human' }));
    ok(await server.call('POST', '/v1/lifecycle/decay-tick', { space }));
    ok(await server.call('POST', '/v1/lifecycle/consolidate', { space, strategy: 'full' }));
    ok(await server.call('POST', '/v1/lifecycle/dream-tick', { space }));
    const exported = ok(await server.call('POST', '/v1/lifecycle/export', { space, encrypt: true, encryption_key: ARCHIVE_KEY }));
    ok(
      await server.call('POST', '/v1/lifecycle/import', {
        space,
        archive_id: 'audit-test',
        archive_data: exported.archive_data,
        decryption_key: ARCHIVE_KEY,
        conflict_resolution: 'keep_existing',
      }),
    );
    ok(await server.call('DELETE', '/v1/lifecycle/forget', { space, record_ids: [batch.results[0].record_id], confirm: true }));
    const path = join(server.dataDir, 'audit.jsonl');
    await stop(server);

    const log = entries(path);
    expect(log.map((entry) => entry.operation)).toEqual([
      'encode.store',
      'encode.batch',
      'encode.update',
      'encode.store_raw',
      'recall.query.reconsolidate',
      'lifecycle.set_mode',
      'lifecycle.decay_tick',
      'lifecycle.consolidate',
      'lifecycle.dream_tick',
      'lifecycle.export',
      'lifecycle.import',
      'lifecycle.forget',
    ]);
    expect(log.map((entry) => entry.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(log[0]).toMatchObject({ record_ids: [stored.record_id], store_types: [stored.store], summary: { space, record_id: stored.record_id } });
    expect(log[2]!.summary).toMatchObject({ content_changed: true, meta_changed: false });
    expect(log[9]).toMatchObject({
      summary: { space, archive_id: exported.archive_id, record_count: exported.record_count, checksum: exported.checksum, encrypted: true },
    });
    expect(log[10]).toMatchObject({ summary: { archive_id: 'audit-test', strategy: 'merge', conflict_resolution: 'keep_existing', encrypted: true, imported: 0 } });
    expect(log[11]).toMatchObject({ record_ids: [batch.results[0].record_id], summary: { deleted: 1, cascade: false } });
    const file = readFileSync(path, 'utf8');
    expect(file).not.toContain('vault');
    expect(file).not.toContain(ARCHIVE_KEY);
    expect(file).not.toContain(Buffer.from(SECRET_TEXT).toString('base64').slice(0, 16));
    expect((await verifyAuditFile(path)).broken).toBeUndefined();
  });

  // Issue 18, move 3: the audit is a wrapper over the operations table, not over one transport, so the
  // other transports and the background jobs (which call the same table) leave their entries too.
  it('records what Connect and the background jobs do, as it does for REST', async () => {
    const scheduler = new ManualScheduler();
    const server = await start(undefined, { decay: { background_enabled: true, background_interval_secs: 60 }, dream: { background_enabled: false } }, scheduler);
    const client = new CerememoryClient({ baseUrl: server.url });
    try {
      // Proto JSON: bytes as base64.
      const data = Buffer.from(SECRET_TEXT).toString('base64');
      await client.call('encodeStore', { space: 'rpc', content: { blocks: [{ modality: 'text', format: 'text/plain', data }] } });
      await client.call('setMode', { mode: 'perfect', scope: ['episodic'] });
    } finally {
      client.close();
    }
    const path = join(server.dataDir, 'audit.jsonl');
    scheduler.fire();
    // The run is started, not awaited, by the scheduler: wait for its entry (the deadline is a safety net).
    for (const deadline = Date.now() + 30_000; !entries(path).some((entry) => entry.operation === 'lifecycle.decay_tick'); ) {
      if (Date.now() > deadline) throw new Error('no audit entry of the background decay tick');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stop(server);
    const log = entries(path);
    expect(log.map((entry) => entry.operation)).toEqual(['encode.store', 'lifecycle.set_mode', 'lifecycle.decay_tick']);
    expect(log[1]).toMatchObject({ store_types: ['episodic'], summary: { mode: 'perfect' } });
    expect(log[2]).toMatchObject({ summary: { space: 'rpc', tick_duration_seconds: 0 } });
    expect(readFileSync(path, 'utf8')).not.toContain('vault');
  });

  it('continues the chain across restarts', async () => {
    const dataDir = tempDataDir();
    const first = await start(dataDir);
    ok(await first.call('POST', '/v1/encode', { content: textContent('one') }));
    await stop(first);
    const second = await start(dataDir);
    ok(await second.call('POST', '/v1/encode', { content: textContent('two') }));
    await stop(second);
    const report = await verifyAuditFile(join(dataDir, 'audit.jsonl'));
    expect(report).toMatchObject({ entries: 2, head: { sequence: 2 } });
    expect(report.broken).toBeUndefined();
  });

  it('writes where security.audit_log_path says, and nothing when disabled', async () => {
    const elsewhere = tempDataDir();
    dirs.push(elsewhere);
    const custom = await start(undefined, { security: { audit_log_path: join(elsewhere, 'trail.jsonl') } });
    ok(await custom.call('POST', '/v1/encode', { content: textContent('custom path') }));
    expect(entries(join(elsewhere, 'trail.jsonl'))).toHaveLength(1);
    expect(existsSync(join(custom.dataDir, 'audit.jsonl'))).toBe(false);

    const off = await start(undefined, { security: { audit_log_enabled: false } });
    ok(await off.call('POST', '/v1/encode', { content: textContent('not audited') }));
    expect(existsSync(join(off.dataDir, 'audit.jsonl'))).toBe(false);
  });
});

describe('a broken chain', () => {
  async function auditedDir(count: number): Promise<{ dataDir: string; path: string }> {
    const server = await start();
    for (let i = 0; i < count; i += 1) ok(await server.call('POST', '/v1/encode', { content: textContent(`memory ${i}`) }));
    await stop(server);
    return { dataDir: server.dataDir, path: join(server.dataDir, 'audit.jsonl') };
  }

  it('stops the next start, naming the file and the first broken entry', async () => {
    const { dataDir, path } = await auditedDir(3);
    const lines = readFileSync(path, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('encode.store', 'encode.stole');
    writeFileSync(path, lines.join('\n'));
    const error = await start(dataDir).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(AuditLogError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/entry 2 is broken \(hash mismatch/);
  });

  it('sets a torn last line (an append a crash cut short, never acknowledged) aside and continues the chain', async () => {
    const { dataDir, path } = await auditedDir(2);
    const torn = '{"version":1,"sequence":3,"timest';
    appendFileSync(path, torn);
    const verify = auditVerify('--path', path);
    expect(verify.status).toBe(1);
    expect(verify.stdout).toContain('Audit log BROKEN at entry 3: incomplete last line');
    expect(verify.stdout).toContain(`the next start moves the line to ${path}.torn`);

    const server = await start(dataDir);
    expect(server.logs.join('\n')).toContain(`audit log ${path}: line 3 was incomplete`);
    expect(readFileSync(`${path}.torn`, 'utf8')).toBe(`${torn}\n`);
    ok(await server.call('POST', '/v1/encode', { content: textContent('after the repair') }));
    await stop(server);
    expect(entries(path).map((entry) => entry.sequence)).toEqual([1, 2, 3]);
    expect((await verifyAuditFile(path)).broken).toBeUndefined();
  });

  it('cerememory audit-verify prints ok, or the first broken entry with exit 1', async () => {
    const { dataDir, path } = await auditedDir(3);
    const good = auditVerify('--data-dir', dataDir);
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('Audit log verified: ok');
    expect(good.stdout).toContain(`path=${path}`);
    expect(good.stdout).toContain('entries=3');

    const lines = readFileSync(path, 'utf8').trim().split('\n');
    writeFileSync(path, `${[lines[0], lines[2]].join('\n')}\n`);
    const bad = auditVerify('--path', path);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('Audit log BROKEN at entry 2: sequence 3, expected 2');
    expect(bad.stdout).toContain('entries=1');
    expect(bad.stdout).toContain('first_broken=2');
  });
});
