import type { ConfigView } from '../../admin/service';
import type { SettingPath } from '../../domain/settings';
import type { HttpError } from '../../http/status';
import { attr, html, type Html } from '../html';
import { csrfField, sourceBadge, type View } from '../layout';

export interface SettingsPageState {
  notice?: string;
  problem?: HttpError;
}

/** Whether a field is the one the problem names, for aria-invalid. */
export const invalid = (state: SettingsPageState, path: string): Html =>
  attr('aria-invalid="true"', state.problem?.field === path);

/** A setting's source, and for a runtime value the button that puts it back to its base. */
export function sourceOf(v: View, c: ConfigView, path: SettingPath, action: string): Html {
  const source = c.sources[path];
  const revert =
    source === 'runtime' && c.runtimeChanges
      ? html`<form method="post" action="${action}" class="revert" data-confirm="${v.t('revert.confirm')}">
          ${csrfField(v)}<input type="hidden" name="version" value="${c.version}" /><input
            type="hidden"
            name="revert"
            value="${path}"
          />
          <button
            type="submit"
            class="link"
            title="${v.t('revert.help')}"
            aria-label="${v.t('revert')} ${path}"
          >
            ↺ ${v.t('revert')}
          </button>
        </form>`
      : '';
  return html`<span class="source">${sourceBadge(v, source)}${revert}</span>`;
}
