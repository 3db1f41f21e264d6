import http from 'node:http';
import https from 'node:https';
import { startGateway, type TestGateway } from '../helpers/gateway';

/** The administrator token every console test signs in with. */
export const ADMIN_TOKEN = 'console-test-admin-token-0123456789';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Set-Cookie lines of this answer. */
  setCookies: string[];
}

export interface RequestOptions {
  form?: Record<string, string | string[]>;
  headers?: Record<string, string>;
}

/**
 * A browser's worth of HTTP for the tests: a cookie jar, no redirects followed (tests look
 * at each 303), forms posted url-encoded with a same-origin Origin unless told otherwise.
 */
export interface ConsoleClient {
  readonly url: string;
  readonly cookies: Map<string, string>;
  get(path: string, o?: RequestOptions): Promise<Answer>;
  post(path: string, o?: RequestOptions): Promise<Answer>;
  /** GET /login, then POST the token; returns the POST's answer. */
  signIn(token?: string): Promise<Answer>;
}

export function consoleClient(url: string, ca?: Buffer): ConsoleClient {
  const cookies = new Map<string, string>();
  const request = (method: string, path: string, o: RequestOptions = {}): Promise<Answer> => {
    const body = o.form ? formBody(o.form) : undefined;
    const target = new URL(path, url);
    const headers: Record<string, string> = {
      ...(body !== undefined
        ? {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(Buffer.byteLength(body)),
          }
        : {}),
      ...(method === 'POST' ? { origin: url } : {}),
      ...(cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
      ...o.headers,
    };
    return new Promise((resolve, reject) => {
      const req = (target.protocol === 'https:' ? https : http).request(
        target,
        { method, headers, ...(ca ? { ca } : {}) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const setCookies = res.headers['set-cookie'] ?? [];
            for (const line of setCookies) {
              const [pair, ...attrs] = line.split(';');
              const i = pair.indexOf('=');
              const name = pair.slice(0, i);
              const gone = attrs.some((a) => a.trim().toLowerCase() === 'max-age=0');
              if (gone) cookies.delete(name);
              else cookies.set(name, pair.slice(i + 1));
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
              setCookies,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
  return {
    url,
    cookies,
    get: (path, o) => request('GET', path, o),
    post: (path, o) => request('POST', path, o),
    async signIn(token = ADMIN_TOKEN) {
      const form = await request('GET', '/login');
      return request('POST', '/login', {
        form: { form_token: field(form.body, 'form_token'), next: '/', token },
      });
    },
  };
}

function formBody(form: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) p.append(k, x);
  return p.toString();
}

/** The attributes of every `tag` element of a page (values unescaped as a browser would). */
export function tags(page: string, tag: string): Array<Record<string, string>> {
  return [...page.matchAll(new RegExp(`<${tag}\\b([^>]*)>`, 'g'))].map((m) =>
    Object.fromEntries(
      [...m[1].matchAll(/([a-z-]+)(?:="([^"]*)")?/g)].map((a) => [a[1], unescape(a[2] ?? '')]),
    ),
  );
}

export const unescape = (s: string): string =>
  s.replace(
    /&(lt|gt|quot|#39|amp);/g,
    (_, e: string) => ({ lt: '<', gt: '>', quot: '"', '#39': "'", amp: '&' })[e]!,
  );

/** The first input named `name`, or undefined. */
export const input = (page: string, name: string): Record<string, string> | undefined =>
  tags(page, 'input').find((a) => a.name === name);

/** The value of the first input named `name` in a page. */
export function field(page: string, name: string): string {
  const found = input(page, name);
  if (!found) throw new Error(`no field ${name} in the page`);
  return found.value ?? '';
}

/** The page's CSRF token and settings version: what every settings form posts back. */
export const formKeys = (page: string) => ({ csrf: field(page, 'csrf'), version: field(page, 'version') });

export interface ConsoleGateway {
  gw: TestGateway;
  url: string;
  /** A client that has signed in. */
  admin: ConsoleClient;
}

/** A sandbox gateway with its console, and a signed-in client. */
export async function startConsoleGateway(env: Record<string, string> = {}): Promise<ConsoleGateway> {
  const gw = await startGateway({ ADMIN_TOKEN, ...env });
  const url = gw.app.consoleUrl;
  if (!url) {
    await gw.stop();
    throw new Error('the gateway started no console (ADMIN_ADDRESS and ADMIN_TOKEN are set)');
  }
  const admin = consoleClient(url);
  const signedIn = await admin.signIn();
  if (signedIn.status !== 303) throw new Error(`sign-in answered ${signedIn.status}`);
  return { gw, url, admin };
}
