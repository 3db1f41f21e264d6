import type http from 'node:http';
import type { AdminService } from '../admin/service';
import type { HttpError } from '../http/status';
import type { Logger } from '../logger';
import type { BindingService } from '../verification/binding';
import type { VerificationService } from '../verification/service';
import type { Html } from './html';
import type { View } from './layout';
import type { Session, Sessions } from './session';
import type { SignInGuard } from './signin';

/** One request, as the routes see it. */
export interface ConsoleRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  /** The peer's address, for the sign-in limit. */
  ip: string;
  cookies: Map<string, string>;
  view: View;
  /** A POST's fields; empty for GET. */
  form: URLSearchParams;
  /** Aborted when the browser goes away: passed to every call that waits on DingTalk. */
  signal: AbortSignal;
  /** This console's own origin, as the browser addressed it. */
  origin: string;
  session?: Session;
}

export interface Reply {
  status: number;
  body?: Html | string;
  /** Default text/html. */
  type?: string;
  headers?: Record<string, string | string[]>;
}

export interface RouteDeps {
  admin: AdminService;
  verification: Pick<VerificationService, 'testScenario'>;
  binding: BindingService;
  logger: Logger;
  random: (n: number) => Buffer;
  sessions: Sessions;
  guard: SignInGuard;
  /** Served over TLS: cookies are Secure, and the session cookie is __Host- prefixed. */
  secure: boolean;
  /** Maps an error to its HTTP answer (src/http/status.ts), logging the unexpected. */
  fail: (e: unknown) => HttpError;
}

export const redirect = (location: string, headers: Record<string, string | string[]> = {}): Reply => ({
  status: 303,
  headers: { location, ...headers },
});

/** A path of this console to go back to: never another site, never a scheme-relative //host. */
export const localPath = (raw: string | null | undefined, fallback = '/'): string =>
  raw && /^\/(?![/\\])[\x21-\x7e]*$/.test(raw) ? raw : fallback;

/** Notices a redirect may ask for by name: never text from the query itself. */
const NOTICES = {
  saved: 'notice.saved',
  unchanged: 'notice.unchanged',
  unbound: 'notice.unbound',
  notbound: 'notice.notbound',
} as const;

export const noticeOf = (v: View, url: URL): string | undefined => {
  const key = url.searchParams.get('notice') as keyof typeof NOTICES | null;
  return key && key in NOTICES ? v.t(NOTICES[key]) : undefined;
};

/**
 * A POST is accepted only from a page of this console. Sec-Fetch-Site, which every current
 * browser sends and no page can forge, must say same-origin: a sibling port such as the
 * sandbox inbox is same-site but not same-origin. Without it, Origin must be ours. Under
 * `Referrer-Policy: no-referrer` a browser sends `Origin: null` even for the console's own
 * forms, so null passes only beside a same-origin Sec-Fetch-Site.
 */
export function fromElsewhere(req: ConsoleRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin';
  const origin = req.headers.origin;
  return origin !== undefined && origin !== req.origin;
}
