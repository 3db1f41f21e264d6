import type { Overview } from '../../admin/service';
import { ACTIVITY_KINDS } from '../../admin/activity';
import { sentChart } from '../chart';
import { html, type Html } from '../html';
import { formatPercent } from '../i18n';
import { page, type View } from '../layout';

/** The landing page: is the gateway healthy, and what did each scenario do in the last hour. */
export function overviewPage(v: View, o: Overview): Html {
  const circuit = o.dingtalkCircuit === 'closed' ? 'ok' : o.dingtalkCircuit === 'open' ? 'bad' : 'warn';
  const rows = o.activity.map(
    (a) =>
      html`<tr>
        <th scope="row">${v.t(`scenario.${a.scenario}`)} <code>${a.scenario}</code></th>
        ${ACTIVITY_KINDS.map((k) => html`<td class="num">${a.counts[k]}</td>`)}
        <td class="num">${formatPercent(a.conversion)}</td>
      </tr>`,
  );
  const body = html`<h1>${v.t('overview.title')}</h1>
    <section class="cards">
      <div class="card">
        <h2>${v.t('overview.mode')}</h2>
        <p class="big">${v.t(o.mode === 'live' ? 'mode.live' : 'mode.sandbox')}</p>
        <p class="hint">${v.t(o.mode === 'live' ? 'mode.live.help' : 'mode.sandbox.help')}</p>
        ${v.sandboxInboxUrl ? html`<p><a href="${v.sandboxInboxUrl}" target="_blank" rel="noopener noreferrer" class="external">${v.t('overview.inbox')}</a></p>` : ''}
      </div>
      <div class="card">
        <h2>${v.t('overview.store')}</h2>
        <p class="big"><span class="dot ${o.storeUp ? 'ok' : 'bad'}"></span>${o.storeKind}</p>
        <p class="hint">${v.t(o.storeUp ? 'overview.store.up' : 'overview.store.down')}</p>
      </div>
      <div class="card">
        <h2>${v.t('overview.circuit')}</h2>
        <p class="big"><span class="dot ${circuit}"></span>${v.t(`circuit.${circuit}`)}</p>
        <p class="hint">${v.t(`circuit.${circuit}.help`)}</p>
      </div>
    </section>
    <section class="panel">
      <h2>${v.t('overview.activity')}</h2>
      <p class="hint">${v.t('overview.activity.help')}</p>
      <table class="grid">
        <thead>
          <tr>
            <th scope="col">${v.t('col.scenario')}</th>
            ${ACTIVITY_KINDS.map((k) => html`<th scope="col" class="num">${v.t(`activity.${k}`)}</th>`)}
            <th scope="col" class="num">${v.t('activity.conversion')}</th>
          </tr>
        </thead>
        <tbody>
          ${rows}
        </tbody>
      </table>
      ${sentChart(v, o.activity)}
    </section>`;
  return page(v, { title: v.t('overview.title'), section: 'overview', body });
}
