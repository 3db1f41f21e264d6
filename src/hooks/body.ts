import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { invalidArgument } from '../domain/errors';
import * as check from '../domain/validation';
import { RequestRefusal } from '../http/status';

/** The body, at most `limit` bytes: larger ones are refused with 413 as soon as that is known. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new RequestRefusal('too_large', `the body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  // Listeners rather than an async iterator: one promise per body instead of one per chunk.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        req.off('data', onData);
        req.resume();
        reject(tooLarge());
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size <= limit) resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    // A connection cut mid-body: nothing can be answered, but the promise must not hang.
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the request was cut off before its body ended'));
    });
  });
}

export type Fields = Record<string, unknown>;

const mediaType = (headers: IncomingHttpHeaders): string =>
  String(headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();

/** A JSON object body (application/json, or no content type at all). */
export function jsonBody(headers: IncomingHttpHeaders, body: Buffer): Fields {
  const type = mediaType(headers);
  if (type !== '' && type !== 'application/json' && !type.endsWith('+json'))
    throw new RequestRefusal('media_type', 'the body must be application/json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidArgument('body', 'is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw invalidArgument('body', 'must be a JSON object');
  return parsed as Fields;
}

/** A JSON object or a url-encoded form, by its content type (a form when none is given). */
export function jsonOrFormBody(headers: IncomingHttpHeaders, body: Buffer): Fields {
  const type = mediaType(headers);
  if (type === 'application/json' || type.endsWith('+json')) return jsonBody(headers, body);
  if (type !== '' && type !== 'application/x-www-form-urlencoded')
    throw new RequestRefusal(
      'media_type',
      'the body must be application/x-www-form-urlencoded or application/json',
    );
  return Object.fromEntries(new URLSearchParams(body.toString('utf8')));
}

/** The value at a dotted path when it is a string or a number (as text); undefined otherwise. */
export function text(fields: Fields, path: string): string | undefined {
  let at: unknown = fields;
  for (const k of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Fields)[k] : undefined;
  if (typeof at === 'string') return at;
  if (typeof at === 'number' && Number.isFinite(at)) return String(at);
  return undefined;
}

/** The first of `paths` that holds a non-empty value, or INVALID_ARGUMENT naming the first path. */
export function required(fields: Fields, ...paths: string[]): string {
  for (const p of paths) {
    const v = text(fields, p)?.trim();
    if (v) return v;
  }
  throw invalidArgument(paths[0], 'is required');
}

/** The end user's address when it is one; anything else is dropped (it only feeds a limit). */
export function optionalIp(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return check.clientIp(value.trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** A whole number of seconds, or undefined; a malformed one is INVALID_ARGUMENT. */
export function seconds(value: string | undefined, field: string, scale = 1): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,9}$/.test(value.trim())) throw invalidArgument(field, 'must be a whole number');
  return Number(value) * scale;
}
