import { jsonBody, required, text } from './body';
import { requireCredential } from './credentials';
import { authentikReplies } from './replies';
import type { HookRoute, RouteContext } from './route';

/**
 * Authentik's SMS authenticator stage with the generic provider: JSON `{From, To, Body,
 * Message}` where Body is the code and Message the rendered text; Bearer auth (the token as
 * "Auth") or Basic (any "Auth" user name, the token as "Auth Password"). Authentik sends no
 * kind of message, so the default scenario applies.
 */
export function authentikRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'authentik',
    authenticate(req) {
      requireCredential(req.headers, route.credential, ['bearer', 'basic']);
      return undefined;
    },
    parse(req) {
      const b = jsonBody(req.headers, req.body);
      return {
        mobile: required(b, 'To'),
        scenario: defaultScenario,
        code: required(b, 'Body'),
        text: text(b, 'Message'),
      };
    },
    replies: authentikReplies,
  };
}
