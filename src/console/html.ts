/**
 * HTML built by one tagged template that escapes every interpolated value unless it is
 * already Html (made by `html` itself or, for our own constant markup, `trusted`), so a
 * user id, a template text or DingTalk's message can never become markup.
 */
const HTML = Symbol('html');

export interface Html {
  readonly [HTML]: true;
  readonly text: string;
}

const make = (text: string): Html => ({ [HTML]: true, text });

export const isHtml = (v: unknown): v is Html => typeof v === 'object' && v !== null && HTML in v;

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

/** Interpolations: Html as is, arrays item by item, null and undefined as nothing, the rest escaped. */
function render(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (isHtml(value)) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return make(out);
}

/** Markup we wrote ourselves (the SVG chart's numbers, constant fragments); never user input. */
export const trusted = (text: string): Html => make(text);

/** An attribute that is present or absent, e.g. `${attr('disabled', readOnly)}`. */
export const attr = (name: string, on: boolean): Html => make(on ? ` ${name}` : '');
