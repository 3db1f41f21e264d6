/**
 * How a binding between an identity user and a DingTalk userid was made: given, looked up
 * (mobile, unionid), or proven by the user logging in to DingTalk (`dingtalk_login`
 * through the gateway's OAuth flow, `dingtalk_in_app` with a micro-app's auth code).
 */
export type BindingSource = 'dingtalk_user_id' | 'mobile' | 'union_id' | 'dingtalk_login' | 'dingtalk_in_app';

export interface Binding {
  userId: string;
  dingtalkUserId: string;
  source: BindingSource;
  /** Milliseconds since the epoch. */
  boundAt: number;
}
