import { v4 as uuidv4 } from 'uuid';
import type { IngestClient, SendResult } from './ingest-client.js';
import { openSpoolDir } from './spool.js';

// `cerememory-recorder doctor`: can this machine record? Each check is independent and printed as
// `ok|fail <check> - <detail>` (reference spec §9.3).

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DoctorOptions {
  client: IngestClient;
  spoolDir: string;
  /** Check auth with a limit-0 raw recall instead of writing a probe record. */
  skipRawIngestProbe: boolean;
}

const check = (name: string, result: SendResult, okDetail: string): DoctorCheck => (result.ok ? { name, ok: true, detail: okDetail } : { name, ok: false, detail: result.message });

export async function runDoctor(options: DoctorOptions): Promise<DoctorCheck[]> {
  const { client } = options;
  const checks: DoctorCheck[] = [];
  checks.push(check('health', await client.get('/health'), `${client.baseUrl}/health answered`));
  checks.push(check('readiness', await client.get('/readiness'), 'server is ready'));
  try {
    openSpoolDir(options.spoolDir).probeWritable();
    checks.push({ name: 'spool', ok: true, detail: `${options.spoolDir} is private and writable` });
  } catch (error) {
    checks.push({ name: 'spool', ok: false, detail: (error as Error).message });
  }
  if (options.skipRawIngestProbe) {
    const probe = await client.post('/v1/recall/raw', { session_id: `recorder-doctor-auth-probe-${uuidv4()}`, limit: 0 });
    checks.push(check('auth', probe, 'raw recall accepted the credentials'));
    checks.push({ name: 'raw_ingest', ok: true, detail: 'skipped by --skip-raw-ingest-probe' });
  } else {
    const probe = await client.sendBatch([
      {
        session_id: `recorder-doctor-${uuidv4()}`,
        turn_id: null,
        topic_id: null,
        source: 'summary',
        speaker: 'system',
        visibility: 'private_scratch',
        secrecy_level: 'sensitive',
        content: { blocks: [{ modality: 'text', format: 'text/plain', data: Buffer.from('cerememory-recorder doctor probe').toString('base64') }] },
        metadata: { recorder: 'cerememory-recorder', event_type: 'session_summary', doctor_probe: true },
      },
    ]);
    checks.push(check('raw_ingest', probe, 'wrote one private_scratch probe record'));
  }
  return checks;
}

export function formatCheck(result: DoctorCheck): string {
  return `${result.ok ? 'ok' : 'fail'} ${result.name} - ${result.detail}`;
}
