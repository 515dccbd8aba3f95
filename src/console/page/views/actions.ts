import type { ViewContext } from '../context.js';
import { confirmDialog, field, h } from '../dom.js';
import { withProgress } from './common.js';

// The maintenance actions, each behind a confirmation and with a progress bar while it runs:
// decay tick, dream tick, consolidate, export (a download), import (an upload), forget a record.

/** `{"a":1,"b":2}` → "a 1 · b 2" */
function resultText(result: unknown): string {
  if (result === null || typeof result !== 'object') return String(result);
  return Object.entries(result as Record<string, unknown>)
    .map(([key, value]) => `${key.replaceAll('_', ' ')} ${String(value)}`)
    .join(' · ');
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function actionsView({ api, notify }: ViewContext): HTMLElement {
  const card = (title: string, description: string, controls: HTMLElement[], label: string, run: () => Promise<unknown>, confirmText: () => string | null) => {
    const button = h('button', { type: 'submit', class: 'primary' }, label);
    const output = h('output', { class: 'result', 'aria-live': 'polite' });
    const form = h('form', { class: 'card', 'aria-label': title }, h('h3', {}, title), h('p', { class: 'muted' }, description), controls, h('div', { class: 'row' }, button), output);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const question = confirmText();
      if (question !== null && !(await confirmDialog(question, label))) return;
      output.textContent = '';
      const result = await withProgress(button, run, (message) => {
        output.textContent = message;
        output.className = 'result error';
      });
      if (result !== undefined) {
        output.className = 'result';
        output.textContent = resultText(result);
        notify(`${title}: done.`);
      }
    });
    return form;
  };

  const tickSeconds = h(
    'select',
    { id: 'tick-duration' },
    h('option', { value: '3600' }, '1 hour'),
    h('option', { value: '86400' }, '1 day'),
    h('option', { value: '604800' }, '1 week'),
    h('option', { value: '2592000' }, '30 days'),
    h('option', { value: '0' }, 'now (no simulated time)'),
  );
  const dreamSession = h('input', { id: 'dream-session', placeholder: 'all sessions', autocomplete: 'off' });
  const dreamDry = h('input', { type: 'checkbox' });
  const strategy = h(
    'select',
    { id: 'consolidate-strategy' },
    ['incremental', 'full', 'selective'].map((s) => h('option', { value: s }, s)),
  );
  const consolidateDry = h('input', { type: 'checkbox' });
  const exportRaw = h('input', { type: 'checkbox', checked: true });
  const importFile = h('input', { type: 'file', id: 'import-file', accept: '.cma,.json,application/json' });
  const importStrategy = h('select', {}, h('option', { value: 'merge' }, 'merge'), h('option', { value: 'replace' }, 'replace (empties the space first)'));
  const conflict = h(
    'select',
    {},
    ['keep_newer', 'keep_existing', 'keep_imported'].map((c) => h('option', { value: c }, c)),
  );
  const forgetId = h('input', { id: 'forget-id', size: 38, placeholder: 'record id', autocomplete: 'off', spellcheck: 'false' });
  const forgetCascade = h('input', { type: 'checkbox' });

  return h(
    'div',
    { class: 'view actions-view' },
    h('h2', {}, 'Actions'),
    h(
      'div',
      { class: 'cards' },
      card(
        'Decay tick',
        "Materialises every record's fidelity; a duration simulates that much time passing. Records below their store's prune threshold are deleted.",
        [field('Simulated time', tickSeconds)],
        'Run decay tick',
        () => api.send('POST', '/v1/lifecycle/decay-tick', { tick_duration_seconds: Number(tickSeconds.value) }),
        () => `Run a decay tick in space "${api.space}" (${tickSeconds.selectedOptions[0]?.textContent})? Records that fall below the prune threshold are deleted.`,
      ),
      card(
        'Dream tick',
        'Digests raw journal turns into episodic summaries and semantic memories.',
        [field('Session', dreamSession), h('label', { class: 'check' }, dreamDry, 'dry run')],
        'Run dream tick',
        () => api.send('POST', '/v1/lifecycle/dream-tick', { session_id: dreamSession.value.trim() || null, dry_run: dreamDry.checked }),
        () => (dreamDry.checked ? null : `Run a dream tick in space "${api.space}"?`),
      ),
      card(
        'Consolidate',
        'Migrates episodic memories to semantic memory and merges near-duplicates.',
        [field('Strategy', strategy), h('label', { class: 'check' }, consolidateDry, 'dry run')],
        'Consolidate',
        () => api.send('POST', '/v1/lifecycle/consolidate', { strategy: strategy.value, dry_run: consolidateDry.checked }),
        () => (consolidateDry.checked ? null : `Consolidate space "${api.space}" (${strategy.value})?`),
      ),
      card(
        'Export',
        'Downloads the space as a CMA archive.',
        [h('label', { class: 'check' }, exportRaw, 'include the raw journal')],
        'Export',
        async () => {
          const answer = await api.send<{ archive_id: string; record_count: number; size_bytes: number; archive_data: number[] }>('POST', '/v1/lifecycle/export', {
            include_raw_journal: exportRaw.checked,
          });
          const { archive_data, ...summary } = answer;
          const url = URL.createObjectURL(new Blob([new Uint8Array(archive_data)], { type: 'application/octet-stream' }));
          const link = h('a', { href: url, download: `cerememory-${api.space}-${answer.archive_id}.cma` });
          document.body.appendChild(link);
          link.click();
          link.remove();
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
          return summary;
        },
        () => null,
      ),
      card(
        'Import',
        'Loads a CMA archive into this space; nothing is written unless all of it verifies.',
        [field('Archive', importFile), field('Strategy', importStrategy), field('On conflict', conflict)],
        'Import',
        async () => {
          const file = importFile.files?.[0];
          if (!file) throw new Error('Choose an archive file first.');
          const bytes = new Uint8Array(await file.arrayBuffer());
          return api.send('POST', '/v1/lifecycle/import', {
            archive_id: file.name,
            strategy: importStrategy.value,
            conflict_resolution: conflict.value,
            archive_data: toBase64(bytes),
          });
        },
        () => `Import ${importFile.files?.[0]?.name ?? 'the archive'} into space "${api.space}" (${importStrategy.value})?`,
      ),
      card(
        'Forget',
        'Deletes one record for good (with cascade: what was derived from it too).',
        [field('Record id', forgetId), h('label', { class: 'check' }, forgetCascade, 'cascade')],
        'Forget',
        () => api.send('DELETE', '/v1/lifecycle/forget', { record_ids: [forgetId.value.trim()], cascade: forgetCascade.checked, confirm: true }),
        () => `Forget record ${forgetId.value.trim()} for good?`,
      ),
    ),
  );
}
