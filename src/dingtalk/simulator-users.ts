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
} as const;
