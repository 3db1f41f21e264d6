import { escapeHtml, markdownToHtml } from './simulator-markdown';
import type { InboxMessage } from './simulator-messages';
import type { SimUser } from './simulator-users';

export interface InboxPageOptions {
  /** Only this DingTalk user's messages ("" or undefined: everyone's). */
  userid?: string;
  /** The organisation, for the recipient tabs and their names. */
  users: readonly SimUser[];
  /** The simulated app's name, shown as the sender of work notifications. */
  appName: string;
}

/** DingTalk shows times in China's zone. */
const timeFormat = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

function card(m: InboxMessage, appName: string, to: string): string {
  const when = `<time datetime="${new Date(m.at).toISOString()}">${escapeHtml(timeFormat.format(m.at))}</time>`;
  const head = `<header><span class="app">${escapeHtml(appName)}</span> ${when}</header>`;
  if (m.recalled) {
    return `<article class="msg recalled" data-task="${escapeHtml(m.taskId)}">${head}
<p class="placeholder">此消息已撤回 · This message was recalled</p></article>`;
  }
  return `<article class="msg" data-task="${escapeHtml(m.taskId)}">${head}
<h2 class="title">${escapeHtml(m.title)}</h2>
<div class="body">${m.msgtype === 'markdown' ? markdownToHtml(m.text) : `<p>${escapeHtml(m.text)}</p>`}</div>
<footer>to ${escapeHtml(to)} · task ${escapeHtml(m.taskId)}</footer></article>`;
}

/**
 * The sandbox's inbox as DingTalk shows work notifications: one card per message, newest
 * first, with the title, the rendered markdown and the time; a recalled message keeps its
 * place as a placeholder. Tabs filter by recipient; the page refreshes itself.
 */
export function renderInboxPage(messages: readonly InboxMessage[], options: InboxPageOptions): string {
  const shown = [...messages].reverse().filter((m) => !options.userid || m.userid === options.userid);
  const names = new Map(options.users.map((u) => [u.userid, u.name]));
  const tab = (userid: string, label: string) =>
    `<a href="/${userid ? `?user=${encodeURIComponent(userid)}` : ''}"${
      (options.userid ?? '') === userid ? ' aria-current="page"' : ''
    }>${escapeHtml(label)}</a>`;
  const tabs = [
    tab('', '全部 All'),
    ...options.users.map((u) => tab(u.userid, `${u.name} (${u.userid})`)),
  ].join('\n');
  const cards = shown
    .map((m) => card(m, options.appName, `${names.get(m.userid) ?? '?'} (${m.userid})`))
    .join('\n');
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>工作通知 · Simulated DingTalk inbox</title>
<style>
body { font-family: "PingFang SC", "Noto Sans CJK SC", system-ui, sans-serif; margin: 0; background: #f2f3f5; color: #171a1d; }
.top { background: #0089ff; color: #fff; padding: .8rem 1.5rem; }
.top h1 { font-size: 1.1rem; margin: 0; }
.top p { margin: .2rem 0 0; font-size: .85rem; opacity: .9; }
.top a { color: #fff; }
nav { display: flex; flex-wrap: wrap; gap: .4rem; padding: .8rem 1.5rem; }
nav a { padding: .25rem .7rem; border-radius: 1rem; background: #fff; color: #171a1d; text-decoration: none; font-size: .85rem; }
nav a[aria-current] { background: #0089ff; color: #fff; }
main { max-width: 40rem; padding: 0 1.5rem 2rem; }
.msg { background: #fff; border-radius: .5rem; padding: .8rem 1rem; margin: 0 0 .8rem; box-shadow: 0 1px 2px rgba(0,0,0,.06); }
.msg header { display: flex; justify-content: space-between; font-size: .8rem; color: #747677; }
.msg .app { font-weight: 600; color: #171a1d; }
.msg .title { font-size: 1rem; margin: .5rem 0; }
.msg .body h1, .msg .body h2, .msg .body h3 { font-size: 1rem; margin: .4rem 0; }
.msg .body h4, .msg .body h5, .msg .body h6 { font-size: .8rem; color: #747677; margin: .4rem 0; }
.msg .body blockquote { margin: .4rem 0; padding-left: .6rem; border-left: 3px solid #d0d3d6; color: #5c5e60; }
.msg .body p { margin: .4rem 0; line-height: 1.5; }
.msg footer { font-size: .75rem; color: #a2a3a4; margin-top: .4rem; }
.recalled .placeholder { color: #a2a3a4; font-style: italic; margin: .5rem 0 0; }
.empty { color: #747677; }
</style>
</head>
<body>
<div class="top"><h1>工作通知 · Work notifications</h1>
<p>The sandbox's simulated DingTalk: ${messages.length} message(s) delivered; this page refreshes itself. Also as <a href="/inbox.json">JSON</a>.</p></div>
<nav aria-label="recipients">
${tabs}
</nav>
<main>
${cards || '<p class="empty">暂无消息 · No messages yet.</p>'}
</main>
</body>
</html>
`;
}
