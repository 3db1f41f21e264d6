import { codeInText } from '../domain/delivered-code';
import { scenarioForKind } from '../domain/hook-scenarios';
import { jsonBody, required, text } from './body';
import { jsonReplies } from './replies';
import type { HookRoute, RouteContext } from './route';
import { verifyZitadel } from './signatures';

/**
 * ZITADEL's HTTP SMS provider: JSON `{contextInfo: {recipientPhoneNumber, eventType},
 * templateData: {text, …}, args: {code, userID, preferredLanguage?, …}}`, signed in
 * `ZITADEL-Signature` with the provider's signing key. ZITADEL takes any 2xx within 5 s.
 */
export function zitadelRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'zitadel',
    authenticate: (req) => verifyZitadel(req.headers, req.body, route.credential, req.now),
    parse(req) {
      const b = jsonBody(req.headers, req.body);
      const message = text(b, 'templateData.text');
      return {
        userId: text(b, 'args.userID'),
        mobile: required(b, 'contextInfo.recipientPhoneNumber'),
        scenario: scenarioForKind('zitadel', text(b, 'contextInfo.eventType'), defaultScenario),
        code:
          text(b, 'args.code') ??
          (message !== undefined ? codeInText(message) : undefined) ??
          required(b, 'args.code'),
        text: message,
        locale: text(b, 'args.preferredLanguage'),
      };
    },
    replies: jsonReplies(),
  };
}
