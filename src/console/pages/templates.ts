import type { ConfigView } from '../../admin/service';
import type { ScenarioPolicy } from '../../domain/policy';
import { attr, html, type Html } from '../html';
import { csrfField, page, type View } from '../layout';
import { sourceOf, type SettingsPageState } from './fields';

function templateRow(v: View, n: number, locale: string, title: string, text: string, ro: boolean): Html {
  const isNew = locale === '' && title === '';
  return html`<fieldset class="template">
    <legend>${isNew ? v.t('templates.add') : locale}</legend>
    <label
      >${v.t('templates.locale')}
      <input
        name="tpl.${n}.locale"
        value="${locale}"
        placeholder="zh-CN"
        autocomplete="off"
        spellcheck="false"
        ${attr('readonly', ro)}
    /></label>
    <label
      >${v.t('templates.msgtitle')}
      <input name="tpl.${n}.title" value="${title}" class="wide" ${attr('readonly', ro)}
    /></label>
    <label
      >${v.t('templates.text')}
      <textarea name="tpl.${n}.text" rows="5" ${attr('readonly', ro)}>${text}</textarea>
    </label>
    ${isNew || ro ? '' : html`<label class="check"><input type="checkbox" name="tpl.${n}.remove" value="1" /> ${v.t('templates.remove')}</label>`}
  </fieldset>`;
}

/** One scenario's message templates, one per locale, with room to add one. */
export function templatesPage(
  v: View,
  c: ConfigView,
  p: ScenarioPolicy,
  state: SettingsPageState = {},
): Html {
  const ro = !c.runtimeChanges;
  const path = `scenarios.${p.scenario}.templates` as const;
  const action = `/settings/scenarios/${p.scenario}`;
  const rows = Object.entries(p.templates).map(([locale, t], n) =>
    templateRow(v, n, locale, t.title, t.text, ro),
  );
  if (!ro) rows.push(templateRow(v, rows.length, '', '', '', ro));
  const name = v.t(`scenario.${p.scenario}`);
  const body = html`<nav class="crumbs" aria-label="${v.t('crumbs.label')}">
      <a href="/settings">${v.t('settings.title')}</a> / <span aria-current="page">${name}</span>
    </nav>
    <h1>${v.t('templates.title', { scenario: name })}</h1>
    ${ro ? html`<p class="banner note" role="note">${v.t('settings.readonly')}</p>` : ''}
    <section class="panel">
      <p class="hint">
        ${v.t('templates.help', { length: p.codeLength, minutes: Math.ceil(p.ttlSeconds / 60), locale: c.defaultLocale })}
      </p>
      <p>${v.t('templates.source')} ${sourceOf(v, c, path, action)}</p>
      <form method="post" action="${action}" data-busy="${v.t('busy.saving')}">
        ${csrfField(v)}<input type="hidden" name="version" value="${c.version}" /><input
          type="hidden"
          name="templates_for"
          value="${p.scenario}"
        />
        ${rows}
        ${ro ? '' : html`<p class="actions"><button type="submit" class="primary">${v.t('action.save')}</button> <a href="/test/${p.scenario}">${v.t('action.test')}</a></p>`}
      </form>
    </section>`;
  return page(v, { title: name, section: 'settings', body, ...state });
}
