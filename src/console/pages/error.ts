import type { HttpError } from '../../http/status';
import { html, type Html } from '../html';
import { page, type View } from '../layout';

/** A page that is only its problem (no such page, a form from elsewhere), with a way back. */
export function errorPage(v: View, problem: HttpError): Html {
  const body = html`<p><a href="/">${v.t('error.back')}</a></p>`;
  return page(v, { title: v.t('error.title', { status: problem.status }), section: 'none', body, problem });
}

/** Answer to a change made without a session (401): sign in first. */
export function signInFirstPage(v: View): Html {
  const body = html`<h1>${v.t('auth.required')}</h1>
    <p><a href="/login">${v.t('login.submit')}</a></p>`;
  return page(v, { title: v.t('auth.required'), section: 'none', body });
}
