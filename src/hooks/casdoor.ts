import { codeInText } from '../domain/delivered-code';
import { invalidArgument } from '../domain/errors';
import { jsonOrFormBody, required } from './body';
import { requireCredential } from './credentials';
import { jsonReplies } from './replies';
import type { HookRoute, RouteContext } from './route';

/**
 * Casdoor's custom HTTP SMS provider: `phoneNumber` and `content` (its template with the
 * code, "%s" alone by default), url-encoded by default or JSON, with a static
 * `Authorization: Bearer <token>` header. The code is read out of `content`. Casdoor
 * counts exactly 200 as success, so an answer still under way is 200 too.
 */
export function casdoorRoute({ route, defaultScenario }: RouteContext): HookRoute {
  return {
    name: 'casdoor',
    authenticate(req) {
      requireCredential(req.headers, route.credential, ['bearer', 'api_key']);
      return undefined;
    },
    parse(req) {
      const b = jsonOrFormBody(req.headers, req.body);
      const content = required(b, 'content');
      const code = codeInText(content);
      if (code === undefined)
        throw invalidArgument('content', 'holds no single code (4-10 digits); check the provider template');
      return { mobile: required(b, 'phoneNumber'), scenario: defaultScenario, code, text: content };
    },
    replies: jsonReplies({ pendingStatus: 200 }),
  };
}
