import { codeInText } from '../domain/delivered-code';
import { invalidArgument } from '../domain/errors';
import { isScenarioName } from '../domain/scenario';
import { jsonOrFormBody, optionalIp, required, seconds, text } from './body';
import { requireCredential } from './credentials';
import { jsonReplies } from './replies';
import type { HookRoute, RouteContext } from './route';

/**
 * The generic route, for Keycloak SMS plugins and anything else that can POST a phone
 * number and a code: JSON or a url-encoded form with `mobile` (or `phone`, `to`), `code`
 * (or only `text`/`message` holding one), and optionally `user_id`, `scenario` (our names),
 * `locale`, `ttl_seconds`, `client_ip`, `idempotency_key` (or an `Idempotency-Key` header).
 * Authenticated by `Authorization: Bearer <token>` or Basic with the token as the password.
 * Answers 200 with the delivery (`delivery_id` for GetDelivery).
 */
export function genericRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'generic',
    authenticate(req) {
      requireCredential(req.headers, route.credential, ['bearer', 'basic']);
      const key = req.headers['idempotency-key'];
      return (Array.isArray(key) ? key[0] : key) || undefined;
    },
    parse(req) {
      const b = jsonOrFormBody(req.headers, req.body);
      const message = text(b, 'text') ?? text(b, 'message');
      const scenario = text(b, 'scenario');
      if (scenario && !isScenarioName(scenario))
        throw invalidArgument(
          'scenario',
          'must be one of login, password_recovery, two_factor, password_reset, risk_warning',
        );
      return {
        userId: text(b, 'user_id'),
        mobile: required(b, 'mobile', 'phone', 'to'),
        scenario: scenario && isScenarioName(scenario) ? scenario : defaultScenario,
        code:
          text(b, 'code') ?? (message !== undefined ? codeInText(message) : undefined) ?? required(b, 'code'),
        text: message,
        locale: text(b, 'locale'),
        ttlSeconds: seconds(text(b, 'ttl_seconds'), 'ttl_seconds'),
        clientIp: optionalIp(text(b, 'client_ip')),
        idempotencyKey: text(b, 'idempotency_key'),
      };
    },
    replies: jsonReplies(),
  };
}
