import type { ConfigView } from '../../admin/service';
import type { SettingPath } from '../../domain/settings';
import { attr, html, type Html } from '../html';
import { formatTime } from '../i18n';
import { csrfField, page, switchForm, type View } from '../layout';
import type { MessageKey } from '../messages';
import { invalid, sourceOf, type SettingsPageState } from './fields';
import { scenarioTable } from './scenarios';

function basicRow(
  v: View,
  c: ConfigView,
  state: SettingsPageState,
  path: SettingPath,
  label: MessageKey,
  input: Html,
  help: MessageKey,
): Html {
  return html`<tr${attr('class="invalid"', state.problem?.field === path)}>
<th scope="row"><label for="f-${path}">${v.t(label)}</label></th>
<td>${input}<p class="hint">${v.t(help)}</p></td>
<td>${sourceOf(v, c, path, '/settings')}</td>
</tr>`;
}

function basicSettings(v: View, c: ConfigView, state: SettingsPageState): Html {
  const ro = attr('readonly', !c.runtimeChanges);
  const secretState = c.appSecretSet
    ? html`<span class="pill ok">${v.t('secret.set')}</span>`
    : html`<span class="pill bad">${v.t('secret.unset')}</span>`;
  return html`<section class="panel">
    <h2>${v.t('settings.basic')}</h2>
    <form id="basic" method="post" action="/settings" data-busy="${v.t('busy.saving')}">
      ${csrfField(v)}<input type="hidden" name="version" value="${c.version}" />
    </form>
    <table class="form">
      <tbody>
        ${basicRow(v, c, state, 'agent_id', 'field.agent_id', html`<input id="f-agent_id" name="agent_id" form="basic" inputmode="numeric" autocomplete="off" value="${c.agentId || ''}" ${ro}${invalid(state, 'agent_id')} />`, 'field.agent_id.help')}
        ${basicRow(v, c, state, 'app_key', 'field.app_key', html`<input id="f-app_key" name="app_key" form="basic" autocomplete="off" spellcheck="false" value="${c.appKey}" ${ro}${invalid(state, 'app_key')} />`, 'field.app_key.help')}
        ${basicRow(v, c, state, 'app_secret', 'field.app_secret', html`${secretState} <input id="f-app_secret" name="app_secret" form="basic" type="password" autocomplete="new-password" placeholder="${v.t('secret.keep')}" ${ro}${invalid(state, 'app_secret')} />`, 'field.app_secret.help')}
      </tbody>
    </table>
    ${c.runtimeChanges ? html`<p class="actions"><button type="submit" form="basic" class="primary">${v.t('action.save')}</button></p>` : ''}
  </section>`;
}

/** Settings → Enterprise Settings → DingTalk Gateway: the switch, the app's credentials, the scenarios. */
export function settingsPage(v: View, c: ConfigView, state: SettingsPageState = {}): Html {
  const changed = c.updatedAt
    ? v.t('settings.changed', { version: c.version, at: formatTime(c.updatedAt), by: c.updatedBy })
    : v.t('settings.unchanged');
  const body = html`<nav class="crumbs" aria-label="${v.t('crumbs.label')}">
      <span>${v.t('crumbs.settings')}</span> / <span>${v.t('crumbs.enterprise')}</span> /
      <span aria-current="page">${v.t('settings.title')}</span>
    </nav>
    <h1>${v.t('settings.title')}</h1>
    <p class="meta">${changed}</p>
    ${c.runtimeChanges ? '' : html`<p class="banner note" role="note">${v.t('settings.readonly')}</p>`}
    <section class="panel switch-panel">
      <div>
        <h2>${v.t('settings.switch')}</h2>
        <p class="hint">${v.t(c.enabled ? 'settings.switch.on' : 'settings.switch.off')}</p>
      </div>
      <div class="switch-cell">
        ${switchForm(v, { action: '/settings', path: 'enabled', on: c.enabled, version: c.version, label: v.t('settings.switch'), readOnly: !c.runtimeChanges })}
        ${sourceOf(v, c, 'enabled', '/settings')}
      </div>
    </section>
    ${basicSettings(v, c, state)} ${scenarioTable(v, c, state)}`;
  return page(v, { title: v.t('settings.title'), section: 'settings', body, ...state });
}
