import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { sharedServer } from '../helpers/server.js';
import { recorder, startFakeServer, tempSpoolDir } from './helpers.js';

// `cerememory-recorder doctor`: one `ok|fail <check> - <detail>` line per check, non-zero on any fail.

const server = sharedServer();

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('cerememory-recorder doctor', { timeout: 120_000 }, () => {
  it('passes against a running server and writes one private_scratch probe', async () => {
    const run = await recorder(['doctor', '--server-url', server.url, '--spool-dir', tempSpoolDir()]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(' - ')[0])).toEqual(['ok health', 'ok readiness', 'ok spool', 'ok raw_ingest']);
    const probes = await server.call('POST', '/v1/recall/raw', { query: 'doctor probe', limit: 10, include_private_scratch: true });
    expect(probes.body.records).toHaveLength(1);
    expect(probes.body.records[0]).toMatchObject({ visibility: 'private_scratch', secrecy_level: 'sensitive' });
    expect(probes.body.records[0].session_id).toMatch(/^recorder-doctor-/);
  });

  it('with --skip-raw-ingest-probe checks auth by a limit-0 raw recall and writes nothing', async () => {
    const everything = { limit: 1000, include_private_scratch: true, include_sealed: true, secrecy_levels: ['public', 'sensitive', 'secret'] };
    const before = await server.call('POST', '/v1/recall/raw', everything);
    const run = await recorder(['doctor', '--server-url', server.url, '--spool-dir', tempSpoolDir(), '--skip-raw-ingest-probe']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('ok auth - ');
    expect(run.stdout).toContain('ok raw_ingest - skipped by --skip-raw-ingest-probe');
    const after = await server.call('POST', '/v1/recall/raw', everything);
    expect(after.body.records).toHaveLength(before.body.records.length);
  });

  it('fails every server check against a closed port, and exits non-zero', async () => {
    const port = await closedPort();
    const run = await recorder(['doctor', '--server-url', `http://127.0.0.1:${port}`, '--spool-dir', tempSpoolDir()]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^fail health - cannot reach/m);
    expect(run.stdout).toMatch(/^fail readiness - /m);
    expect(run.stdout).toMatch(/^ok spool - /m);
    expect(run.stdout).toMatch(/^fail raw_ingest - /m);
  });

  it('names a rejected API key', async () => {
    const fake = await startFakeServer(401);
    try {
      const run = await recorder(['doctor', '--server-url', fake.url, '--spool-dir', tempSpoolDir(), '--skip-raw-ingest-probe'], {
        env: { CEREMEMORY_SERVER_API_KEY: 'k' },
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^fail auth - server rejected CEREMEMORY_SERVER_API_KEY/m);
      expect(fake.authorizations).toContain('Bearer k');
    } finally {
      await fake.close();
    }
  });
});
