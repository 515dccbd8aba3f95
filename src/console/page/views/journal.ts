import type { ViewContext } from '../context.js';
import { recordHref } from '../context.js';
import { field, h, replace } from '../dom.js';
import { contentText, when } from '../format.js';
import type { RawQueryResponse, RawRecord, StatsResponse } from '../types.js';
import { errorText } from './common.js';

// The raw journal (recall.raw_query, spec §3.7): sessions and their turns verbatim, and whether a
// dream has digested each turn yet (its derived memories link to the curated records).

export function journalView({ api, notify }: ViewContext): HTMLElement {
  const session = h('input', { id: 'journal-session', placeholder: 'all sessions', autocomplete: 'off' });
  const query = h('input', { type: 'search', id: 'journal-query', placeholder: 'words in the turns', autocomplete: 'off' });
  const limit = h('input', { type: 'number', id: 'journal-limit', min: 1, max: 1000, value: 100 });
  const scratch = h('input', { type: 'checkbox' });
  const sealed = h('input', { type: 'checkbox' });
  const dream = h('p', { id: 'dream-status', class: 'muted' });
  const body = h('div', { id: 'journal' });

  async function load(): Promise<void> {
    replace(body, h('progress', { 'aria-label': 'Loading the journal' }));
    try {
      const [answer, stats] = await Promise.all([
        api.send<RawQueryResponse>('POST', '/v1/recall/raw', {
          session_id: session.value.trim() || null,
          query: query.value.trim() || null,
          limit: Math.max(1, Number(limit.value) || 100),
          include_private_scratch: scratch.checked,
          include_sealed: sealed.checked,
        }),
        api.get<StatsResponse>('/v1/introspect/stats'),
      ]);
      dream.textContent = `Dream: ${stats.raw_journal_pending_dream} of ${stats.raw_journal_records} turns waiting · ${stats.dream_episodic_summaries} episodic summaries and ${stats.dream_semantic_nodes} semantic nodes made so far · background dream ${stats.background_dream_enabled ? 'on' : 'off'}`;
      const sessions = new Map<string, RawRecord[]>();
      for (const record of answer.records) {
        const turns = sessions.get(record.session_id) ?? [];
        turns.push(record);
        sessions.set(record.session_id, turns);
      }
      replace(
        body,
        h('p', { class: 'muted' }, `${answer.records.length} of ${answer.total_candidates} turns in ${sessions.size} sessions`),
        sessions.size === 0 ? h('p', { class: 'empty' }, 'No turns.') : null,
        [...sessions].map(([id, turns]) =>
          h(
            'section',
            { class: 'session' },
            h('h3', {}, `Session ${id}`),
            h(
              'ol',
              {},
              turns
                .sort((a, b) => a.created_at.localeCompare(b.created_at))
                .map((turn) =>
                  h(
                    'li',
                    { class: `turn ${turn.speaker}` },
                    h(
                      'div',
                      { class: 'turn-head' },
                      h('strong', {}, turn.speaker),
                      ` · ${turn.source} · ${when(turn.created_at)}`,
                      turn.visibility !== 'normal' ? ` · ${turn.visibility}` : '',
                      turn.secrecy_level !== 'public' ? ` · ${turn.secrecy_level}` : '',
                      turn.derived_memory_ids.length > 0
                        ? [' · dreamt into ', turn.derived_memory_ids.map((derived, index) => [index > 0 ? ', ' : '', h('a', { href: recordHref(derived) }, derived.slice(-6))])]
                        : ' · not dreamt yet',
                    ),
                    h('pre', {}, contentText(turn.content)),
                  ),
                ),
            ),
          ),
        ),
      );
    } catch (error) {
      replace(body);
      notify(errorText(error), 'error');
    }
  }

  const form = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Raw journal' },
    field('Session', session),
    field('Search', query),
    field('Limit', limit),
    h('label', { class: 'check' }, scratch, 'private scratch'),
    h('label', { class: 'check' }, sealed, 'sealed'),
    h('button', { type: 'submit', class: 'primary' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  void load();
  return h('div', { class: 'view journal-view' }, h('h2', {}, 'Raw journal'), form, dream, body);
}
