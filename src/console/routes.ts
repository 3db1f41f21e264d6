import { notFound, permissionDenied } from '../domain/errors';
import { isScenarioName, type ScenarioName } from '../domain/scenario';
import { createActions } from './actions';
import type { Html } from './html';
import { signInFirstPage } from './pages/error';
import { overviewPage } from './pages/overview';
import { settingsPage } from './pages/settings';
import { templatesPage } from './pages/templates';
import {
  fromElsewhere,
  noticeOf,
  redirect,
  type ConsoleRequest,
  type Reply,
  type RouteDeps,
} from './request';
import { csrfMatches } from './session';
import { createSignIn } from './signin-routes';

type Handler = (req: ConsoleRequest, scenario: ScenarioName) => Promise<Reply> | Reply;

/** The route table: which pages need a session, and every change a CSRF token. */
export function createRoutes(deps: RouteDeps) {
  const { admin } = deps;
  const signIn = createSignIn(deps);
  const actions = createActions(deps);
  const html = (body: Html, status = 200): Reply => ({ status, body });
  const policy = (s: ScenarioName) => admin.view().scenarios.find((p) => p.scenario === s)!;

  const pages: Record<string, Handler> = {
    'GET /': (r) => html(overviewPage(r.view, admin.overview())),
    'GET /settings': (r) => html(settingsPage(r.view, admin.view(), { notice: noticeOf(r.view, r.url) })),
    'POST /settings': (r) => actions.change(r, (c, state) => settingsPage(r.view, c, state)),
    'GET /settings/scenarios/:s': (r, s) =>
      html(templatesPage(r.view, admin.view(), policy(s), { notice: noticeOf(r.view, r.url) })),
    'POST /settings/scenarios/:s': (r, s) =>
      actions.change(r, (c, state) =>
        templatesPage(
          r.view,
          c,
          c.scenarios.find((p) => p.scenario === s)!,
          state,
        ),
      ),
    'GET /test/:s': (r, s) => actions.testForm(r, s),
    'POST /test/:s': (r, s) => actions.test(r, s),
    'GET /bindings': (r) => actions.lookup(r),
    'POST /bindings': (r) => actions.bind(r),
    'POST /bindings/unbind': (r) => actions.unbind(r),
    'POST /bindings/dingtalk-login': (r) => actions.startLogin(r),
    'POST /logout': (r) => signIn.signOut(r),
  };
  const open: Record<string, Handler> = {
    'GET /login': (r) => signIn.form(r),
    'POST /login': (r) => signIn.signIn(r),
    'GET /lang/:lang': (r) => signIn.language(r),
    // DingTalk sends the user who signed in here; they have no console session. The state,
    // single-use and bound to the user the administrator named, is what authorises it.
    'GET /dingtalk/callback': (r) => actions.completeLogin(r),
  };

  /** The route key of a path: a scenario (or language) segment becomes its placeholder. */
  const keyOf = (method: string, path: string): { key: string; scenario?: ScenarioName } => {
    const m = /^\/(settings\/scenarios|test)\/([a-z_]+)$/.exec(path);
    if (m && isScenarioName(m[2])) return { key: `${method} /${m[1]}/:s`, scenario: m[2] };
    if (/^\/lang\/[A-Za-z-]+$/.test(path)) return { key: `${method} /lang/:lang` };
    return { key: `${method} ${path}` };
  };

  return {
    async dispatch(req: ConsoleRequest): Promise<Reply> {
      const { key, scenario } = keyOf(req.method, req.url.pathname);
      const openRoute = open[key];
      if (openRoute) {
        if (req.method === 'POST' && fromElsewhere(req))
          throw permissionDenied('the form came from another site; nothing was changed');
        return openRoute(req, scenario!);
      }
      const route = pages[key];
      const sessionId = req.cookies.get(signIn.cookieName);
      req.session = deps.sessions.get(sessionId);
      if (!req.session) {
        if (req.method !== 'GET') return html(signInFirstPage(req.view), 401);
        const next = encodeURIComponent(req.url.pathname + req.url.search);
        return redirect(`/login?next=${next}${sessionId ? '&notice=expired' : ''}`);
      }
      req.view.csrf = req.session.csrf;
      if (!route) throw notFound(`there is no page ${req.url.pathname}`);
      if (req.method === 'POST') {
        if (fromElsewhere(req))
          throw permissionDenied('the form came from another site; nothing was changed');
        if (!csrfMatches(req.session, req.form.get('csrf')))
          throw permissionDenied(
            'the form lacks its security token or it is out of date: reload the page and try again; nothing was changed',
          );
      }
      return route(req, scenario!);
    },
  };
}
