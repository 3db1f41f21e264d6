import { escapeHtml as e } from './simulator-markdown';

/** One account the sandbox login page offers. */
export interface LoginChoice {
  name: string;
  unionid: string;
  /** The organisation shown under the name. */
  organisation: string;
}

/** What the authorize request asked for, carried through the form unchanged. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  responseType: string;
  scope: string;
  state: string;
}

const STYLE = `
body { font-family: "PingFang SC", "Noto Sans CJK SC", system-ui, sans-serif; margin: 0; background: #f2f3f5; color: #171a1d; }
.top { background: #0089ff; color: #fff; padding: .8rem 1.5rem; font-weight: 600; }
main { max-width: 26rem; margin: 2rem auto; background: #fff; border-radius: .75rem; padding: 1.5rem; box-shadow: 0 2px 8px rgba(0,0,0,.08); }
h1 { font-size: 1.2rem; margin: 0 0 .3rem; }
.lead { color: #5c5e60; font-size: .9rem; margin: 0 0 1.2rem; }
ul { list-style: none; margin: 0; padding: 0; }
li { margin: 0 0 .6rem; }
form { margin: 0; }
button { width: 100%; text-align: left; border: 1px solid #e5e6e8; background: #fff; border-radius: .5rem; padding: .6rem .8rem; font: inherit; cursor: pointer; }
button:hover, button:focus { border-color: #0089ff; outline: none; }
.name { display: block; font-weight: 600; }
.org { display: block; font-size: .8rem; color: #747677; }
.deny { text-align: center; color: #5c5e60; margin-top: .8rem; }
.note { font-size: .75rem; color: #a2a3a4; margin: 1rem 0 0; }
.error { color: #d40000; }`;

const page = (title: string, body: string): string => `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
<style>${STYLE}
</style>
</head>
<body>
<div class="top">钉钉 · DingTalk</div>
<main>
${body}
</main>
</body>
</html>
`;

const hidden = (r: AuthorizeRequest): string =>
  [
    ['client_id', r.clientId],
    ['redirect_uri', r.redirectUri],
    ['response_type', r.responseType],
    ['scope', r.scope],
    ['state', r.state],
  ]
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${e(value)}">`)
    .join('');

/**
 * The sandbox's stand-in for DingTalk's login page: the app asking, and the accounts one
 * may log in as (a form each, posted to /oauth2/auth/confirm), plus a refusal. Plain HTML
 * with its style inline: no script, no external asset.
 */
export function renderLoginPage(
  appName: string,
  request: AuthorizeRequest,
  choices: readonly LoginChoice[],
): string {
  const items = choices
    .map(
      (
        c,
      ) => `<li><form method="post" action="/oauth2/auth/confirm">${hidden(request)}<input type="hidden" name="unionid" value="${e(c.unionid)}">
<button type="submit"><span class="name">${e(c.name)}</span><span class="org">${e(c.organisation)}</span></button></form></li>`,
    )
    .join('\n');
  return page(
    `钉钉登录 · Log in with DingTalk · ${appName}`,
    `<h1>登录 ${e(appName)}</h1>
<p class="lead">${e(appName)} 申请使用你的钉钉账号登录 · ${e(appName)} wants you to log in with DingTalk. Choose an account:</p>
<ul>
${items}
</ul>
<form method="post" action="/oauth2/auth/confirm">${hidden(request)}<input type="hidden" name="decision" value="deny">
<button type="submit" class="deny">取消 · Cancel</button></form>
<p class="note">The sandbox's simulated DingTalk login: no password, pick who you are.</p>`,
  );
}

/** An authorize request DingTalk would not serve: its own error page, not a redirect. */
export function renderLoginError(problem: string): string {
  return page(
    '钉钉登录 · DingTalk login error',
    `<h1 class="error">无法登录 · Cannot log in</h1>\n<p>${e(problem)}</p>`,
  );
}
