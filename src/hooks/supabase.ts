import { scenarioForKind } from '../domain/hook-scenarios';
import { jsonBody, optionalIp, required, text } from './body';
import { supabaseReplies } from './replies';
import type { HookRoute, RouteContext } from './route';
import { verifyStandardWebhook, webhookKey } from './signatures';

/**
 * Supabase Auth's Send SMS hook: `{metadata: {uuid, time, name, ip_address}, user: {id,
 * phone, …}, sms: {otp, sms_type, phone?}}`, signed per Standard Webhooks with the hook's
 * `v1,whsec_…` secret (several separated by `|` while one is rotated out).
 */
export function supabaseRoute({ route, defaultScenario }: RouteContext): HookRoute {
  // Decoded once: the HMAC keys the secrets stand for.
  const keys = route.credential.split('|').map(webhookKey);
  return {
    name: 'supabase',
    authenticate: (req) => verifyStandardWebhook(req.headers, req.body, keys, req.now),
    parse(req) {
      const b = jsonBody(req.headers, req.body);
      return {
        userId: text(b, 'user.id'),
        mobile: required(b, 'sms.phone', 'user.phone'),
        scenario: scenarioForKind('supabase', text(b, 'sms.sms_type'), defaultScenario),
        code: required(b, 'sms.otp'),
        clientIp: optionalIp(text(b, 'metadata.ip_address')),
      };
    },
    replies: supabaseReplies,
  };
}
