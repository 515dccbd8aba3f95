import uPlot from 'uplot';
import type { ViewContext } from '../context.js';
import { recordHref } from '../context.js';
import { field, h, replace } from '../dom.js';
import { contentText, EMOTIONS, fidelity, short, STORE_COLORS, STORES, when } from '../format.js';
import type { StatsResponse, TimelineResponse } from '../types.js';
import { errorText, storeBadge } from './common.js';

// The timeline (recall.timeline, spec §3.9): memories per bucket per store. Drag across the chart to
// zoom in, double-click to zoom out; the buckets below list what each holds.

const GRANULARITIES = ['minute', 'hour', 'day', 'week', 'month'] as const;

/** `<input type="datetime-local">` value in local time. */
function localInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

export function timelineView({ api, notify }: ViewContext): HTMLElement {
  const from = h('input', { type: 'datetime-local', id: 'timeline-from' });
  const to = h('input', { type: 'datetime-local', id: 'timeline-to' });
  const granularity = h(
    'select',
    { id: 'granularity' },
    GRANULARITIES.map((g) => h('option', { value: g }, g)),
  );
  granularity.value = 'hour';
  const minFidelity = h('input', { type: 'number', id: 'timeline-min-fidelity', min: 0, max: 1, step: 0.05, placeholder: 'any' });
  const emotion = h(
    'select',
    { id: 'timeline-emotion' },
    h('option', { value: '' }, 'any'),
    EMOTIONS.map((name) => h('option', { value: name }, name)),
  );
  const chart = h('div', { id: 'timeline-chart', class: 'chart' });
  const buckets = h('div', { id: 'timeline-buckets' });
  let plot: uPlot | undefined;

  async function load(): Promise<void> {
    const start = new Date(from.value).getTime();
    const end = new Date(to.value).getTime();
    if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) {
      notify('The range needs a start before its end.', 'error');
      return;
    }
    replace(buckets, h('progress', { 'aria-label': 'Loading the timeline' }));
    let answer: TimelineResponse;
    try {
      answer = await api.send<TimelineResponse>('POST', '/v1/recall/timeline', {
        range: { start: new Date(start).toISOString(), end: new Date(end).toISOString() },
        granularity: granularity.value,
        min_fidelity: minFidelity.value === '' ? null : Number(minFidelity.value),
        emotion_filter: emotion.value === '' ? null : emotion.value,
      });
    } catch (error) {
      replace(buckets);
      notify(errorText(error), 'error');
      return;
    }
    const xs = answer.buckets.map((bucket) => Date.parse(bucket.start) / 1000);
    const perStore = STORES.map((store) => answer.buckets.map((bucket) => bucket.memories.filter((memory) => memory.record.store === store).length));
    plot?.destroy();
    replace(chart);
    if (answer.buckets.length > 0) {
      plot = new uPlot(
        {
          width: Math.max(320, Math.min(1100, (chart.parentElement?.clientWidth ?? 900) - 16)),
          height: 240,
          scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
          axes: [{}, { label: 'memories' }],
          series: [{}, ...STORES.map((store) => ({ label: store, stroke: STORE_COLORS[store], width: 2, points: { show: true, size: 6 } }))],
          cursor: { drag: { x: true, y: false } },
        },
        [xs, ...perStore],
        chart,
      );
    }
    replace(
      buckets,
      h('p', { class: 'muted' }, `${answer.buckets.length} buckets, ${answer.buckets.reduce((sum, b) => sum + b.count, 0)} memories`),
      answer.buckets.length === 0 ? h('p', { class: 'empty' }, 'No memories in this range.') : null,
      answer.buckets.map((bucket) =>
        h(
          'details',
          { class: 'bucket' },
          h('summary', {}, `${when(bucket.start)} — ${bucket.count} memories`),
          h(
            'ul',
            {},
            bucket.memories.map((memory) =>
              h(
                'li',
                {},
                storeBadge(memory.record.store),
                ' ',
                h('a', { href: recordHref(memory.record.id) }, short(contentText(memory.record.content), 100)),
                ` · fidelity ${fidelity(memory.record.fidelity.score)}`,
              ),
            ),
          ),
        ),
      ),
    );
  }

  const form = h(
    'form',
    { class: 'toolbar', 'aria-label': 'Timeline' },
    field('From', from),
    field('To', to),
    field('Bucket', granularity),
    field('Min fidelity', minFidelity),
    field('Emotion', emotion),
    h('button', { type: 'submit', class: 'primary' }, 'Show'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  // The range starts as the space's whole life (oldest to newest record, from introspect.stats).
  void (async () => {
    const now = Date.now();
    let start = now - 7 * 86_400_000;
    try {
      const stats = await api.get<StatsResponse>('/v1/introspect/stats');
      if (stats.oldest_record) start = Math.min(start, Date.parse(stats.oldest_record) - 3_600_000);
    } catch {
      // the timeline call will report the problem
    }
    from.value = localInput(start);
    to.value = localInput(now + 3_600_000);
    await load();
  })();
  return h('div', { class: 'view timeline-view' }, h('h2', {}, 'Timeline'), form, chart, buckets);
}
