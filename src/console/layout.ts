import type { SettingSource } from '../domain/settings';
import type { HttpError } from '../http/status';
import { attr, html, type Html } from './html';
import { LANGS, type Lang, type Translate } from './i18n';
import type { MessageKey } from './messages';

/** What every page needs to render: the language, where it is, and the session's form token. */
export interface View {
  t: Translate;
  lang: Lang;
  /** This page's path and query, for the language links' way back. */
  path: string;
  /** The session's CSRF token; undefined on the sign-in page. */
  csrf?: string;
  sandboxInboxUrl?: string;
}

export type Section = 'overview' | 'settings' | 'bindings' | 'none';

export interface PageParts {
  title: string;
  section: Section;
  body: Html;
  /** A success line at the top ("Saved"). */
  notice?: string;
  problem?: HttpError;
}

const NAV: ReadonlyArray<[Exclude<Section, 'none'>, string, MessageKey]> = [
  ['overview', '/', 'nav.overview'],
  ['settings', '/settings', 'nav.settings'],
  ['bindings', '/bindings', 'nav.bindings'],
];

/** The hidden field every form that changes something carries. */
export const csrfField = (v: View): Html => html`<input type="hidden" name="csrf" value="${v.csrf ?? ''}" />`;

function languageLinks(v: View): Html {
  const back = encodeURIComponent(v.path);
  return html`<span class="langs"
    >${LANGS.map((l) =>
      l === v.lang
        ? html`<strong lang="${l}">${v.t(`lang.${l}`)}</strong>`
        : html`<a href="/lang/${l}?back=${back}" lang="${l}" hreflang="${l}">${v.t(`lang.${l}`)}</a>`,
    )}</span
  >`;
}

function header(v: View, section: Section): Html {
  if (!v.csrf)
    return html`<header class="top">
      <span class="brand">${v.t('app.name')}</span>${languageLinks(v)}
    </header>`;
  const links = NAV.map(
    ([s, href, key]) => html`<a href="${href}" ${attr('aria-current="page"', s === section)}>${v.t(key)}</a>`,
  );
  const inbox = v.sandboxInboxUrl
    ? html`<a href="${v.sandboxInboxUrl}" target="_blank" rel="noopener noreferrer" class="external"
        >${v.t('nav.inbox')}</a
      >`
    : '';
  return html`<header class="top">
    <a class="brand" href="/">${v.t('app.name')}</a>
    <nav aria-label="${v.t('nav.label')}">${links}${inbox}</nav>
    ${languageLinks(v)}
    <form method="post" action="/logout" class="signout">
      ${csrfField(v)}<button type="submit" class="link">${v.t('nav.signout')}</button>
    </form>
  </header>`;
}

/** A whole page: the shell, the header with navigation, the notice or problem, the body. */
export function page(v: View, p: PageParts): Html {
  return html`<!doctype html>
    <html lang="${v.lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${p.title} · ${v.t('app.name')}</title>
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="/assets/console.css" />
        <script src="/assets/console.js" defer></script>
      </head>
      <body>
        ${header(v, p.section)}
        <main>
          ${p.notice ? html`<p class="banner ok" role="status">${p.notice}</p>` : ''}
          ${p.problem ? problemBanner(v, p.problem) : ''} ${p.body}
        </main>
      </body>
    </html> `;
}

const HEADINGS: Record<HttpError['kind'], MessageKey> = {
  invalid_argument: 'problem.invalid_argument',
  not_bound: 'problem.not_bound',
  disabled: 'problem.disabled',
  precondition: 'problem.precondition',
  conflict: 'problem.conflict',
  permission_denied: 'problem.permission_denied',
  not_found: 'problem.not_found',
  rate_limited: 'problem.rate_limited',
  store_unavailable: 'problem.store_unavailable',
  upstream: 'problem.upstream',
  cancelled: 'problem.cancelled',
  internal: 'problem.internal',
};

/**
 * An error as the page shows it: a heading in the reader's language saying what happened
 * and what to do, then the gateway's own message (English, safe to show) and, for DingTalk,
 * its errcode.
 */
export function problemBanner(v: View, e: HttpError): Html {
  const heading = e.upstream === 'credentials' ? v.t('problem.credentials') : v.t(HEADINGS[e.kind]);
  const extra = [
    e.errcode ? v.t('problem.errcode', { errcode: e.errcode }) : '',
    e.headers['retry-after'] ? v.t('problem.retry', { seconds: e.headers['retry-after'] }) : '',
  ].filter(Boolean);
  return html`<div class="banner problem" role="alert" data-kind="${e.kind}" data-status="${e.status}">
    <strong>${heading}</strong>
    <p class="detail">
      ${e.message}${extra.length ? html` <span class="code">(${extra.join(' · ')})</span>` : ''}
    </p>
  </div>`;
}

/** Where a setting's value comes from, as a small label. */
export const sourceBadge = (v: View, source: SettingSource): Html =>
  html`<span class="src src-${source}" title="${v.t(`source.${source}.help`)}"
    >${v.t(`source.${source}`)}</span
  >`;

/** A form whose one button flips a boolean setting: no script needed, the version travels along. */
export function switchForm(
  v: View,
  o: { action: string; path: string; on: boolean; version: number; label: string; readOnly: boolean },
): Html {
  return html`<form method="post" action="${o.action}" class="switch-form">
    ${csrfField(v)}<input type="hidden" name="version" value="${o.version}" />
    <input type="hidden" name="${o.path}" value="${o.on ? 'false' : 'true'}" />
    <button
      type="submit"
      class="switch"
      role="switch"
      aria-checked="${o.on}"
      aria-label="${o.label}"
      ${attr('disabled', o.readOnly)}
    >
      <span class="knob"></span><span class="state">${o.on ? v.t('switch.on') : v.t('switch.off')}</span>
    </button>
  </form>`;
}
