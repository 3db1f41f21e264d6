import type { InboxMessage } from './simulator-messages';

const escapeHtml = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!,
  );

/** The sandbox's inbox as a page a person can keep open: newest first, refreshed every few seconds. */
export function renderInboxPage(messages: readonly InboxMessage[]): string {
  const rows = [...messages]
    .reverse()
    .map(
      (m) => `<tr${m.recalled ? ' class="recalled"' : ''}>
<td>${escapeHtml(new Date(m.at).toISOString())}</td>
<td>${escapeHtml(m.userid)}</td>
<td><strong>${escapeHtml(m.title)}</strong><pre>${escapeHtml(m.text)}</pre></td>
<td>${escapeHtml(m.taskId)}${m.recalled ? ' (recalled)' : ''}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="3">
<title>Simulated DingTalk inbox</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; }
table { border-collapse: collapse; width: 100%; }
td, th { border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; vertical-align: top; }
pre { white-space: pre-wrap; margin: .3rem 0 0; }
.recalled { opacity: .5; }
</style>
</head>
<body>
<h1>Simulated DingTalk inbox</h1>
<p>Work notifications delivered by the sandbox (${messages.length}); this page refreshes itself. Also as <a href="/inbox.json">JSON</a>.</p>
<table>
<thead><tr><th>Delivered</th><th>To</th><th>Message</th><th>Task</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4">No messages yet.</td></tr>'}
</tbody>
</table>
</body>
</html>
`;
}
