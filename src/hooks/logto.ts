import { scenarioForKind } from '../domain/hook-scenarios';
import { jsonBody, optionalIp, required, text } from './body';
import { requireCredential } from './credentials';
import { jsonReplies } from './replies';
import type { HookRoute, RouteContext } from './route';

/**
 * Logto's HTTP SMS connector: JSON `{to, type, payload: {code, locale?, uiLocales?}, ip?}`
 * with the connector's static `Authorization` header (set it to `Bearer <token>`; the bare
 * token is accepted too). Logto takes any 2xx.
 */
export function logtoRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'logto',
    authenticate(req) {
      requireCredential(req.headers, route.credential, ['bearer', 'raw']);
      return undefined;
    },
    parse(req) {
      const b = jsonBody(req.headers, req.body);
      return {
        mobile: required(b, 'to'),
        scenario: scenarioForKind('logto', text(b, 'type'), defaultScenario),
        code: required(b, 'payload.code'),
        locale: text(b, 'payload.locale') ?? text(b, 'payload.uiLocales')?.trim().split(/\s+/)[0],
        clientIp: optionalIp(text(b, 'ip')),
      };
    },
    replies: jsonReplies(),
  };
}
