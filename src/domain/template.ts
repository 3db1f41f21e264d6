import type { Template } from './policy';
import type { ScenarioName } from './scenario';

/** Placeholders a template may use. `{code}` is required in the text. */
export const PLACEHOLDERS = ['code', 'minutes'] as const;

/** DingTalk refuses a work notification whose `msg` exceeds 2048 bytes; keep headroom for the JSON envelope. */
export const MAX_MESSAGE_BYTES = 1900;

const DEFAULTS: Record<ScenarioName, Record<'zh-CN' | 'en-US', Template>> = {
  login: {
    'zh-CN': {
      title: '登录验证码',
      text: '### 登录验证码\n\n您的登录验证码是 **{code}**，{minutes} 分钟内有效。请勿告诉他人。',
    },
    'en-US': {
      title: 'Sign-in code',
      text: '### Sign-in code\n\nYour sign-in code is **{code}**. It is valid for {minutes} minutes. Do not share it.',
    },
  },
  password_recovery: {
    'zh-CN': {
      title: '找回密码验证码',
      text: '### 找回密码\n\n您正在找回密码，验证码是 **{code}**，{minutes} 分钟内有效。如非本人操作，请忽略。',
    },
    'en-US': {
      title: 'Password recovery code',
      text: '### Password recovery\n\nYour password recovery code is **{code}**, valid for {minutes} minutes. If you did not ask for it, ignore this message.',
    },
  },
  two_factor: {
    'zh-CN': {
      title: '二次认证验证码',
      text: '### 二次认证\n\n您的二次认证验证码是 **{code}**，{minutes} 分钟内有效。请勿告诉他人。',
    },
    'en-US': {
      title: 'Two-factor code',
      text: '### Two-factor authentication\n\nYour verification code is **{code}**, valid for {minutes} minutes. Do not share it.',
    },
  },
  password_reset: {
    'zh-CN': {
      title: '重置密码验证码',
      text: '### 重置密码\n\n您正在重置密码，验证码是 **{code}**，{minutes} 分钟内有效。如非本人操作，请立即联系管理员。',
    },
    'en-US': {
      title: 'Password reset code',
      text: '### Password reset\n\nYour password reset code is **{code}**, valid for {minutes} minutes. If this was not you, contact your administrator now.',
    },
  },
  risk_warning: {
    'zh-CN': {
      title: '风险登录提醒',
      text: '### 风险登录提醒\n\n检测到您的账号存在异常登录。如确为本人操作，请输入验证码 **{code}**（{minutes} 分钟内有效）；否则请立即修改密码并联系管理员。',
    },
    'en-US': {
      title: 'Risky sign-in warning',
      text: '### Risky sign-in warning\n\nAn unusual sign-in to your account was detected. If it was you, enter **{code}** (valid for {minutes} minutes); otherwise change your password and contact your administrator now.',
    },
  },
};

export const DEFAULT_LOCALES = ['zh-CN', 'en-US'] as const;

export const defaultTemplates = (scenario: ScenarioName): Record<string, Template> => ({
  ...DEFAULTS[scenario],
});

/** Problems with a template, as "what is wrong" strings; empty when valid. */
export function templateProblems(t: Template): string[] {
  const problems: string[] = [];
  if (!t.title.trim()) problems.push('title is empty');
  if (!t.text.includes('{code}')) problems.push('text lacks the {code} placeholder');
  if (t.title.includes('{code}')) problems.push('title must not contain {code} (it shows in previews)');
  for (const m of `${t.title}\n${t.text}`.matchAll(/\{([^{}]*)\}/g)) {
    if (!(PLACEHOLDERS as readonly string[]).includes(m[1])) problems.push(`unknown placeholder {${m[1]}}`);
  }
  return problems;
}

/**
 * Picks the template for a requested locale: exact tag (case-insensitive), then the
 * first template of the same language, then the default locale.
 */
export function pickLocale(
  available: readonly string[],
  requested: string | undefined,
  fallback: string,
): string {
  if (requested) {
    const lower = requested.toLowerCase();
    const exact = available.find((l) => l.toLowerCase() === lower);
    if (exact) return exact;
    const lang = lower.split('-')[0];
    const sameLanguage = available.find((l) => l.toLowerCase().split('-')[0] === lang);
    if (sameLanguage) return sameLanguage;
  }
  return available.includes(fallback) ? fallback : available[0];
}

const REF_LABEL: Record<string, string> = { zh: '编号', en: 'Ref' };
const TEST_NOTE: Record<string, { title: string; line: string }> = {
  zh: { title: '【测试】', line: '> 这是一条测试消息，其中的验证码无法用于验证。' },
  en: { title: '[TEST] ', line: '> This is a test message; the code in it cannot be used to verify.' },
};

export interface RenderInput {
  template: Template;
  locale: string;
  code: string;
  minutes: number;
  /** A per-message reference (part of the verification id): makes every message unique, since DingTalk silently drops repeated content. */
  ref: string;
  test?: boolean;
}

/** Renders a template into a markdown work notification. */
export function renderMessage(input: RenderInput): Template {
  const fill = (s: string): string =>
    s.replace(/\{(code|minutes)\}/g, (_, name: string) =>
      name === 'code' ? input.code : String(input.minutes),
    );
  const lang = input.locale.toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const note = input.test ? TEST_NOTE[lang] : undefined;
  const title = `${note ? note.title : ''}${fill(input.template.title)}`;
  const body = [note?.line, fill(input.template.text), `###### ${REF_LABEL[lang]} ${input.ref}`]
    .filter((s): s is string => s !== undefined)
    .join('\n\n');
  return { title, text: body };
}

export const messageBytes = (m: Template): number => Buffer.byteLength(JSON.stringify(m), 'utf8');
