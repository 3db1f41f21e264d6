import type { ConfigView } from '../admin/service';
import { invalidArgument } from '../domain/errors';
import { isScenarioName, type ScenarioName } from '../domain/scenario';
import type { HttpError } from '../http/status';
import type { BindTarget } from '../verification/binding';
import { formToChange, formVersion, isEmptyChange, withEntered } from './form';
import type { Html } from './html';
import { bindingsPage } from './pages/bindings';
import { loginDonePage, loginStartedPage } from './pages/dingtalk-login';
import { testPage, type TestPageState } from './pages/test';
import { localPath, noticeOf, redirect, type ConsoleRequest, type Reply, type RouteDeps } from './request';

const BIND_KINDS: ReadonlyArray<BindTarget['kind']> = ['mobile', 'dingtalk_user_id', 'union_id'];

/** Where a bind may send the browser afterwards: the Test page it came from, or Bindings. */
const TEST_PATH = /^\/test\/([a-z_]+)$/;

const withQuery = (path: string, query: Record<string, string>): string =>
  `${path}?${new URLSearchParams(query).toString()}`;

/** What the console's forms do: each calls one service method, then redirects or re-renders. */
export function createActions(deps: RouteDeps) {
  const { admin, verification, binding, fail } = deps;
  const page = (body: Html, problem?: HttpError): Reply => ({
    status: problem?.status ?? 200,
    headers: problem?.headers,
    body,
  });

  const renderTest = (req: ConsoleRequest, scenario: ScenarioName, state: TestPageState): Reply => {
    const c = admin.view();
    const policy = c.scenarios.find((p) => p.scenario === scenario)!;
    return page(testPage(req.view, policy, c.enabled, state), state.problem);
  };

  return {
    /**
     * A settings form: the change it asks for, at the version it was rendered with. Saved:
     * back to the page (303). Refused: the page again with the settings now in force, so a
     * conflict shows what someone else changed.
     */
    async change(req: ConsoleRequest, render: (c: ConfigView, state: { problem: HttpError }) => Html) {
      try {
        const change = formToChange(req.form, admin.view());
        const version = formVersion(req.form);
        if (isEmptyChange(change)) return redirect(withQuery(req.url.pathname, { notice: 'unchanged' }));
        await admin.update(change, version, 'console', req.signal);
        return redirect(withQuery(req.url.pathname, { notice: 'saved' }));
      } catch (e) {
        const problem = fail(e);
        const shown =
          problem.kind === 'invalid_argument' ? withEntered(admin.view(), req.form) : admin.view();
        return page(render(shown, { problem }), problem);
      }
    },

    /** The Test form; after a bind from its "not bound" answer, with that user filled in. */
    async testForm(req: ConsoleRequest, scenario: ScenarioName): Promise<Reply> {
      const userId = req.url.searchParams.get('user') ?? undefined;
      let notice = noticeOf(req.view, req.url);
      if (userId && req.url.searchParams.get('notice') === 'bound') {
        const b = await binding.getBinding(userId).catch(() => undefined);
        notice = b ? req.view.t('notice.bound', { user: b.userId, dingtalk: b.dingtalkUserId }) : undefined;
      }
      return renderTest(req, scenario, { userId, notice });
    },

    async test(req: ConsoleRequest, scenario: ScenarioName): Promise<Reply> {
      const userId = (req.form.get('user_id') ?? '').trim();
      const locale = (req.form.get('locale') ?? '').trim();
      try {
        const result = await verification.testScenario({ userId, scenario, locale }, req.signal);
        return renderTest(req, scenario, { userId, locale, result });
      } catch (e) {
        return renderTest(req, scenario, { userId, locale, problem: fail(e) });
      }
    },

    async lookup(req: ConsoleRequest): Promise<Reply> {
      const userId = (req.url.searchParams.get('user') ?? '').trim();
      const notice = noticeOf(req.view, req.url);
      if (!userId) return page(bindingsPage(req.view, { notice }));
      try {
        const b = await binding.getBinding(userId);
        const bound = req.url.searchParams.get('notice') === 'bound';
        return page(
          bindingsPage(req.view, {
            userId,
            binding: b,
            notice: bound
              ? req.view.t('notice.bound', { user: b.userId, dingtalk: b.dingtalkUserId })
              : notice,
          }),
        );
      } catch (e) {
        const problem = fail(e);
        return page(bindingsPage(req.view, { userId, notice, problem }), problem);
      }
    },

    /** Binds, then goes where the form said (the Test page to try again) or to the binding. */
    async bind(req: ConsoleRequest): Promise<Reply> {
      const userId = (req.form.get('user_id') ?? '').trim();
      const then = localPath(req.form.get('then'), '/bindings');
      const scenario = TEST_PATH.exec(then)?.[1] ?? '';
      const back = isScenarioName(scenario) ? then : '/bindings';
      try {
        const kind = req.form.get('kind') as BindTarget['kind'];
        if (!BIND_KINDS.includes(kind))
          throw invalidArgument('kind', 'choose mobile, DingTalk userid or unionid');
        await binding.bindUser(userId, { kind, value: (req.form.get('value') ?? '').trim() }, req.signal);
        deps.logger.info({ console: 'bind', userId, source: kind }, 'user bound in the console');
        return redirect(withQuery(back, { user: userId, notice: 'bound' }));
      } catch (e) {
        const problem = fail(e);
        if (back === '/bindings') return page(bindingsPage(req.view, { userId, problem }), problem);
        return renderTest(req, scenario as ScenarioName, { userId, problem, bind: true });
      }
    },

    /** Starts a DingTalk login that binds the user who signs in; DingTalk returns to /dingtalk/callback. */
    async startLogin(req: ConsoleRequest): Promise<Reply> {
      const userId = (req.form.get('user_id') ?? '').trim();
      try {
        const started = await binding.startDingTalkLogin(userId, `${req.origin}/dingtalk/callback`);
        return page(loginStartedPage(req.view, { userId, ...started }));
      } catch (e) {
        const problem = fail(e);
        return page(loginStartedPage(req.view, { userId, problem }), problem);
      }
    },

    async completeLogin(req: ConsoleRequest): Promise<Reply> {
      const state = req.url.searchParams.get('state') ?? '';
      const authCode = req.url.searchParams.get('authCode') ?? '';
      try {
        const bound = await binding.completeDingTalkLogin(state, authCode, req.signal);
        return page(loginDonePage(req.view, { binding: bound }));
      } catch (e) {
        const problem = fail(e);
        return page(loginDonePage(req.view, { problem }), problem);
      }
    },

    async unbind(req: ConsoleRequest): Promise<Reply> {
      const userId = (req.form.get('user_id') ?? '').trim();
      try {
        const removed = await binding.unbindUser(userId);
        return redirect(withQuery('/bindings', { user: userId, notice: removed ? 'unbound' : 'notbound' }));
      } catch (e) {
        const problem = fail(e);
        return page(bindingsPage(req.view, { userId, problem }), problem);
      }
    },
  };
}
