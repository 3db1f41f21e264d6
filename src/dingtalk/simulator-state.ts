import { randomBytes } from 'node:crypto';
import type { SimLoginAccount, SimUser } from './simulator-users';

export type SimJson = Record<string, unknown>;

/** An oapi answer: always HTTP 200, success or not. */
export const ok = (fields: SimJson = {}): SimJson => ({
  errcode: 0,
  errmsg: 'ok',
  ...fields,
  request_id: requestId(),
});
export const fail = (errcode: number, errmsg: string): SimJson => ({
  errcode,
  errmsg,
  request_id: requestId(),
});
export const requestId = (): string => randomBytes(6).toString('hex');

export const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : undefined;
export const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;

/**
 * The app's access tokens as DingTalk keeps them: fetching again before expiry returns
 * the same token with its lifetime extended; an expired token is refused with 42001,
 * one never issued with 40014.
 */
export function createTokenBook(ttlSeconds: number, now: () => number) {
  const issued = new Map<string, number>();
  let current: string | undefined;
  return {
    issue(): { token: string; expiresIn: number } {
      const t = now();
      if (!current || (issued.get(current) ?? 0) <= t) current = randomBytes(16).toString('hex');
      issued.set(current, t + ttlSeconds * 1000);
      return { token: current, expiresIn: ttlSeconds };
    },
    /** 0 when the token is good, else the errcode DingTalk would answer. */
    check(token: string | undefined): number {
      const expiresAt = token === undefined ? undefined : issued.get(token);
      if (expiresAt === undefined) return 40014;
      return expiresAt <= now() ? 42001 : 0;
    },
    expireAll(): void {
      const past = now() - 1;
      for (const token of issued.keys()) issued.set(token, past);
    },
    all: (): string[] => [...issued.keys()],
  };
}

const MOBILE = /^(\+?\d{1,4}-)?\d{6,15}$/;

/**
 * The contact look-ups; only active employees are found by mobile or unionid, and
 * getbyunionid also knows the organisation's external contacts (contact_type 1).
 */
export function createDirectory(
  users: readonly SimUser[],
  externalContacts: readonly SimLoginAccount[] = [],
) {
  const byId = new Map(users.map((u) => [u.userid, u]));
  return {
    get: (userid: string): SimUser | undefined => byId.get(userid),
    all: (): SimUser[] => [...byId.values()],

    getByMobile(body: SimJson): SimJson {
      const mobile = str(body.mobile);
      if (mobile === undefined || mobile === '') return fail(40035, '缺少参数 mobile');
      if (!MOBILE.test(mobile)) return fail(40104, '无效的手机号');
      const bare = mobile.replace(/^\+?86-/, '');
      const user = users.find((u) => u.active && u.mobile === bare);
      return user
        ? ok({ result: { userid: user.userid, exclusive_account_userid_list: [] } })
        : fail(60121, '找不到该用户');
    },

    getByUnionId(body: SimJson): SimJson {
      const unionid = str(body.unionid);
      if (!unionid) return fail(40035, '缺少参数 unionid');
      const user = users.find((u) => u.active && u.unionid === unionid);
      if (user) return ok({ result: { contact_type: 0, userid: user.userid } });
      const contact = externalContacts.find((c) => c.contactType === 1 && c.unionid === unionid);
      return contact
        ? ok({ result: { contact_type: 1, userid: contact.userid } })
        : fail(60121, '找不到该用户');
    },

    getUser(body: SimJson): SimJson {
      const userid = str(body.userid);
      if (!userid) return fail(40035, '缺少参数 userid');
      const user = byId.get(userid);
      if (!user) return fail(33012, '无效的USERID');
      return ok({
        result: {
          userid: user.userid,
          unionid: user.unionid,
          name: user.name,
          mobile: user.mobile,
          active: user.active,
          dept_id_list: [1],
        },
      });
    },
  };
}
