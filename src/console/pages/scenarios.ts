import type { ConfigView } from '../../admin/service';
import type { ScenarioPolicy } from '../../domain/policy';
import { POLICY_LIMITS, type ScenarioField } from '../../domain/settings';
import { attr, html, type Html } from '../html';
import { csrfField, switchForm, type View } from '../layout';
import type { MessageKey } from '../messages';
import { invalid, sourceOf, type SettingsPageState } from './fields';

type PolicyField = keyof typeof POLICY_LIMITS;

const COLUMNS: ReadonlyArray<[PolicyField, keyof ScenarioPolicy, MessageKey]> = [
  ['code_length', 'codeLength', 'col.code_length'],
  ['ttl_seconds', 'ttlSeconds', 'col.ttl_seconds'],
  ['max_attempts', 'maxAttempts', 'col.max_attempts'],
  ['resend_interval_seconds', 'resendIntervalSeconds', 'col.resend_interval_seconds'],
  ['max_sends_per_hour', 'maxSendsPerHour', 'col.max_sends_per_hour'],
];

const pathOf = (p: ScenarioPolicy, f: ScenarioField) => `scenarios.${p.scenario}.${f}` as const;

function row(v: View, c: ConfigView, state: SettingsPageState, p: ScenarioPolicy): Html {
  const formId = `sc-${p.scenario}`;
  const name = v.t(`scenario.${p.scenario}`);
  const cells = COLUMNS.map(([field, key, label]) => {
    const path = pathOf(p, field);
    const [min, max] = POLICY_LIMITS[field];
    return html`<td>
      <input
        name="${path}"
        form="${formId}"
        type="number"
        min="${min}"
        max="${max}"
        step="1"
        value="${p[key] as number}"
        aria-label="${name}: ${v.t(label)}"
        ${attr('readonly', !c.runtimeChanges)}${invalid(state, path)}
      />${sourceOf(v, c, path, '/settings')}
    </td>`;
  });
  return html`<tr id="scenario-${p.scenario}" data-scenario="${p.scenario}">
    <th scope="row">${name}<br /><code>${p.scenario}</code></th>
    <td>
      ${switchForm(v, { action: '/settings', path: pathOf(p, 'enabled'), on: p.enabled, version: c.version, label: name, readOnly: !c.runtimeChanges })}${sourceOf(v, c, pathOf(p, 'enabled'), '/settings')}
    </td>
    ${cells}
    <td>
      ${switchForm(v, { action: '/settings', path: pathOf(p, 'recall'), on: p.recall, version: c.version, label: `${name}: ${v.t('col.recall')}`, readOnly: !c.runtimeChanges })}${sourceOf(v, c, pathOf(p, 'recall'), '/settings')}
    </td>
    <td>
      <div class="ops">
        <form id="${formId}" method="post" action="/settings" data-busy="${v.t('busy.saving')}">
          ${csrfField(v)}<input type="hidden" name="version" value="${c.version}" />
        </form>
        ${c.runtimeChanges ? html`<button type="submit" form="${formId}" class="link">${v.t('action.save')}</button>` : ''}
        <a href="/test/${p.scenario}">${v.t('action.test')}</a>
        <a href="/settings/scenarios/${p.scenario}">${v.t('action.templates')}</a>
      </div>
    </td>
  </tr>`;
}

/** The scenario table: each scenario's switch and policy, editable in place, and its operations. */
export function scenarioTable(v: View, c: ConfigView, state: SettingsPageState): Html {
  return html`<section class="panel">
    <h2>${v.t('settings.scenarios')}</h2>
    <p class="hint">${v.t('settings.scenarios.help')}</p>
    <div class="scroll">
      <table class="grid scenarios">
        <thead>
          <tr>
            <th scope="col">${v.t('col.scenario')}</th>
            <th scope="col">${v.t('col.status')}</th>
            ${COLUMNS.map(([, , label]) => html`<th scope="col">${v.t(label)}</th>`)}
            <th scope="col" title="${v.t('col.recall.help')}">${v.t('col.recall')}</th>
            <th scope="col">${v.t('col.operation')}</th>
          </tr>
        </thead>
        <tbody>
          ${c.scenarios.map((p) => row(v, c, state, p))}
        </tbody>
      </table>
    </div>
  </section>`;
}
