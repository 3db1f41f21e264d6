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

export const missingTarget = () =>
  invalidArgument('target', 'exactly one of dingtalk_user_id, mobile or union_id is required');
