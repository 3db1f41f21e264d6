import { createHmac, randomBytes } from 'node:crypto';

/**
 * Talking to the HTTP hooks as the identity servers do, with their signatures computed here
 * from their own specifications (node:crypto only, none of the gateway's code).
 */

export interface HookAnswer {
  status: number;
  type: string;
  headers: Headers;
  text: string;
  json(): unknown;
}

/** POSTs `body` (a string, sent as is) to `url` with `headers`. */
export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<HookAnswer> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

/** ZITADEL: `t=<unix>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>`. */
export function zitadelSignature(key: string, body: string, t = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

/** Standard Webhooks headers for `body`, signed with a `v1,whsec_<base64>` secret (the base64 part decoded is the key). */
export function standardWebhookHeaders(
  secret: string,
  body: string,
  opts: { id?: string; timestamp?: number } = {},
): Record<string, string> {
  const id = opts.id ?? `msg_${randomBytes(12).toString('hex')}`;
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const key = Buffer.from(secret.split('whsec_')[1], 'base64');
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` };
}

/** A Supabase-style secret: `v1,whsec_` and 32 random bytes in base64. */
export const newWebhookSecret = (): string => `v1,whsec_${randomBytes(32).toString('base64')}`;

/** A random token of 32 characters. */
export const newToken = (): string => randomBytes(24).toString('base64url');

/** `Basic base64(user:password)`. */
export const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
