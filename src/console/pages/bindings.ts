import type { Binding } from '../../domain/binding';
import type { HttpError } from '../../http/status';
import { html, type Html } from '../html';
import { formatTime } from '../i18n';
import { csrfField, page, type View } from '../layout';
import { bindForm } from './bind-form';

export interface BindingsPageState {
  /** The user looked up. */
  userId?: string;
  binding?: Binding;
  notice?: string;
  problem?: HttpError;
}

function found(v: View, b: Binding): Html {
  return html`<div class="result ok" data-binding="${b.userId}">
    <h2>${v.t('bindings.found', { user: b.userId })}</h2>
    <dl>
      <dt>${v.t('bindings.dingtalk_user_id')}</dt>
      <dd><code>${b.dingtalkUserId}</code></dd>
      <dt>${v.t('bindings.source')}</dt>
      <dd>${v.t(`bind.kind.${b.source}`)}</dd>
      <dt>${v.t('bindings.bound_at')}</dt>
      <dd>${formatTime(b.boundAt)}</dd>
    </dl>
    <form method="post" action="/bindings/unbind" data-confirm="${v.t('unbind.confirm', { user: b.userId })}">
      ${csrfField(v)}<input type="hidden" name="user_id" value="${b.userId}" />
      <button type="submit" class="danger">${v.t('action.unbind')}</button>
    </form>
  </div>`;
}

/** Bindings: look a user up, bind one by mobile, DingTalk userid or unionid, unbind. */
export function bindingsPage(v: View, s: BindingsPageState = {}): Html {
  const body = html`<h1>${v.t('bindings.title')}</h1>
    <section class="panel">
      <h2>${v.t('bindings.lookup')}</h2>
      <form method="get" action="/bindings" class="lookup">
        <label
          >${v.t('field.user_id')}
          <input name="user" value="${s.userId ?? ''}" required autocomplete="off" spellcheck="false"
        /></label>
        <button type="submit">${v.t('action.lookup')}</button>
      </form>
      ${s.binding ? found(v, s.binding) : ''}
    </section>
    <section class="panel">
      <h2>${v.t('bindings.bind')}</h2>
      ${bindForm(v, { id: 'bind-form', prefill: s.binding ? undefined : s.userId })}
    </section>`;
  return page(v, {
    title: v.t('bindings.title'),
    section: 'bindings',
    body,
    notice: s.notice,
    problem: s.problem,
  });
}
