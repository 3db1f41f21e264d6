import { isGatewayFailure, upstream, type GatewayFailure } from '../domain/errors';
import {
  classifyApiError,
  classifyErrcode,
  describeApiError,
  describeErrcode,
  type ClassifiedErrcode,
} from './errcodes';
import { toNumber, toText, type Json } from './http';

/** The failure a classified DingTalk error stands for, oapi errcode or new-API code alike. */
function classifiedFailure(endpoint: string, cls: ClassifiedErrcode, description: string): GatewayFailure {
  return upstream({
    upstream: cls.kind,
    errcode: cls.errcode,
    endpoint,
    retryable: cls.retryable,
    message: `DingTalk ${endpoint} failed: ${description}`,
  });
}

/** An oapi answer with a non-zero errcode (88 unwrapped through `subCode`). */
export function oapiFailure(endpoint: string, errcode: number, subCode?: number): GatewayFailure {
  return classifiedFailure(endpoint, classifyErrcode(errcode, subCode), describeErrcode(errcode, subCode));
}

/**
 * An answer that is not a success: a new-API error `{code, message}`, an oapi-style
 * errcode where none was expected, or JSON of an unknown shape.
 */
export function apiFailure(endpoint: string, httpStatus: number, json: Json): GatewayFailure {
  const code = toText(json.code);
  if (code) {
    return classifiedFailure(
      endpoint,
      classifyApiError(httpStatus, code, endpoint),
      describeApiError(httpStatus, code, endpoint),
    );
  }
  const errcode = toNumber(json.errcode);
  if (errcode !== undefined && errcode !== 0) return oapiFailure(endpoint, errcode, toNumber(json.sub_code));
  return upstream({
    upstream: 'bad_response',
    errcode: 0,
    endpoint,
    retryable: httpStatus >= 500,
    message: `DingTalk ${endpoint}: unexpected answer (HTTP ${httpStatus})`,
  });
}

/** The stats key of a failed call: the errcode when DingTalk gave one, else the failure class. */
export function outcomeOf(e: unknown): string {
  if (!isGatewayFailure(e)) return 'error';
  const d = e.detail;
  if (d.kind !== 'upstream') return d.kind;
  return d.errcode !== 0 ? String(d.errcode) : d.upstream;
}

/** DingTalk's errmsg, for logs only: long digit runs (mobiles, ids) masked, length capped. */
export function redactErrmsg(errmsg: unknown): string {
  const text = toText(errmsg) ?? '';
  return text.replace(/\d{7,}/g, '<digits>').slice(0, 200);
}
