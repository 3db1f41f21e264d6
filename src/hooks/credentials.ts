import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RequestRefusal } from '../http/status';

/**
 * Constant-time equality of a presented secret and the expected one: both are hashed first,
 * so neither their contents nor their lengths show in how long the comparison takes.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** The secrets a request presents: a Bearer token, a Basic password, a bare Authorization value, an X-API-Key. */
function presented(headers: IncomingHttpHeaders, ways: readonly CredentialWay[]): string[] {
  const out: string[] = [];
  const auth = header(headers, 'authorization')?.trim() ?? '';
  const [scheme, rest = ''] = auth.split(/\s+(.*)/s);
  if (ways.includes('bearer') && /^bearer$/i.test(scheme)) out.push(rest.trim());
  if (ways.includes('basic') && /^basic$/i.test(scheme)) {
    const decoded = Buffer.from(rest.trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) out.push(decoded.slice(colon + 1));
  }
  if (ways.includes('raw') && auth !== '') out.push(auth);
  const apiKey = header(headers, 'x-api-key');
  if (ways.includes('api_key') && apiKey !== undefined) out.push(apiKey.trim());
  return out;
}

/** How a route's callers may present its static credential. */
export type CredentialWay = 'bearer' | 'basic' | 'raw' | 'api_key';

/**
 * Checks a static credential presented in any of `ways` (a Basic password: any user name,
 * the credential as the password), each compared in constant time. Throws 401 otherwise,
 * naming only what was expected, never what was sent.
 */
export function requireCredential(
  headers: IncomingHttpHeaders,
  credential: string,
  ways: readonly CredentialWay[],
): void {
  const given = presented(headers, ways);
  // Every candidate is compared, so the answer's timing does not say which one was close.
  const ok = given.map((g) => sameSecret(g, credential)).includes(true);
  if (ok) return;
  throw new RequestRefusal(
    'unauthenticated',
    given.length === 0 ? 'no credential was presented' : 'the credential is not valid',
    ways.includes('basic') ? { 'www-authenticate': 'Basic realm="dingtalk-gateway hooks"' } : {},
  );
}
