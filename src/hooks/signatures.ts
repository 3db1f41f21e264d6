import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RequestRefusal } from '../http/status';

/** ZITADEL and Standard Webhooks both refuse a signature more than five minutes from now. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

const header = (headers: IncomingHttpHeaders, name: string): string => {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? '';
};

const refuse = (message: string) => new RequestRefusal('unauthenticated', message);

/** Equal bytes, in time that depends only on their length (which is public: a digest's). */
const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);

function checkTimestamp(raw: string, nowMs: number, what: string): string {
  if (!/^\d{1,12}$/.test(raw)) throw refuse(`${what} is missing or not a Unix time in seconds`);
  const skew = Math.abs(nowMs / 1000 - Number(raw));
  if (skew > SIGNATURE_TOLERANCE_SECONDS)
    throw refuse(`${what} is more than ${SIGNATURE_TOLERANCE_SECONDS} s from the gateway's clock`);
  return raw;
}

/**
 * ZITADEL's HTTP provider signature: `ZITADEL-Signature: t=<unix>,v1=<hex>` where the hex
 * is HMAC-SHA256(signing key, "<t>.<raw body>"). Returns the signature that matched, which
 * names this delivery (its retries carry the same header).
 */
export function verifyZitadel(
  headers: IncomingHttpHeaders,
  body: Buffer,
  key: string,
  nowMs: number,
): string {
  const parts = header(headers, 'zitadel-signature')
    .split(',')
    .map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1] ?? '';
  const v1s = parts
    .filter(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/i.test(v))
    .map(([, v]) => v);
  if (v1s.length === 0) throw refuse('ZITADEL-Signature is missing or has no v1 signature');
  checkTimestamp(t, nowMs, 'ZITADEL-Signature t');
  const expected = createHmac('sha256', key).update(`${t}.`).update(body).digest();
  const match = v1s.find((v) => sameBytes(Buffer.from(v, 'hex'), expected));
  if (match === undefined) throw refuse('ZITADEL-Signature does not match the body and the signing key');
  return match.toLowerCase();
}

/** A Standard Webhooks secret `v1,whsec_<base64>` as the HMAC key it stands for. */
export const webhookKey = (secret: string): Buffer =>
  Buffer.from(secret.trim().slice('v1,whsec_'.length), 'base64');

/**
 * Standard Webhooks (Supabase Auth's hooks): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256(key,
 * "<id>.<timestamp>.<raw body>")>`; any signature under any of `keys` (several while one is
 * rotated out; see webhookKey) will do. Returns the webhook id, which a retry carries unchanged.
 */
export function verifyStandardWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  keys: readonly Buffer[],
  nowMs: number,
): string {
  const id = header(headers, 'webhook-id');
  if (!/^[\x21-\x7e]{1,128}$/.test(id)) throw refuse('webhook-id is missing');
  const ts = checkTimestamp(header(headers, 'webhook-timestamp'), nowMs, 'webhook-timestamp');
  const given = header(headers, 'webhook-signature')
    .split(/\s+/)
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'));
  if (given.length === 0) throw refuse('webhook-signature is missing or has no v1 signature');
  // Every signature is compared under every key, matched or not: the time does not tell which.
  let ok = false;
  for (const key of keys) {
    const expected = createHmac('sha256', key).update(`${id}.${ts}.`).update(body).digest();
    for (const g of given) ok = sameBytes(g, expected) || ok;
  }
  if (!ok) throw refuse('webhook-signature does not match the body and the secret');
  return id;
}
