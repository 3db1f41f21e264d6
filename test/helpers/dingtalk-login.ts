/**
 * What a browser does on the sandbox's DingTalk login page, with fetch: open the authorize
 * URL, find the form of the account with the given name, submit it as the browser would
 * (its inputs, form-encoded, to its action), and read DingTalk's redirect back.
 */

export interface LoginRedirect {
  /** Where DingTalk sent the browser: the redirect URI with `authCode` and `state`. */
  location: URL;
  authCode: string;
  state: string;
}

export interface LoginPage {
  url: string;
  status: number;
  html: string;
}

/** GETs the authorize URL without following redirects. */
export async function openAuthorizePage(authorizeUrl: string): Promise<LoginPage> {
  const res = await fetch(authorizeUrl, { redirect: 'manual' });
  return { url: authorizeUrl, status: res.status, html: await res.text() };
}

const decode = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The forms of a page: action, method, and their named inputs. */
export function formsOf(
  html: string,
): Array<{ action: string; method: string; text: string; fields: URLSearchParams }> {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map(([, attrs, inner]) => {
    const attr = (name: string) => decode(new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1] ?? '');
    const fields = new URLSearchParams();
    for (const [, input] of inner.matchAll(/<input\b([^>]*)>/g)) {
      const name = /\bname="([^"]*)"/.exec(input)?.[1];
      if (name !== undefined) fields.append(decode(name), decode(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? ''));
    }
    const text = decode(
      inner
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    return { action: attr('action'), method: attr('method').toLowerCase() || 'get', text, fields };
  });
}

/** Submits the form whose visible text contains `name`, returning the raw answer (not followed). */
export async function submitAccount(page: LoginPage, name: string): Promise<Response> {
  const form = formsOf(page.html).find((f) => f.text.includes(name));
  if (!form) throw new Error(`the login page offers no account named ${name}`);
  return fetch(new URL(form.action, page.url), {
    method: form.method.toUpperCase(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.fields.toString(),
    redirect: 'manual',
  });
}

/** The whole browser step: authorize URL → pick `name` → DingTalk's 302 back, read. */
export async function loginAs(authorizeUrl: string, name: string): Promise<LoginRedirect> {
  const page = await openAuthorizePage(authorizeUrl);
  if (page.status !== 200) throw new Error(`the login page answered ${page.status}: ${page.html}`);
  const res = await submitAccount(page, name);
  const to = res.headers.get('location');
  if (res.status !== 302 || !to) throw new Error(`picking ${name} answered ${res.status}, not a redirect`);
  const location = new URL(to);
  return {
    location,
    authCode: location.searchParams.get('authCode') ?? '',
    state: location.searchParams.get('state') ?? '',
  };
}
