import { attr, html, type Html } from '../html';
import { csrfField, type View } from '../layout';
import type { MessageKey } from '../messages';

const KINDS: ReadonlyArray<['mobile' | 'dingtalk_user_id' | 'union_id', MessageKey]> = [
  ['mobile', 'bind.kind.mobile'],
  ['dingtalk_user_id', 'bind.kind.dingtalk_user_id'],
  ['union_id', 'bind.kind.union_id'],
];

/**
 * Binds a user to a DingTalk account by mobile, DingTalk userid or unionid; DingTalk is
 * asked first, so only an active user of the organisation is bound. With `userId` the user
 * is fixed (the Test page's "not bound" answer), with `prefill` only suggested; `then` is where to go once bound. The
 * value is never filled back in: it may be a mobile number.
 */
export function bindForm(v: View, o: { userId?: string; prefill?: string; then?: string; id: string }): Html {
  const fixed = o.userId !== undefined && o.userId !== '';
  return html`<form
    method="post"
    action="/bindings"
    class="bind"
    id="${o.id}"
    data-busy="${v.t('busy.binding')}"
  >
    ${csrfField(v)}${o.then ? html`<input type="hidden" name="then" value="${o.then}" />` : ''}
    ${
      fixed
        ? html`<input type="hidden" name="user_id" value="${o.userId}" />
            <p>${v.t('bind.user', { user: o.userId! })}</p>`
        : html`<label
            >${v.t('field.user_id')}
            <input name="user_id" required autocomplete="off" spellcheck="false" value="${o.prefill ?? ''}"
          /></label>`
    }
    <fieldset class="kinds">
      <legend>${v.t('bind.by')}</legend>
      ${KINDS.map(([kind, label], i) => html`<label class="check"><input type="radio" name="kind" value="${kind}" ${attr('checked', i === 0)} /> ${v.t(label)}</label>`)}
    </fieldset>
    <label
      >${v.t('bind.value')}
      <input name="value" required autocomplete="off" spellcheck="false" data-kind-input
    /></label>
    <p class="hint">${v.t('bind.help')}</p>
    <p class="actions"><button type="submit" class="primary">${v.t('action.bind')}</button></p>
  </form>`;
}
