import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';
import { GUARDED_SPACES } from './operations.js';

// The guarded spaces' records as they are, to compare after a campaign: nothing sent to the fuzz space
// (or refused anywhere) may add, change or remove one of them.

const text = (value: string) => ({ blocks: [{ modality: 'text', format: 'text/plain', data: [...Buffer.from(value, 'utf8')] }] });

export async function seedGuarded(server: TestServer): Promise<void> {
  for (const space of GUARDED_SPACES) {
    for (let i = 0; i < 3; i++) {
      const stored = await server.call('POST', '/v1/encode', { space, content: text(`${space} secret ${i}`), metadata: { i } });
      expect(stored.status).toBe(200);
    }
    const raw = await server.call('POST', '/v1/encode/raw', {
      space,
      session_id: 'guarded',
      source: 'conversation',
      speaker: 'user',
      visibility: 'normal',
      secrecy_level: 'public',
      content: text(`${space} raw`),
    });
    expect(raw.status).toBe(200);
  }
}

/** Every guarded record's id, store, content, metadata and version (not its access clocks). */
export async function guardedSnapshot(server: TestServer): Promise<string> {
  const parts: unknown[] = [];
  for (const space of GUARDED_SPACES) {
    const listed = await server.call('POST', '/v1/recall/query', { space, limit: 1000, recall_mode: 'perfect', reconsolidate: false, include_decayed: true });
    expect(listed.status).toBe(200);
    const records = (listed.body.memories as { record: Record<string, unknown> }[])
      .map(({ record }) => ({ id: record.id, store: record.store, content: record.content, metadata: record.metadata, version: record.version }))
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
    const raw = await server.call('POST', '/v1/recall/raw', { space, limit: 1000 });
    expect(raw.status).toBe(200);
    parts.push({ space, records, raw: raw.body });
  }
  return JSON.stringify(parts);
}

/** Counts of the spaces a request may touch, to prove a refused request wrote nothing. */
export async function counts(server: TestServer, spaces: readonly string[]): Promise<string> {
  const all = [];
  for (const space of spaces) {
    const stats = await server.call('GET', `/v1/introspect/stats?space=${space}`);
    expect(stats.status).toBe(200);
    all.push([space, stats.body.total_records, stats.body.raw_journal_records ?? stats.body.raw_journal?.records ?? null]);
  }
  return JSON.stringify(all);
}
