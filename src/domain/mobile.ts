import { createHmac } from 'node:crypto';
import { invalidArgument } from './errors';

/**
 * A mobile number as DingTalk's getbymobile wants it. A mainland China number (country code
 * 86) is looked up as its 11 national digits, which is how DingTalk stores mainland numbers;
 * a number of any other country keeps its country code in DingTalk's own form for such
 * numbers, `+<cc>-<national number>` (e.g. `+852-51234567`), so it is never mistaken for a
 * mainland one.
 */
export interface NormalisedMobile {
  /** The form sent to getbymobile: `13800000001`, or `+852-51234567`. */
  lookup: string;
  /** The country calling code, without the plus: '86' for mainland China. */
  countryCode: string;
}

/**
 * E.164 country codes are prefix-free: 1 and 7 are the only one-digit codes, these are the
 * two-digit ones, and every other code has three digits (ITU-T E.164 Annex, list of assigned
 * country codes).
 */
const TWO_DIGIT_CODES = new Set(
  '20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98'.split(
    ' ',
  ),
);

/** The country code at the start of an international number's digits. */
function countryCodeOf(digits: string): string {
  if (digits[0] === '1' || digits[0] === '7') return digits[0];
  return TWO_DIGIT_CODES.has(digits.slice(0, 2)) ? digits.slice(0, 2) : digits.slice(0, 3);
}

/** A mainland mobile: 11 digits starting 13-19. */
const MAINLAND = /^1[3-9]\d{9}$/;

const refuse = (field: string, why: string) =>
  invalidArgument(
    field,
    `${why}; expected a mobile number such as +8613800000001, 8613800000001 or 13800000001`,
  );

/**
 * Normalises a mobile number as identity servers send them: E.164 with the plus
 * (`+8613800000001`, what Kratos, ZITADEL and Keycloak pass), E.164 without it
 * (`8613800000001`, as Supabase and Logto store numbers), with the `00` international
 * prefix, or national (`13800000001`). Spaces, dots, dashes and parentheses are ignored.
 *
 * Reading rules, in order: a leading `+` or `00` makes the number international; an
 * 11-digit number starting 13-19 is a mainland national number (so a North American
 * number must come with its `+1`); any other run of digits is read as E.164 without the
 * plus. An international mainland number must then be a mainland mobile; any other
 * country's number must have 4-14 digits after its code. The value is never echoed.
 */
export function normaliseMobile(raw: string, field = 'mobile'): NormalisedMobile {
  const compact = raw.trim().replace(/[\s().-]/g, '');
  let digits: string;
  if (compact.startsWith('+')) digits = compact.slice(1);
  else if (compact.startsWith('00')) digits = compact.slice(2);
  else if (MAINLAND.test(compact)) return { lookup: compact, countryCode: '86' };
  else digits = compact;
  if (!/^[1-9]\d{6,14}$/.test(digits)) throw refuse(field, 'is not a mobile number');
  const countryCode = countryCodeOf(digits);
  const national = digits.slice(countryCode.length);
  if (countryCode === '86') {
    if (!MAINLAND.test(national))
      throw refuse(field, 'is not a mainland China mobile number (+86 1xx xxxx xxxx)');
    return { lookup: national, countryCode };
  }
  if (national.length < 4) throw refuse(field, 'is too short for its country code');
  return { lookup: `+${countryCode}-${national}`, countryCode };
}

/**
 * The store's name for a number in the look-up cache: an HMAC under the gateway's code
 * secret, so the store never holds a number, nor a plain hash that could be reversed by
 * trying every number.
 */
export const mobileCacheKey = (secret: Buffer, mobile: NormalisedMobile): string =>
  createHmac('sha256', secret).update(`getbymobile\n${mobile.lookup}`).digest('base64url');
