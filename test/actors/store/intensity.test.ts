import { describe, expect, it } from 'vitest';
import type { MemoryRecord } from '../../../src/cmp/types.js';
import { sharedServer, textContent, textOfRecord } from '../../helpers/server.js';

// The emotional store's intensity range query (spec §2.5, scenario P3-3), on a real store worker
// (working memory's copy is tested in test/actors/working).

const server = sharedServer();

async function seed(space: string, store: string): Promise<void> {
  for (const [text, intensity] of [
    ['vivid', 0.95],
    ['middling', 0.5],
    ['faint', 0.1],
  ] as const) {
    const response = await server.call('POST', '/v1/encode', { space, store, content: textContent(text), emotion: { joy: 1, intensity } });
    expect(response.status).toBe(200);
  }
}

const texts = (records: unknown[]) => (records as MemoryRecord[]).map((record) => textOfRecord(record)).sort();

describe('byIntensity', () => {
  it('P3-3: intensities 0.95 / 0.5 / 0.1 — [0.8,1] finds 0.95, [0.3,0.6] finds 0.5, [0,1] all three', async () => {
    await seed('p3-3', 'emotional');
    const emotional = server.runtime.workers.get('emotional')!.api;
    expect(texts(await emotional.byIntensity('p3-3', 0.8, 1, 100))).toEqual(['vivid']);
    expect(texts(await emotional.byIntensity('p3-3', 0.3, 0.6, 100))).toEqual(['middling']);
    expect(texts(await emotional.byIntensity('p3-3', 0, 1, 100))).toEqual(['faint', 'middling', 'vivid']);
  });

  it('is inclusive at both ends, honours the limit (0: none) and keeps to the space', async () => {
    await seed('bounds', 'emotional');
    const emotional = server.runtime.workers.get('emotional')!.api;
    expect(texts(await emotional.byIntensity('bounds', 0.5, 0.5, 100))).toEqual(['middling']);
    expect(await emotional.byIntensity('bounds', 0, 1, 2)).toHaveLength(2);
    expect(await emotional.byIntensity('bounds', 0, 1, 0)).toEqual([]);
    expect(await emotional.byIntensity('elsewhere', 0, 1, 100)).toEqual([]);
  });
});
