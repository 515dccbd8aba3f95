import type { Ledger } from './load.js';

// The chaos bench's integrity checker: exports the default space (curated stores and raw journal, REST
// `POST /v1/lifecycle/export` with `include_raw_journal`), reads every record's `metadata.marker` from
// the JSONL archive and compares with what the clients were told (the Ledger):
//   lost         acknowledged, never forgotten, and absent
//   duplicated   present more than once (a retried request applied twice)
//   id_mismatch  present once, under another id than the one acknowledged
//   resurrected  forgotten (acknowledged forget) and present again
//   refused_present  refused with a definitive 4xx and present anyway (a request applied in part)
// Outcomes the clients could not know (a request or forget given up, a final 5xx in the disk round)
// are reported as counts of present / absent, not judged.

export interface Found {
  /** marker → the ids of the records carrying it */
  markers: Map<string, string[]>;
  curated: number;
  raw: number;
  /** records without a marker (none are written by the bench) */
  unmarked: number;
}

/** The markers in a CMA archive (JSONL: header, entries, footer; version 1.0 or 2.0). */
export function markersOfArchive(archive: Buffer): Found {
  const found: Found = { markers: new Map(), curated: 0, raw: 0, unmarked: 0 };
  const lines = archive
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  for (const line of lines.slice(1, -1)) {
    const entry = JSON.parse(line) as { kind?: string; data?: Record<string, unknown> } & Record<string, unknown>;
    const record = (entry.kind === undefined ? entry : entry.data) as { id: string; metadata?: { marker?: unknown } };
    if (entry.kind === 'raw_journal_record') found.raw++;
    else found.curated++;
    const marker = record.metadata?.marker;
    if (typeof marker !== 'string') {
      found.unmarked++;
      continue;
    }
    const ids = found.markers.get(marker) ?? [];
    ids.push(record.id);
    found.markers.set(marker, ids);
  }
  return found;
}

/** Exports the server's default space with the raw journal; the markers in it. */
export async function exportMarkers(url: string): Promise<Found & { archive_bytes: number; export_ms: number }> {
  const started = performance.now();
  const response = await fetch(`${url}/v1/lifecycle/export`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ include_raw_journal: true }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`export: ${response.status} ${text.slice(0, 300)}`);
  const archive = Buffer.from((JSON.parse(text) as { archive_data: number[] }).archive_data);
  return { ...markersOfArchive(archive), archive_bytes: archive.length, export_ms: Math.round(performance.now() - started) };
}

export interface IntegrityReport {
  acknowledged: number;
  refused: number;
  retried: number;
  lost: number;
  duplicated: number;
  id_mismatch: number;
  resurrected: number;
  refused_present: number;
  forgotten: number;
  /** requests given up or failed for good: how many of their records are present / absent */
  unknown_outcome: { present: number; absent: number; by_code: Record<string, { present: number; absent: number }> };
  forget_unknown: { present: number; absent: number };
  records_exported: { curated: number; raw: number; unmarked: number };
  /** up to 10 markers of each violation, with what was expected */
  examples: Record<string, string[]>;
}

export function checkIntegrity(ledger: Ledger, found: Found): IntegrityReport {
  const examples: Record<string, string[]> = {};
  const example = (kind: string, text: string) => {
    const list = (examples[kind] ??= []);
    if (list.length < 10) list.push(text);
  };
  const count = (marker: string) => found.markers.get(marker)?.length ?? 0;
  let lost = 0;
  let duplicated = 0;
  let idMismatch = 0;
  let resurrected = 0;
  let refusedPresent = 0;
  for (const [marker, ack] of ledger.acked) {
    const ids = found.markers.get(marker) ?? [];
    if (ledger.forgotten.has(marker)) {
      if (ids.length > 0) {
        resurrected++;
        example('resurrected', `${marker} (${ack.op} into ${ack.store}, id ${ack.id}) forgotten, found as ${ids.join(', ')}`);
      }
      continue;
    }
    if (ledger.forgetUnknown.has(marker)) continue;
    if (ids.length === 0) {
      lost++;
      example('lost', `${marker} (${ack.op} into ${ack.store}, id ${ack.id})`);
    } else if (ids.length > 1) {
      duplicated++;
      example('duplicated', `${marker} (${ack.op} into ${ack.store}, id ${ack.id}) found ${ids.length} times: ${ids.join(', ')}`);
    } else if (ids[0] !== ack.id) {
      idMismatch++;
      example('id_mismatch', `${marker} (${ack.op} into ${ack.store}) acknowledged as ${ack.id}, found as ${ids[0]}`);
    }
  }
  for (const [marker, refusal] of ledger.refused) {
    if (count(marker) === 0) continue;
    refusedPresent++;
    example('refused_present', `${marker} (${refusal.op}, refused ${refusal.status} ${refusal.code}) found as ${found.markers.get(marker)!.join(', ')}`);
  }
  const unknown: IntegrityReport['unknown_outcome'] = { present: 0, absent: 0, by_code: {} };
  for (const [marker, failure] of ledger.failed) {
    const key = `${failure.status} ${failure.code}`.trim();
    const cell = (unknown.by_code[key] ??= { present: 0, absent: 0 });
    const present = count(marker) > 0;
    if (present) unknown.present++;
    else unknown.absent++;
    if (present) cell.present++;
    else cell.absent++;
    if (count(marker) > 1) {
      duplicated++;
      example('duplicated', `${marker} (${failure.op}, failed ${key}) found ${count(marker)} times`);
    }
  }
  const forgetUnknown = { present: 0, absent: 0 };
  for (const marker of ledger.forgetUnknown) {
    if (count(marker) > 0) forgetUnknown.present++;
    else forgetUnknown.absent++;
  }
  return {
    acknowledged: ledger.acked.size,
    refused: ledger.refused.size,
    retried: ledger.retriedRequests,
    lost,
    duplicated,
    id_mismatch: idMismatch,
    resurrected,
    refused_present: refusedPresent,
    forgotten: ledger.forgotten.size,
    unknown_outcome: unknown,
    forget_unknown: forgetUnknown,
    records_exported: { curated: found.curated, raw: found.raw, unmarked: found.unmarked },
    examples,
  };
}
