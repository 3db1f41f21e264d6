import { invalidArgument } from './errors';

/**
 * Field checks shared by every entry point. Each returns the normalized value or
 * throws INVALID_ARGUMENT naming the field. Messages never echo a mobile number or a code.
 */

const USER_ID = /^[A-Za-z0-9._@:+-]{1,128}$/;
const DINGTALK_USER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const UNION_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MOBILE = /^(\+\d{1,4}-?)?\d{5,15}$/;
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$/;

const describe = (value: string): string =>
  value.length === 0 ? 'is required' : `is ${value.length} characters`;

export function userId(value: string, field = 'user_id'): string {
  if (!USER_ID.test(value)) {
    throw invalidArgument(field, `${describe(value)}; expected 1-128 characters of A-Z a-z 0-9 . _ @ : + -`);
  }
  return value;
}

export function dingtalkUserId(value: string, field = 'dingtalk_user_id'): string {
  if (!DINGTALK_USER_ID.test(value)) {
    throw invalidArgument(field, `${describe(value)}; expected 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  return value;
}

export function unionId(value: string, field = 'union_id'): string {
  if (!UNION_ID.test(value)) {
    throw invalidArgument(field, `${describe(value)}; expected 1-64 characters of A-Z a-z 0-9 _ -`);
  }
  return value;
}

/**
 * A one-time DingTalk code (a login's authCode, an in-app auth code): printable ASCII
 * without spaces, at most 256 characters. Its value is never echoed.
 */
export function authCode(value: string, field = 'auth_code'): string {
  if (!/^[\x21-\x7e]{1,256}$/.test(value)) {
    throw invalidArgument(field, `${describe(value)}; expected the code DingTalk returned, as it is`);
  }
  return value;
}

export function mobile(value: string, field = 'mobile'): string {
  const compact = value.replace(/[\s()]/g, '');
  if (!MOBILE.test(compact)) {
    throw invalidArgument(field, 'is not a mobile number; expected digits with an optional +country code');
  }
  return compact;
}

export function locale(value: string, field = 'locale'): string | undefined {
  if (value === '') return undefined;
  if (value.length > 35 || !LOCALE.test(value))
    throw invalidArgument(field, 'is not a BCP 47 tag such as zh-CN or en-US');
  return value;
}

export function code(value: string, length: number, field = 'code'): string {
  if (value.length !== length || !/^\d+$/.test(value))
    throw invalidArgument(field, `must be exactly ${length} digits`);
  return value;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** RFC 4291 text form: eight hex groups, one `::` for a run of zeros, an IPv4 tail allowed. */
function isIpv6(v: string): boolean {
  if (v.length > 45) return false;
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = halves.flatMap((h) => (h === '' ? [] : h.split(':')));
  const last = groups[groups.length - 1];
  const ipv4Tail = last !== undefined && IPV4.test(last);
  const hex = ipv4Tail ? groups.slice(0, -1) : groups;
  if (!hex.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return false;
  const width = hex.length + (ipv4Tail ? 2 : 0);
  return halves.length === 2 ? width <= 7 : width === 8;
}

/** An IPv4 or IPv6 address, normalised to lower case; '' when absent. */
export function clientIp(value: string, field = 'client_ip'): string {
  if (value === '') return '';
  const v = value.toLowerCase();
  if (!IPV4.test(v) && !isIpv6(v)) throw invalidArgument(field, 'is not an IPv4 or IPv6 address');
  return v;
}

/** A verification id as SendCode returns it: 16 random bytes, base64url. */
export function verificationId(value: string, field = 'verification_id'): string {
  if (!/^[A-Za-z0-9_-]{22}$/.test(value))
    throw invalidArgument(field, `${describe(value)}; expected the 22-character id SendCode returned`);
  return value;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._~:+/=-]{1,128}$/;

/**
 * A caller's idempotency key (a UUID, a ULID, base64 of random bytes, …): 1-128 characters of
 * A-Z a-z 0-9 . _ ~ : + / = -; '' when absent. Its value is never echoed.
 */
export function idempotencyKey(value: string, field = 'idempotency_key'): string {
  if (value === '') return '';
  if (!IDEMPOTENCY_KEY.test(value))
    throw invalidArgument(
      field,
      `${describe(value)}; expected 1-128 characters of A-Z a-z 0-9 . _ ~ : + / = -`,
    );
  return value;
}

export const missingTarget = () =>
  invalidArgument('target', 'exactly one of dingtalk_user_id, mobile, union_id or auth_code is required');
