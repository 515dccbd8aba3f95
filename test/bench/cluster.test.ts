import { describe, expect, it } from 'vitest';
import bench from '../../bench/cluster.bench.js';
import { natsServerAvailable } from '../helpers/nats.js';

// `npm run bench -- cluster` in small, so the bench keeps working: one embedded node and three cluster
// nodes, one failover, a fourth node's catch-up. No timing is asserted; what was lost or doubled is.

describe.skipIf(!natsServerAvailable)('the cluster bench', () => {
  it('runs embedded and three nodes, fails over with nothing lost or doubled, and a fourth node catches up its share', async () => {
    const report = (await bench.run(['--writes', '20', '--recalls', '20', '--concurrency', '2', '--failovers', '1', '--catchup-records', '40'], () => undefined)) as any;
    for (const row of [report.embedded, report.three_nodes]) {
      expect(row.writes).toMatchObject({ count: 20, per_s: expect.any(Number) });
      expect(row.recalls).toMatchObject({ count: 20, per_s: expect.any(Number) });
    }
    expect(report.three_nodes.forwarded_share).toBeGreaterThan(0);
    expect(report.failover).toHaveLength(1);
    expect(report.failover[0]).toMatchObject({ acknowledged: 40, missing: 0, duplicated: 0, failover_s: expect.any(Number) });
    expect(report.failover[0].served_again_by).not.toBe(report.failover[0].killed);
    expect([...report.catch_up.partitions_taken].sort((a: number, b: number) => a - b)).toEqual(report.catch_up.partitions_expected);
    expect(report.catch_up.entries_replayed).toBeGreaterThan(0);
  }, 300_000);
});
