/** How a binding between an identity user and a DingTalk userid was made. */
export type BindingSource = 'dingtalk_user_id' | 'mobile' | 'union_id';

export interface Binding {
  userId: string;
  dingtalkUserId: string;
  source: BindingSource;
  /** Milliseconds since the epoch. */
  boundAt: number;
}
