import type { ScenarioPolicy } from '../../domain/policy';
import type { HttpError } from '../../http/status';
import type { TestScenarioOutput } from '../../verification/service';
import { html, type Html } from '../html';
import { csrfField, page, type View } from '../layout';
import { bindForm } from './bind-form';
import { loginStartForm } from './dingtalk-login';

export interface TestPageState {
  userId?: string;
  locale?: string;
  result?: TestScenarioOutput;
  problem?: HttpError;
  notice?: string;
  /** Show the bind form (after a failed bind from it); a "not bound" answer always does. */
  bind?: boolean;
}

function outcome(v: View, r: TestScenarioOutput): Html {
  const where = { user: r.dingtalkUserId, task: r.taskId };
  const reason = html`<p>
    ${v.t('test.reason')}
    <q>${r.detail || '–'}</q
    >${r.code ? html` <span class="code">(${v.t('test.code', { code: r.code })})</span>` : ''}
  </p>`;
  const inbox = v.sandboxInboxUrl
    ? html`<p>
        <a
          href="${v.sandboxInboxUrl}?user=${encodeURIComponent(r.dingtalkUserId)}"
          target="_blank"
          rel="noopener noreferrer"
          class="external"
          >${v.t('test.inbox')}</a
        >
      </p>`
    : '';
  switch (r.status) {
    case 'delivered':
      return html`<div class="result ok" role="status" data-status="delivered">
        <h2>${v.t('test.delivered')}</h2>
        <p>${v.t('test.delivered.help', where)}</p>
        ${inbox}
      </div>`;
    case 'dropped':
      return html`<div class="result bad" role="status" data-status="dropped">
        <h2>${v.t('test.dropped')}</h2>
        <p>${v.t('test.dropped.help', where)}</p>
        ${reason}
      </div>`;
    case 'failed':
      return html`<div class="result bad" role="status" data-status="failed">
        <h2>${v.t('test.failed')}</h2>
        <p>${v.t('test.failed.help', where)}</p>
        ${reason}
      </div>`;
    case 'pending':
      return html`<div class="result warn" role="status" data-status="pending">
        <h2>${v.t('test.pending')}</h2>
        <p>${v.t('test.pending.help', where)}</p>
        ${r.detail ? reason : ''}${inbox}
      </div>`;
  }
}

/** Test a scenario: send a test message (its code cannot sign anyone in) and show what DingTalk did. */
export function testPage(v: View, p: ScenarioPolicy, gatewayOn: boolean, s: TestPageState = {}): Html {
  const name = v.t(`scenario.${p.scenario}`);
  const off = !gatewayOn ? v.t('test.off.gateway') : !p.enabled ? v.t('test.off.scenario') : '';
  const notBound = s.problem?.kind === 'not_bound' || s.bind === true;
  const locales = Object.keys(p.templates);
  const body = html`<nav class="crumbs" aria-label="${v.t('crumbs.label')}">
      <a href="/settings">${v.t('settings.title')}</a> /
      <span aria-current="page">${v.t('test.crumb', { scenario: name })}</span>
    </nav>
    <h1>${v.t('test.title', { scenario: name })}</h1>
    ${off ? html`<p class="banner note" role="note">${off}</p>` : ''} ${s.result ? outcome(v, s.result) : ''}
    ${
      notBound
        ? html`<section class="panel" id="bind-now">
            <h2>${v.t('test.bind.title')}</h2>
            <p class="hint">${v.t('test.bind.help')}</p>
            ${bindForm(v, { userId: s.userId, then: `/test/${p.scenario}`, id: 'bind-form' })}
            ${s.userId ? loginStartForm(v, s.userId) : ''}
          </section>`
        : ''
    }
    <section class="panel">
      <p class="hint">${v.t('test.help')}</p>
      <form method="post" action="/test/${p.scenario}" class="test" data-busy="${v.t('busy.sending')}">
        ${csrfField(v)}
        <label
          >${v.t('field.user_id')}
          <input name="user_id" required autocomplete="off" spellcheck="false" value="${s.userId ?? ''}"
        /></label>
        <label
          >${v.t('field.locale')}
          <select name="locale">
            <option value="">${v.t('test.locale.auto')}</option>
            ${locales.map((l) => html`<option value="${l}" ${s.locale === l ? html` selected` : ''}>${l}</option>`)}
          </select></label
        >
        <p class="actions">
          <button type="submit" class="primary">
            ${v.t(s.result || s.problem ? 'action.test.again' : 'action.test.send')}
          </button>
        </p>
      </form>
    </section>`;
  return page(v, {
    title: v.t('test.title', { scenario: name }),
    section: 'settings',
    body,
    notice: s.notice,
    problem: s.problem,
  });
}
