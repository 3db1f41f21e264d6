import { MESSAGES, type MessageKey } from './messages';

/** The console's two languages; every string it shows comes from MESSAGES in both. */
export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];

export const isLang = (v: string | undefined): v is Lang => (LANGS as readonly string[]).includes(v ?? '');

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** Looks a message up and fills its `{name}` placeholders (plain text: html`` escapes it). */
export function translator(lang: Lang): Translate {
  const column = lang === 'zh-CN' ? 1 : 0;
  return (key, params) => {
    const text = MESSAGES[key][column];
    return params ? text.replace(/\{(\w+)\}/g, (m, name: string) => String(params[name] ?? m)) : text;
  };
}

/**
 * The `lang` cookie when it names one of ours, else the browser's Accept-Language: the
 * preferred (highest q) of its Chinese and English tags decides; anything else is English.
 */
export function pickLang(cookieLang: string | undefined, acceptLanguage: string | undefined): Lang {
  if (isLang(cookieLang)) return cookieLang;
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag, ...params] = part.trim().toLowerCase().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag, q: q === undefined ? 1 : Number(q), i };
    })
    .filter(
      (x) =>
        x.q > 0 && (x.tag === 'zh' || x.tag.startsWith('zh-') || x.tag === 'en' || x.tag.startsWith('en-')),
    )
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked[0]?.tag.startsWith('zh') ? 'zh-CN' : 'en';
}

const UTC = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'UTC',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
});

/** A moment as "2025-01-31 08:05:09 UTC": the same for every reader, whatever their zone. */
export const formatTime = (ms: number): string => `${UTC.format(ms).replace(', ', ' ')} UTC`;

export const formatPercent = (ratio: number | undefined): string =>
  ratio === undefined ? '–' : `${(ratio * 100).toFixed(ratio >= 0.995 || ratio === 0 ? 0 : 1)}%`;
