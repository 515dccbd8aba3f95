import type { CmpObject } from '../endpoint.js';

// Human-readable output of the CLI commands (`--json` prints the CMP JSON instead). Pure: a CMP
// answer in, lines out.

export function firstText(content: { blocks?: { modality: string; data: string }[] } | undefined): string {
  const block = content?.blocks?.find((candidate) => candidate.modality === 'text');
  return block ? Buffer.from(block.data, 'base64').toString('utf8') : '[non-text content]';
}

function oneLine(text: string, width = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

const fixed = (value: unknown, digits = 2) => (typeof value === 'number' ? value.toFixed(digits) : '-');

/** `key: value` lines, nested objects flattened with dots; arrays and empty values kept short. */
export function keyValues(value: CmpObject, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, item]) => {
    const name = `${prefix}${key}`;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) return keyValues(item as CmpObject, `${name}.`);
    if (Array.isArray(item)) return [`${name}: ${item.length === 0 ? '(none)' : item.map((entry) => (typeof entry === 'object' ? JSON.stringify(entry) : String(entry))).join(', ')}`];
    return [`${name}: ${item === null || item === undefined ? '-' : String(item)}`];
  });
}

export function renderRecall(result: CmpObject): string[] {
  const memories = (result.memories ?? []) as CmpObject[];
  if (memories.length === 0) return ['No memories found.'];
  return [
    ...memories.map((memory, index) => {
      const record = memory.record as CmpObject;
      const shown = firstText((memory.rendered_content as CmpObject | undefined) ?? record.content);
      return `${index + 1}. [${record.store}] relevance ${fixed(memory.relevance_score)} fidelity ${fixed(record.fidelity?.score)}  ${oneLine(shown)}\n   ${record.id}`;
    }),
    `${memories.length} of ${result.total_candidates} candidates`,
  ];
}

export function renderRawRecall(result: CmpObject): string[] {
  const records = (result.records ?? []) as CmpObject[];
  if (records.length === 0) return ['No raw journal entries found.'];
  return [
    ...records.map(
      (record, index) =>
        `${index + 1}. ${record.created_at} ${record.session_id} ${record.speaker}${record.visibility === 'normal' ? '' : ` (${record.visibility})`}: ${oneLine(firstText(record.content))}\n   ${record.id}`,
    ),
    `${records.length} of ${result.total_candidates} entries`,
  ];
}

export function renderStats(stats: CmpObject): string[] {
  const byStore = Object.entries((stats.records_by_store ?? {}) as Record<string, number>)
    .map(([store, count]) => `${store} ${count}`)
    .join(', ');
  return [
    `space: ${stats.space}`,
    `records: ${stats.total_records} (${byStore})`,
    `associations: ${stats.total_associations}`,
    `average fidelity: ${fixed(stats.avg_fidelity, 3)}`,
    `raw journal: ${stats.raw_journal_records} entries, ${stats.raw_journal_pending_dream} waiting for dream`,
    `oldest / newest: ${stats.oldest_record ?? '-'} / ${stats.newest_record ?? '-'}`,
    `recalls: ${stats.total_recall_count}`,
    `vector index: ${stats.vector_index_records} (${stats.vector_search_backend}, ${stats.embedder}), ${stats.vector_backlog} waiting for a vector`,
    `background decay: ${stats.background_decay_enabled ? 'on' : 'off'}, background dream: ${stats.background_dream_enabled ? 'on' : 'off'}`,
  ];
}
