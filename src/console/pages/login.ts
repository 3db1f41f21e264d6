import type { HttpError } from '../../http/status';
import { html, type Html } from '../html';
import { page, type View } from '../layout';

export interface LoginPageState {
  /** The sign-in form's own token (double-submitted with its cookie: there is no session yet). */
  formToken: string;
  /** Where to go once signed in: a path of the console. */
  next: string;
  /** The token was wrong (401). */
  wrong?: boolean;
  /** Too many failed sign-ins (429), a form from elsewhere (403). */
  problem?: HttpError;
  /** Signed out, or the session ended. */
  notice?: string;
}

/** Sign in with the admin token (ADMIN_TOKEN); nothing of the console is shown before. */
export function loginPage(v: View, s: LoginPageState): Html {
  const body = html`<section class="panel login">
    <h1>${v.t('login.title')}</h1>
    <p class="hint">${v.t('login.help')}</p>
    ${s.wrong ? html`<p class="banner problem" role="alert"><strong>${v.t('login.wrong')}</strong></p>` : ''}
    <form method="post" action="/login">
      <input type="hidden" name="form_token" value="${s.formToken}" />
      <input type="hidden" name="next" value="${s.next}" />
      <label
        >${v.t('login.token')}
        <input type="password" name="token" required autocomplete="current-password" autofocus
      /></label>
      <p class="actions"><button type="submit" class="primary">${v.t('login.submit')}</button></p>
    </form>
  </section>`;
  return page(v, { title: v.t('login.title'), section: 'none', body, notice: s.notice, problem: s.problem });
}
