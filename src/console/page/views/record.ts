import uPlot from 'uplot';
import type { ViewContext } from '../context.js';
import { graphHref, recordHref } from '../context.js';
import { confirmDialog, field, h, replace } from '../dom.js';
import { contentText, emotionText, fidelity, short, when } from '../format.js';
import type { EvolutionResponse, ForecastResponse, MemoryRecord } from '../types.js';
import { definitionList, errorText, storeBadge, table, withProgress } from './common.js';

// One record: content, meta-memory, associations (click through), version, and its decay curve:
// fidelity from the last reinforcement to the prune threshold, sampled from introspect.decay_forecast
// (spec §3.20) so the curve is the server's own closed form, with the recall events marked.

/** Points of the curve; each is one decay_forecast call (it takes one forecast_at). */
const CURVE_POINTS = 24;
/** When the curve never reaches the threshold within the forecast horizon, draw this far past now. */
const FALLBACK_SPAN_MS = 365 * 86_400_000;

export function recordView({ api, params, notify, navigate }: ViewContext): HTMLElement {
  const idInput = h('input', { id: 'record-id', value: params[0] ?? '', size: 40, spellcheck: 'false', autocomplete: 'off', placeholder: 'record id (UUID)' });
  const form = h('form', { class: 'toolbar', 'aria-label': 'Open a record' }, field('Record id', idInput), h('button', { type: 'submit' }, 'Open'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (idInput.value.trim() !== '') navigate(recordHref(idInput.value.trim()));
  });
  const body = h('div', { id: 'record' });
  const id = params[0];
  if (id) void load(id);
  else replace(body, h('p', { class: 'empty' }, 'Open a record from Recall, Timeline or Graph, or paste its id.'));

  async function load(recordId: string): Promise<void> {
    replace(body, h('progress', { 'aria-label': 'Loading' }));
    let record: MemoryRecord;
    try {
      record = await api.get<MemoryRecord>(`/v1/introspect/record/${encodeURIComponent(recordId)}`, { include_associations: 'true', include_versions: 'true' });
    } catch (error) {
      replace(body, h('p', { class: 'error' }, errorText(error)));
      return;
    }
    const curve = h('figure', { id: 'decay-curve', class: 'chart' }, h('figcaption', {}, 'Decay curve'), h('progress', { 'aria-label': 'Loading the decay curve' }));
    const forget = h('button', { type: 'button', class: 'danger' }, 'Forget this record');
    forget.addEventListener('click', async () => {
      if (!(await confirmDialog(`Forget record ${record.id}? This deletes it for good.`, 'Forget'))) return;
      const done = await withProgress(
        forget,
        () => api.send<{ records_deleted: number }>('DELETE', '/v1/lifecycle/forget', { record_ids: [record.id], confirm: true }),
        (m) => notify(m, 'error'),
      );
      if (done) {
        notify(`Forgot ${done.records_deleted} record(s).`);
        navigate('#/recall');
      }
    });
    const f = record.fidelity;
    const meta = record.meta;
    replace(
      body,
      h(
        'article',
        { class: 'record', 'data-record': record.id },
        h('header', {}, storeBadge(record.store), h('h3', {}, short(contentText(record.content), 140) || '(no text)')),
        h('pre', { class: 'content' }, contentText(record.content)),
        h(
          'div',
          { class: 'columns' },
          h(
            'section',
            {},
            h('h4', {}, 'Record'),
            definitionList([
              ['id', h('code', {}, record.id)],
              ['version', String(record.version)],
              ['created', when(record.created_at)],
              ['updated', when(record.updated_at)],
              ['last recalled', when(record.last_accessed_at)],
              ['recalls', String(record.access_count)],
              ['emotion', emotionText(record.emotion)],
            ]),
          ),
          h(
            'section',
            {},
            h('h4', {}, 'Fidelity'),
            definitionList([
              ['fidelity', h('span', { id: 'record-fidelity' }, fidelity(f.score))],
              ['noise', fidelity(f.noise_level)],
              ['decay exponent', String(f.decay_rate)],
              ['stability', `${(f.stability / 86_400).toFixed(2)} days`],
              ['reinforcements', String(f.reinforcement_count)],
              ['last reinforcement', when(f.anchor_at ?? f.last_decay_tick)],
              ['last decay tick', when(f.last_decay_tick)],
            ]),
          ),
          h(
            'section',
            {},
            h('h4', {}, 'Meta-memory (why)'),
            definitionList([
              ['capture', meta.capture_status],
              ['intent', meta.intent],
              ['rationale', meta.rationale],
              ['decision', meta.decision],
              ['trigger', meta.trigger],
              ['goals', meta.goals?.join(', ')],
              ['assumptions', meta.assumptions?.join(', ')],
              ['alternatives', meta.alternatives?.map((a) => `${a.chosen ? '✓ ' : ''}${a.option}`).join(', ')],
              ['confidence', meta.confidence === null || meta.confidence === undefined ? null : meta.confidence.toFixed(2)],
              ['tags', meta.tags?.join(', ')],
            ]),
          ),
        ),
        curve,
        h(
          'section',
          {},
          h('h4', {}, `Associations (${record.associations.length})`),
          record.associations.length === 0
            ? h('p', { class: 'empty' }, 'No associations.')
            : table(
                ['record', 'type', 'weight', 'last co-activation'],
                record.associations.map((association) => [
                  h('a', { href: recordHref(association.target_id), class: 'association' }, association.target_id),
                  association.association_type,
                  association.weight.toFixed(2),
                  when(association.last_co_activation),
                ]),
                'Associations',
              ),
        ),
        record.metadata !== null && record.metadata !== undefined && JSON.stringify(record.metadata) !== '{}'
          ? h('section', {}, h('h4', {}, 'Metadata'), h('pre', {}, JSON.stringify(record.metadata, null, 2)))
          : null,
        h('div', { class: 'row' }, h('a', { href: graphHref(record.id), class: 'button' }, 'Show in the graph'), forget),
      ),
    );
    try {
      await drawCurve(curve, record);
    } catch (error) {
      replace(curve, h('figcaption', {}, 'Decay curve'), h('p', { class: 'error' }, errorText(error)));
    }
  }

  async function drawCurve(figure: HTMLElement, record: MemoryRecord): Promise<void> {
    const anchorMs = Date.parse(record.fidelity.anchor_at ?? record.fidelity.last_decay_tick);
    const nowMs = Date.now();
    const evolution = await api.get<EvolutionResponse>('/v1/introspect/evolution');
    const threshold = evolution.current_parameters[record.store]?.prune_threshold ?? 0;
    const forecastAt = (ms: number) => api.send<ForecastResponse>('POST', '/v1/introspect/decay-forecast', { record_ids: [record.id], forecast_at: new Date(ms).toISOString() });
    const horizon = (await forecastAt(nowMs)).forecasts[0]!;
    const thresholdMs = horizon.estimated_threshold_date === null ? null : Date.parse(horizon.estimated_threshold_date);
    const endMs = thresholdMs ?? Math.max(nowMs, anchorMs) + FALLBACK_SPAN_MS;
    // Power-law decay falls fastest right after the anchor: sample densely there (quadratic spacing).
    const times = Array.from({ length: CURVE_POINTS + 1 }, (_, i) => anchorMs + (endMs - anchorMs) * (i / CURVE_POINTS) ** 2);
    const values: number[] = [];
    for (let i = 0; i < times.length; i += 6) {
      const batch = await Promise.all(times.slice(i, i + 6).map((ms) => forecastAt(ms)));
      values.push(...batch.map((answer) => answer.forecasts[0]!.forecasted_fidelity));
    }
    const xs = times.map((ms) => ms / 1000);
    const events: { at: number; label: string; color: string }[] = [
      { at: Date.parse(record.created_at), label: 'encoded', color: '#2a9d5c' },
      { at: anchorMs, label: 'last reinforcement', color: '#b7791f' },
      ...(record.access_count > 0 ? [{ at: Date.parse(record.last_accessed_at), label: 'last recall', color: '#d53f8c' }] : []),
      { at: nowMs, label: 'now', color: '#555' },
    ].filter((event) => Number.isFinite(event.at) && event.at >= anchorMs - 1 && event.at <= endMs + 1);
    const width = Math.max(320, Math.min(900, (figure.parentElement?.clientWidth ?? 800) - 16));
    const chart = h('div', { class: 'plot', 'aria-hidden': 'true' });
    replace(
      figure,
      h(
        'figcaption',
        {},
        `Decay curve: ${fidelity(values[0])} at the last reinforcement → prune threshold ${threshold}`,
        thresholdMs === null ? ' (not reached within the forecast horizon)' : ` on ${when(horizon.estimated_threshold_date)}`,
      ),
      chart,
      h(
        'p',
        { class: 'legend-events' },
        events.map((event) => h('span', { style: `--event: ${event.color}` }, `${event.label}: ${when(new Date(event.at).toISOString())}`)),
      ),
    );
    new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: true }, y: { range: [0, 1.05] } },
        axes: [{}, { label: 'fidelity' }],
        legend: { live: false },
        series: [
          {},
          { label: 'fidelity', stroke: '#2f6fdf', width: 2, fill: 'rgba(47, 111, 223, 0.12)' },
          { label: 'prune threshold', stroke: '#c53030', dash: [6, 4], width: 1, points: { show: false } },
        ],
        hooks: {
          draw: [
            (plot) => {
              const { ctx } = plot;
              const { top, height } = plot.bbox;
              ctx.save();
              ctx.lineWidth = 1.5 * devicePixelRatio;
              ctx.font = `${11 * devicePixelRatio}px sans-serif`;
              // uPlot leaves the context as its last axis used it (right-aligned, middle baseline).
              ctx.textAlign = 'left';
              ctx.textBaseline = 'alphabetic';
              const right = plot.bbox.left + plot.bbox.width;
              events.forEach((event, index) => {
                const x = plot.valToPos(event.at / 1000, 'x', true);
                ctx.strokeStyle = event.color;
                ctx.fillStyle = event.color;
                ctx.beginPath();
                ctx.moveTo(x, top);
                ctx.lineTo(x, top + height);
                ctx.stroke();
                // Events are often seconds apart: one label line each, so they never overlap.
                const width = ctx.measureText(event.label).width;
                const labelX = x + 4 * devicePixelRatio + width > right ? x - 4 * devicePixelRatio - width : x + 4 * devicePixelRatio;
                ctx.fillText(event.label, labelX, top + (14 + 13 * index) * devicePixelRatio + height * 0.25);
              });
              ctx.restore();
            },
          ],
        },
      },
      [xs, values, xs.map(() => threshold)],
      chart,
    );
    figure.dataset.drawn = 'true';
  }

  return h('div', { class: 'view record-view' }, h('h2', {}, 'Record'), form, body);
}
