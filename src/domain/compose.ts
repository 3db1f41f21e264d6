import type { ScenarioPolicy, Template } from './policy';
import { pickLocale, renderMessage } from './template';

export interface ComposeInput {
  /** The locale asked for; the scenario's template is picked by pickLocale. */
  locale: string | undefined;
  code: string;
  /** The code's lifetime in minutes, as the message states it. */
  minutes: number;
  /** A per-message reference: DingTalk silently drops a repeated message, so every one differs. */
  ref: string;
  test?: boolean;
  /**
   * The caller's own rendered text (it holds the code already), sent instead of the
   * template's text; the template's title stays, so previews never show the code.
   */
  text?: string;
}

/** A scenario's work notification: its template for the locale, filled in; or the caller's text under its title. */
export function composeMessage(policy: ScenarioPolicy, defaultLocale: string, input: ComposeInput): Template {
  const chosen = pickLocale(Object.keys(policy.templates), input.locale, defaultLocale);
  const template = policy.templates[chosen];
  return renderMessage({
    template: input.text === undefined ? template : { title: template.title, text: input.text },
    locale: chosen,
    code: input.code,
    minutes: input.minutes,
    ref: input.ref,
    test: input.test,
  });
}
