import { scenarioForKind } from '../domain/hook-scenarios';
import { jsonBody, required, seconds, text } from './body';
import { requireCredential } from './credentials';
import { jsonReplies } from './replies';
import type { HookRoute, RouteContext } from './route';

/**
 * Ory Kratos's courier, SMS channel of type `http`, with the body made by
 * deploy/hooks/kratos-body.jsonnet: `{recipient, template_type, code, expires_in_minutes,
 * identity_id, body}`. Authenticated by `api_key` (header X-API-Key) or `basic_auth` (any
 * user, the key as the password). Kratos takes any 2xx and retries the rest from its queue.
 */
export function kratosRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'kratos',
    authenticate(req) {
      requireCredential(req.headers, route.credential, ['api_key', 'basic']);
      return undefined;
    },
    parse(req) {
      const b = jsonBody(req.headers, req.body);
      return {
        userId: text(b, 'identity_id'),
        mobile: required(b, 'recipient'),
        scenario: scenarioForKind('kratos', text(b, 'template_type'), defaultScenario),
        code: required(b, 'code'),
        text: text(b, 'body'),
        ttlSeconds: seconds(text(b, 'expires_in_minutes'), 'expires_in_minutes', 60),
      };
    },
    replies: jsonReplies(),
  };
}
