import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CosineScan, evidenceRecall, queriesFor, runPeers } from '../../bench/peers.bench.js';
import { zipfSentences } from '../../bench/corpus.js';
import { generateSample } from '../../bench/locomo.js';

// `npm run bench -- peers` with small N: both MCP servers spawned over stdio, loaded through their tools,
// queried in both variants, the real-question workload on a generated LoCoMo-format sample (the real
// file is read only by the bench), and the brute-force scan next to the engine's recall.

describe('the peers benchmark', () => {
  it('builds queries whose phrase is an exact part of the target and whose words come from it', () => {
    const texts = zipfSentences(100, 23);
    for (const query of queriesFor(texts, 20)) {
      expect(texts[query.target]).toContain(query.phrase);
      expect(query.words.split(' ')).toHaveLength(3);
      for (const word of query.words.split(' ')) expect(texts[query.target].replace(/\.$/, '').split(' ')).toContain(word);
    }
  });

  it('ranks by cosine in the brute-force scan', () => {
    const scan = new CosineScan(2);
    scan.add([Float32Array.of(1, 0), Float32Array.of(0, 1), Float32Array.of(Math.SQRT1_2, Math.SQRT1_2)]);
    expect(scan.top(Float32Array.of(1, 0), 2)).toEqual([0, 2]);
  });

  const recallCases: [results: string[], evidence: string[], k: number, expected: number][] = [
    [['a', 'b', 'c'], ['b'], 5, 1],
    [['a', 'b', 'c'], ['c', 'd'], 5, 0.5],
    [['a', 'b', 'c'], ['c'], 2, 0],
    [[], ['a'], 10, 0],
  ];
  it.each(recallCases)('evidence recall of %j for %j at %d is %d', (results, evidence, k, expected) => {
    expect(evidenceRecall(results, evidence, k)).toBe(expected);
  });

  it('runs end to end on 50 memories and 10 queries, and both systems find targets', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cerememory-test-peers-'));
    const locomo = join(dir, 'sample.json');
    writeFileSync(locomo, JSON.stringify(generateSample(1, 2)));
    const report = await runPeers({ sizes: [50], queries: 10, batch: 25, scan: 200, locomo, conversations: 1 }).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(report.rows.map((row) => row.system)).toEqual(['cerememory', 'server-memory']);
    for (const row of report.rows) {
      expect(row).toMatchObject({ memories: 50, load_s: expect.any(Number), peak_rss_mib: expect.any(Number) });
      for (const variant of [row.words, row.phrase]) {
        expect(Object.keys(variant.latency_ms)).toEqual(['p50', 'p95', 'p99']);
        expect(variant.hits_at_5).toBeLessThanOrEqual(variant.found_anywhere);
      }
    }
    const [cerememory, graph] = report.rows;
    expect(cerememory.words.hits_at_5).toBeGreaterThan(0);
    expect(cerememory.phrase.hits_at_5).toBeGreaterThan(0);
    // Substring matching finds an exact phrase of its target every time.
    expect(graph.phrase.hits_at_5).toBe(10);
    // Real questions: each system once, every scored question of the sample asked.
    const real = report.real_questions!;
    expect(real.conversations).toEqual(['generated-1']);
    expect(real.rows.map((row) => row.system)).toEqual(['cerememory', 'server-memory']);
    for (const row of real.rows) expect(row).toMatchObject({ questions: 4, latency_ms: { p50: expect.any(Number) } });
    expect(real.rows[0].recall_at_10).toBeGreaterThan(0);
    // A whole question is not a substring of any turn.
    expect(real.rows[1].answered).toBe(0);
    expect(report.scan).toMatchObject({ records: 200, queries: 10 });
    expect(report.scan!.cerememory_recall.hits_at_5).toBeGreaterThan(0);
    expect(report.scan!.cosine_scan.hits_at_5).toBeGreaterThan(0);
    // The timeout is a safety net for a hang, not a speed check: on the loaded 2-core machine, two files
    // at a time, this took up to twice its idle time (issue 18).
  }, 600_000);
});
