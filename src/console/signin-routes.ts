import { permissionDenied } from '../domain/errors';
import { isLang } from './i18n';
import { loginPage } from './pages/login';
import { localPath, noticeOf, redirect, type ConsoleRequest, type Reply, type RouteDeps } from './request';
import { cookie, sameSecret } from './session';

const LOGIN_FORM_SECONDS = 3600;
const LANG_SECONDS = 365 * 86_400;

/**
 * Signing in and out, and the language switch. The sign-in form has no session to bind a
 * CSRF token to, so it carries its own: the same random value in a hidden field and in a
 * short-lived SameSite=Strict cookie (a page elsewhere can set neither). A new session id is
 * issued at every sign-in, never taken from the browser.
 */
export function createSignIn(deps: RouteDeps) {
  const { sessions, guard, secure, logger } = deps;
  // Under TLS the __Host- prefix makes the browser refuse the cookie from plain HTTP or another path.
  const cookieName = secure ? '__Host-dtg-session' : 'dtg-session';
  const loginCookie = secure ? '__Host-dtg-login' : 'dtg-login';
  const t = (req: ConsoleRequest) => req.view.t;

  const form = (
    req: ConsoleRequest,
    status: number,
    state: Partial<Parameters<typeof loginPage>[1]>,
  ): Reply => {
    const formToken = deps.random(16).toString('base64url');
    const next = localPath(state.next ?? req.url.searchParams.get('next'));
    return {
      status,
      headers: {
        'set-cookie': cookie(loginCookie, formToken, { secure, maxAgeSeconds: LOGIN_FORM_SECONDS }),
        ...state.problem?.headers,
      },
      body: loginPage(req.view, { ...state, formToken, next }),
    };
  };

  return {
    cookieName,

    form(req: ConsoleRequest): Reply {
      if (sessions.get(req.cookies.get(cookieName)))
        return redirect(localPath(req.url.searchParams.get('next')));
      const notice =
        req.url.searchParams.get('notice') === 'expired'
          ? t(req)('notice.expired')
          : req.url.searchParams.get('notice') === 'signedout'
            ? t(req)('notice.signedout')
            : noticeOf(req.view, req.url);
      return form(req, 200, { notice });
    },

    signIn(req: ConsoleRequest): Reply {
      const next = localPath(req.form.get('next'));
      const presentedForm = req.form.get('form_token') ?? '';
      const expected = req.cookies.get(loginCookie) ?? '';
      if (presentedForm === '' || expected === '' || !sameSecret(presentedForm, expected)) {
        const problem = deps.fail(permissionDenied('the sign-in form expired: sign in again'));
        return form(req, problem.status, { next, problem });
      }
      let ok: boolean;
      try {
        ok = guard.check(req.ip, req.form.get('token') ?? '');
      } catch (e) {
        const problem = deps.fail(e);
        logger.warn({ console: 'signin', ip: req.ip, refused: problem.kind }, 'console sign-in refused');
        return form(req, problem.status, { next, problem });
      }
      if (!ok) {
        logger.warn({ console: 'signin', ip: req.ip }, 'console sign-in with a wrong admin token');
        return form(req, 401, { next, wrong: true });
      }
      const { id } = sessions.create();
      logger.info({ audit: 'console.signin', ip: req.ip }, 'console.signin');
      return redirect(next, {
        'set-cookie': [
          cookie(cookieName, id, { secure, maxAgeSeconds: sessions.maxAgeSeconds }),
          cookie(loginCookie, '', { secure, maxAgeSeconds: 0 }),
        ],
      });
    },

    signOut(req: ConsoleRequest): Reply {
      sessions.destroy(req.cookies.get(cookieName));
      logger.info({ audit: 'console.signout', ip: req.ip }, 'console.signout');
      return redirect('/login?notice=signedout', {
        'set-cookie': cookie(cookieName, '', { secure, maxAgeSeconds: 0 }),
      });
    },

    /** GET /lang/<lang>?back=<path>: remembers the choice in a cookie and goes back. */
    language(req: ConsoleRequest): Reply {
      const lang = req.url.pathname.slice('/lang/'.length);
      const back = localPath(req.url.searchParams.get('back'));
      if (!isLang(lang)) return redirect(back);
      return redirect(back, {
        'set-cookie': cookie('lang', lang, { secure, maxAgeSeconds: LANG_SECONDS }),
      });
    },
  };
}
