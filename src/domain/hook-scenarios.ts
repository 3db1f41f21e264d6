import type { ScenarioName } from './scenario';

/**
 * Which of our scenarios an identity server's own kind of message is, per server. Kinds not
 * listed (and servers that send none: Authentik, Casdoor) take the configured default
 * scenario (HOOK_DEFAULT_SCENARIO). docs/identity-servers.md#scenarios shows the same table.
 */
export const HOOK_SCENARIOS = {
  /** Kratos courier `template_type`. */
  kratos: {
    login_code_valid: 'login',
    recovery_code_valid: 'password_recovery',
  },
  /** ZITADEL `contextInfo.eventType`. */
  zitadel: {
    'user.human.otp.sms.code.added': 'two_factor',
    'session.otp.sms.challenged': 'two_factor',
    'user.human.password.code.added': 'password_reset',
  },
  /** Supabase Auth `sms.sms_type`. */
  supabase: {
    sms: 'login',
    confirmation: 'login',
    mfa: 'two_factor',
    reauthentication: 'password_reset',
  },
  /** Logto HTTP SMS connector `type`. */
  logto: {
    SignIn: 'login',
    ForgotPassword: 'password_recovery',
    MfaVerification: 'two_factor',
    BindMfa: 'two_factor',
    UserPermissionValidation: 'two_factor',
  },
} as const satisfies Record<string, Record<string, ScenarioName>>;

export type MappedServer = keyof typeof HOOK_SCENARIOS;

/** The scenario for `kind` as `server` names it, or `fallback` when it maps none. */
export function scenarioForKind(
  server: MappedServer,
  kind: string | undefined,
  fallback: ScenarioName,
): ScenarioName {
  const table: Readonly<Record<string, ScenarioName>> = HOOK_SCENARIOS[server];
  return kind !== undefined && Object.hasOwn(table, kind) ? table[kind] : fallback;
}

/** The identity servers with a hook route of their own (POST /hooks/<name>), and the generic JSON route. */
export const HOOK_SERVERS = [
  'kratos',
  'zitadel',
  'supabase',
  'logto',
  'authentik',
  'casdoor',
  'generic',
] as const;

export type HookServer = (typeof HOOK_SERVERS)[number];
