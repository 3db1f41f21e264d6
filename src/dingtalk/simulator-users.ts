/** A user of the simulated organisation. */
export interface SimUser {
  userid: string;
  name: string;
  mobile: string;
  unionid: string;
  /** False for a former employee: not found by mobile or unionid, getUser says inactive, sends are invalid. */
  active: boolean;
  /** False when outside the app's visible range: sends are accepted (errcode 0) but never delivered. */
  visible: boolean;
}

/** The built-in organisation; every case the gateway must handle has one user. */
export const DEMO_USERS: readonly SimUser[] = [
  {
    userid: 'demo-alice',
    name: 'Alice',
    mobile: '13800000001',
    unionid: 'union-demo-alice',
    active: true,
    visible: true,
  },
  {
    userid: 'demo-bob',
    name: 'Bob',
    mobile: '13800000002',
    unionid: 'union-demo-bob',
    active: true,
    visible: true,
  },
  {
    userid: 'demo-carol',
    name: 'Carol',
    mobile: '13800000003',
    unionid: 'union-demo-carol',
    active: true,
    visible: true,
  },
  {
    userid: 'demo-outsider',
    name: 'Oscar Outsider',
    mobile: '13800000004',
    unionid: 'union-demo-outsider',
    active: true,
    visible: false,
  },
  {
    userid: 'demo-former',
    name: 'Fiona Former',
    mobile: '13800000005',
    unionid: 'union-demo-former',
    active: false,
    visible: true,
  },
];

/** What `startSimulator()` uses unless told otherwise; public so a sandbox can be configured by hand. */
export const SIMULATOR_DEFAULTS = {
  appKey: 'sim-app-key',
  appSecret: 'sim-app-secret',
  agentId: 100000001,
  tokenTtlSeconds: 7200,
  dailyCapPerUser: 500,
  /** The simulated organisation's CorpId, which its members' logins carry. */
  corpId: 'ding-sandbox-corp',
  corpName: '沙箱企业 Sandbox Corp',
  /** The simulated app's name, as DingTalk's login page shows it. */
  appName: 'DingTalk Gateway Sandbox',
} as const;

/**
 * A DingTalk account that can log in with DingTalk but is no member of the simulated
 * organisation, for the refusals of binding through DingTalk login.
 */
export interface SimLoginAccount {
  name: string;
  unionid: string;
  /** The organisation the login is for (the token's corpId). */
  corpId: string;
  /**
   * 1: an external contact of the simulated organisation, which getbyunionid answers with
   * contact_type 1 and this userid; 0: unknown to it (getbyunionid: 60121).
   */
  contactType: 0 | 1;
  /** The userid getbyunionid answers for an external contact. */
  userid: string;
}

/** One account of another organisation and one external contact, listed on the sandbox login page. */
export const OTHER_LOGIN_ACCOUNTS: readonly SimLoginAccount[] = [
  {
    name: 'Dave (another organisation)',
    unionid: 'union-other-dave',
    corpId: 'ding-other-corp',
    contactType: 0,
    userid: 'other-dave',
  },
  {
    name: 'Erin (external contact)',
    unionid: 'union-external-erin',
    corpId: 'ding-erin-corp',
    contactType: 1,
    userid: 'external-erin',
  },
];
