import { describe, expect, it } from 'vitest';
import { archiveRoundTrip } from '../../bench/archive-round-trip.js';

// The server round trip of `npm run bench -- archive` with small N: real server processes, archives
// moved by the `cerememory` command over Connect streams, counts and checksums compared.

describe('the archive round-trip benchmark', () => {
  it('moves 300 records through two servers with equal counts and checksums, measuring the server', async () => {
    const report = await archiveRoundTrip(300);
    expect(report.record_count).toEqual({ first_export: 300, second_export: 300 });
    expect(report.checksum_equal).toBe(true);
    expect(report.reimport_of_held_records).toBe(0);
    expect(report.import_fresh).toMatchObject({ records_imported: 300, growth_mib: expect.any(Number) });
    for (const step of [report.import_fresh, report.export, report.import_held] as { peak_rss_mib: number; rss_before_mib: number }[]) {
      expect(step.peak_rss_mib).toBeGreaterThanOrEqual(step.rss_before_mib);
    }
  }, 240_000);
});
