import type { Binding } from '../domain/binding';
import { invalidArgument, precondition } from '../domain/errors';
import {
  authorizeUrl,
  isLoginState,
  isLoginStateLive,
  isRedirectAllowed,
  LOGIN_STATE_TTL_MS,
  loginStateKey,
  newLoginState,
  type RedirectPolicy,
} from '../domain/login';
import * as check from '../domain/validation';
import type { AuditSink, DingTalkPort, VerificationStore } from './ports';

/** What the DingTalk login needs to know, resolved at start (the AppKey is read per call). */
export interface LoginSettings {
  /** DingTalk's login host, e.g. https://login.dingtalk.com. */
  loginUrl: string;
  redirects: RedirectPolicy;
  /** The organisation a login must be for (DINGTALK_CORP_ID); undefined checks none. */
  corpId: string | undefined;
  /** The app's current AppKey: the authorize URL's client_id. */
  clientId: () => string;
}

export interface StartedLogin {
  authorizeUrl: string;
  state: string;
  expiresAt: number;
}

const STATE_GONE =
  'the DingTalk login state is unknown, expired or already used; start the login again (StartDingTalkLogin)';

/**
 * Binding through DingTalk login, done by the gateway: StartDingTalkLogin keeps a random
 * state bound to the user and the redirect URI; CompleteDingTalkLogin takes it (once,
 * across replicas), exchanges DingTalk's authCode and binds the organisation member who
 * logged in to the user the state names. The user access token is used for one read and
 * dropped; neither it nor the unionId is logged or returned.
 */
export function createDingTalkLogin(deps: {
  store: VerificationStore;
  dingtalk: DingTalkPort;
  now: () => number;
  random: (size: number) => Buffer;
  audit: AuditSink;
  settings: LoginSettings;
}) {
  const { store, dingtalk, now, audit, settings } = deps;

  async function startDingTalkLogin(userId: string, redirectUri: string): Promise<StartedLogin> {
    check.userId(userId);
    if (settings.redirects.kind === 'none') {
      throw precondition(
        "DingTalk login has no redirect URI to return to: set DINGTALK_LOGIN_REDIRECT_URIS to the identity server's callback URL(s), as registered in the DingTalk app's security settings",
      );
    }
    if (redirectUri === '') throw invalidArgument('redirect_uri', 'is required');
    if (!isRedirectAllowed(redirectUri, settings.redirects)) {
      throw invalidArgument(
        'redirect_uri',
        settings.redirects.kind === 'list'
          ? 'is not one of DINGTALK_LOGIN_REDIRECT_URIS (it must match one exactly)'
          : 'the sandbox allows only http://127.0.0.1:<port>/… and http://localhost:<port>/… unless DINGTALK_LOGIN_REDIRECT_URIS is set',
      );
    }
    const clientId = settings.clientId();
    if (clientId === '') throw precondition('DingTalk login needs the app credentials: set DINGTALK_APP_KEY');
    const state = newLoginState(deps.random);
    const createdAt = now();
    const expiresAt = createdAt + LOGIN_STATE_TTL_MS;
    await store.putLoginState(
      loginStateKey(state),
      { userId, redirectUri, createdAt, expiresAt },
      LOGIN_STATE_TTL_MS,
    );
    audit('binding.login_started', { userId });
    return {
      authorizeUrl: authorizeUrl({ loginUrl: settings.loginUrl, clientId, redirectUri, state }),
      state,
      expiresAt,
    };
  }

  async function completeDingTalkLogin(
    state: string,
    authCode: string,
    signal?: AbortSignal,
  ): Promise<Binding> {
    if (!isLoginState(state)) {
      throw invalidArgument(
        'state',
        state === '' ? 'is required' : 'is not a state StartDingTalkLogin returned',
      );
    }
    check.authCode(authCode);
    // Taken before DingTalk is asked: of concurrent completions exactly one goes on, and a
    // failure further on needs a new start (the authCode is spent by then anyway).
    const login = await store.takeLoginState(loginStateKey(state));
    if (!login || !isLoginStateLive(login, now())) {
      audit('binding.login_refused', { reason: 'state' });
      throw precondition(STATE_GONE);
    }
    const { userId } = login;
    const refuse = (reason: string, message: string) => {
      audit('binding.login_refused', { userId, reason });
      return precondition(message);
    };
    const token = await dingtalk.exchangeLoginCode(authCode, signal);
    if (settings.corpId !== undefined && token.corpId !== settings.corpId) {
      throw refuse(
        'other_organisation',
        "the DingTalk login was for another organisation than this app's (DINGTALK_CORP_ID); log in choosing this organisation",
      );
    }
    const { unionId } = await dingtalk.getLoginUser(token.accessToken, signal);
    const member = await dingtalk.getByUnionId(unionId, signal);
    if (!member) {
      throw refuse('not_member', 'the DingTalk account that logged in is not a member of this organisation');
    }
    if (member.contactType === 1) {
      throw refuse(
        'external_contact',
        'the DingTalk account that logged in is an external contact of this organisation, not a member; only members can be bound',
      );
    }
    const binding: Binding = {
      userId,
      dingtalkUserId: member.userId,
      source: 'dingtalk_login',
      boundAt: now(),
    };
    await store.putBinding(binding);
    audit('binding.created', { userId, dingtalkUserId: member.userId, source: binding.source });
    return binding;
  }

  return { startDingTalkLogin, completeDingTalkLogin };
}
