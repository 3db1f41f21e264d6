import type { ScenarioActivity } from '../admin/activity';
import { html, type Html } from './html';
import type { View } from './layout';

const WIDTH = 1100;
const HEIGHT = 220;
const LEFT = 36;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 24;

/**
 * Codes sent per minute over the last hour, one stacked bar per minute and one colour per
 * scenario (classes s0…s4, coloured by the stylesheet: the CSP allows no inline style).
 * Drawn on the server as SVG, so it needs no script; each bar's <title> is its tooltip.
 */
export function sentChart(v: View, activity: readonly ScenarioActivity[]): Html {
  const minutes = activity[0]?.sentPerMinute.length ?? 0;
  const totals = Array.from({ length: minutes }, (_, m) =>
    activity.reduce((sum, a) => sum + (a.sentPerMinute[m] ?? 0), 0),
  );
  const peak = Math.max(1, ...totals);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const slot = minutes > 0 ? plotW / minutes : plotW;
  const barW = Math.max(1, slot - 2);
  const y = (value: number) => TOP + plotH - (value / peak) * plotH;

  const bars = totals.map((total, m) => {
    if (total === 0) return '';
    let base = 0;
    const x = (LEFT + m * slot + 1).toFixed(1);
    const parts = activity.map((a, i) => {
      const n = a.sentPerMinute[m] ?? 0;
      if (n === 0) return '';
      const top = y(base + n);
      const h = y(base) - top;
      base += n;
      return html`<rect
        class="s${i}"
        x="${x}"
        y="${top.toFixed(1)}"
        width="${barW.toFixed(1)}"
        height="${h.toFixed(1)}"
      ></rect>`;
    });
    const ago = minutes - 1 - m;
    const label = activity
      .filter((a) => (a.sentPerMinute[m] ?? 0) > 0)
      .map((a) => `${v.t(`scenario.${a.scenario}`)} ${a.sentPerMinute[m]}`)
      .join(', ');
    const when = ago === 0 ? v.t('chart.now') : v.t('chart.ago', { minutes: ago });
    return html`<g><title>${when}: ${label}</title>${parts}</g>`;
  });

  const xLabel = (m: number, text: string, anchor: string) =>
    html`<text x="${(LEFT + m * slot + slot / 2).toFixed(1)}" y="${HEIGHT - 6}" text-anchor="${anchor}"
      >${text}</text
    >`;
  const total = totals.reduce((a, b) => a + b, 0);
  return html`<figure class="chart">
    <svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-label="${v.t('chart.label', { total })}"
      xmlns="http://www.w3.org/2000/svg"
    >
      <line class="axis" x1="${LEFT}" y1="${TOP + plotH}" x2="${WIDTH - RIGHT}" y2="${TOP + plotH}"></line>
      <line class="grid" x1="${LEFT}" y1="${TOP}" x2="${WIDTH - RIGHT}" y2="${TOP}"></line>
      <text x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${peak}</text>
      <text x="${LEFT - 6}" y="${TOP + plotH + 4}" text-anchor="end">0</text>
      ${bars}
      ${total === 0 ? html`<text class="empty" x="${LEFT + plotW / 2}" y="${TOP + plotH / 2}" text-anchor="middle">${v.t('chart.empty')}</text>` : ''}
      ${minutes > 0 ? [xLabel(0, v.t('chart.ago', { minutes: minutes - 1 }), 'start'), xLabel(Math.floor(minutes / 2), v.t('chart.ago', { minutes: minutes - 1 - Math.floor(minutes / 2) }), 'middle'), xLabel(minutes - 1, v.t('chart.now'), 'end')] : ''}
    </svg>
    <figcaption>
      ${v.t('chart.caption')}
      <ul class="legend">
        ${activity.map((a, i) => html`<li><span class="swatch s${i}"></span>${v.t(`scenario.${a.scenario}`)}</li>`)}
      </ul>
    </figcaption>
  </figure>`;
}
