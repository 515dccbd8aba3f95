import type { ViewContext } from '../context.js';
import { recordHref } from '../context.js';
import { field, h, replace } from '../dom.js';
import { contentText, emotionText, fidelity, short, STORES, whyText } from '../format.js';
import type { RecallResponse } from '../types.js';
import { errorText, storeBadge, table } from './common.js';

// Recall (spec §3.6): a cue, the stores, human or perfect mode, a limit. The console does not
// reconsolidate by default: looking at a memory should not strengthen it (opt in with the checkbox).

interface RecallForm {
  text: string;
  stores: string[];
  mode: 'human' | 'perfect';
  limit: number;
  reconsolidate: boolean;
}

let last: RecallForm = { text: '', stores: [], mode: 'human', limit: 20, reconsolidate: false };

export function recallView({ api, notify }: ViewContext): HTMLElement {
  const text = h('input', { type: 'search', id: 'cue', value: last.text, placeholder: 'what do you remember about…', autocomplete: 'off' });
  const storeBoxes = STORES.map((store) => h('input', { type: 'checkbox', name: 'store', value: store, checked: last.stores.includes(store) }));
  const mode = h('select', { id: 'mode' }, h('option', { value: 'human' }, 'human'), h('option', { value: 'perfect' }, 'perfect'));
  mode.value = last.mode;
  const limit = h('input', { type: 'number', id: 'limit', min: 1, max: 1000, value: last.limit });
  const reconsolidate = h('input', { type: 'checkbox', id: 'reconsolidate', checked: last.reconsolidate });
  const results = h('section', { id: 'recall-results', 'aria-label': 'Results' });

  async function search(): Promise<void> {
    last = {
      text: text.value,
      stores: storeBoxes.filter((box) => box.checked).map((box) => box.value),
      mode: mode.value as 'human' | 'perfect',
      limit: Math.max(1, Math.min(1000, Number(limit.value) || 20)),
      reconsolidate: reconsolidate.checked,
    };
    replace(results, h('progress', { 'aria-label': 'Searching' }));
    try {
      const answer = await api.send<RecallResponse>('POST', '/v1/recall/query', {
        cue: { text: last.text },
        stores: last.stores.length > 0 ? last.stores : null,
        limit: last.limit,
        recall_mode: last.mode,
        reconsolidate: last.reconsolidate,
      });
      renderResults(answer);
    } catch (error) {
      replace(results);
      notify(errorText(error), 'error');
    }
  }

  function renderResults(answer: RecallResponse): void {
    const meta = answer.query_metadata;
    const summary = h(
      'p',
      { class: 'muted' },
      `${answer.memories.length} of ${answer.total_candidates} candidates · stores ${meta.stores_searched.join(', ')} · ${meta.strategies.join(', ') || 'no strategy'}`,
      meta.stores_unavailable?.length ? ` · unavailable: ${meta.stores_unavailable.join(', ')}` : '',
    );
    if (answer.memories.length === 0) {
      replace(results, summary, h('p', { class: 'empty' }, 'Nothing recalled.'));
      return;
    }
    const rows = answer.memories.map((memory) => {
      const record = memory.record;
      const path = memory.activation_path
        ? h(
            'span',
            { class: 'path' },
            memory.activation_path.map((id, index) => [index > 0 ? ' → ' : '', h('a', { href: recordHref(id), title: id }, id.slice(-6))]),
          )
        : h('span', { class: 'muted' }, 'direct');
      return [
        h('a', { href: recordHref(record.id), class: 'memory-link' }, short(contentText(memory.rendered_content) || contentText(record.content), 120)),
        storeBadge(record.store),
        h('span', { class: 'fidelity', 'data-record': record.id }, fidelity(record.fidelity.score)),
        emotionText(record.emotion),
        memory.relevance_score.toFixed(3),
        h('span', { class: 'why' }, whyText(record.meta) || '–'),
        path,
      ];
    });
    replace(results, summary, table(['memory', 'store', 'fidelity', 'emotion', 'relevance', 'why', 'activation path'], rows, 'Recalled memories'));
  }

  const form = h(
    'form',
    { class: 'toolbar', role: 'search', 'aria-label': 'Recall' },
    field('Cue', text),
    h(
      'fieldset',
      {},
      h('legend', {}, 'Stores (none = all)'),
      STORES.map((store, index) => h('label', { class: 'check' }, storeBoxes[index]!, store)),
    ),
    field('Mode', mode),
    field('Limit', limit),
    h('label', { class: 'check' }, reconsolidate, 'reconsolidate'),
    h('button', { type: 'submit', class: 'primary' }, 'Recall'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  void search();
  return h('div', { class: 'view recall' }, h('h2', {}, 'Recall'), form, results);
}
