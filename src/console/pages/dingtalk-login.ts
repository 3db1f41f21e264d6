import type { Binding } from '../../domain/binding';
import type { HttpError } from '../../http/status';
import { html, type Html } from '../html';
import { csrfField, page, type View } from '../layout';

/** The "not bound" answer's second way: start a DingTalk login that binds the user who signs in. */
export function loginStartForm(v: View, userId: string): Html {
  return html`<form method="post" action="/bindings/dingtalk-login" class="bind-login">
    ${csrfField(v)}<input type="hidden" name="user_id" value="${userId}" />
    <p class="hint">${v.t('login.start.help')}</p>
    <p class="actions"><button type="submit">${v.t('login.start')}</button></p>
  </form>`;
}

/** The started login: the link to hand to the user, who signs in with DingTalk on their own device. */
export function loginStartedPage(
  v: View,
  s: { userId: string; authorizeUrl?: string; expiresAt?: number; problem?: HttpError },
): Html {
  const body = html`<h1>${v.t('login.started.title', { user: s.userId })}</h1>
    ${
      s.authorizeUrl
        ? html`<section class="panel" data-login="started">
            <p>${v.t('login.started.help', { user: s.userId })}</p>
            <p>
              <a href="${s.authorizeUrl}" class="authorize" rel="noopener noreferrer">${v.t('login.open')}</a>
            </p>
            <p class="hint">
              ${v.t('login.started.expires', { at: new Date(s.expiresAt ?? 0).toISOString().slice(0, 19).replace('T', ' ') })}
            </p>
          </section>`
        : ''
    }
    <p><a href="/bindings?user=${encodeURIComponent(s.userId)}">${v.t('login.back')}</a></p>`;
  return page(v, {
    title: v.t('login.started.title', { user: s.userId }),
    section: 'bindings',
    body,
    problem: s.problem,
  });
}

/** Where DingTalk sends the user back: the binding that was made, or why none was. */
export function loginDonePage(v: View, s: { binding?: Binding; problem?: HttpError }): Html {
  const body = s.binding
    ? html`<div class="result ok" role="status" data-status="bound">
        <h1>${v.t('login.done.title')}</h1>
        <p>${v.t('login.done.help', { user: s.binding.userId, dingtalk: s.binding.dingtalkUserId })}</p>
      </div>`
    : html`<h1>${v.t('login.failed.title')}</h1>`;
  return page(v, {
    title: v.t(s.binding ? 'login.done.title' : 'login.failed.title'),
    section: 'none',
    body,
    problem: s.problem,
  });
}
