import type { SendResult } from '../verification/ports';
import { toNumber, toText } from './http';

/** Maps getsendresult's `send_result` to our names; missing lists are empty, ids may be numbers. */
export function readSendResult(raw: unknown): SendResult {
  const r = raw && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  return {
    read: ids(r.read_user_id_list),
    unread: ids(r.unread_user_id_list),
    invalid: ids(r.invalid_user_id_list),
    forbidden: ids(r.forbidden_user_id_list),
    failed: ids(r.failed_user_id_list),
    forbiddenList: Array.isArray(r.forbidden_list) ? r.forbidden_list.flatMap(forbidden) : [],
  };
}

function ids(value: unknown): string[] {
  if (typeof value === 'string') return value.split(',').filter((s) => s !== '');
  if (!Array.isArray(value)) return [];
  return value.flatMap((v) => {
    const id = toText(v);
    return id ? [id] : [];
  });
}

function forbidden(value: unknown): SendResult['forbiddenList'] {
  if (!value || typeof value !== 'object') return [];
  const f = value as Record<string, unknown>;
  const code = toNumber(f.code);
  const userid = toText(f.userid);
  if (code === undefined || !userid) return [];
  return [{ code, count: toNumber(f.count) ?? 1, userid }];
}
