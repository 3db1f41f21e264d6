import http from 'node:http';
import { listenHttp } from '../http/listen';
import type { AdminService } from '../admin/service';
import { invalidArgument } from '../domain/errors';
import { toHttpError, type HttpError } from '../http/status';
import type { Logger } from '../logger';
import type { BindingService } from '../verification/binding';
import type { VerificationService } from '../verification/service';
import { ASSETS } from './assets';
import { isHtml, type Html } from './html';
import { pickLang, translator } from './i18n';
import type { View } from './layout';
import { errorPage } from './pages/error';
import type { ConsoleRequest, Reply } from './request';
import { createRoutes } from './routes';
import { createSessions, parseCookies } from './session';
import { createSignInGuard } from './signin';

export interface ConsoleOptions {
  /** ADMIN_ADDRESS; port 0 picks a free one. */
  host: string;
  port: number;
  /** HTTPS with the gateway's certificate when TLS is configured; session cookies are then Secure. */
  tls?: { cert: Buffer; key: Buffer };
  /** The administrator's credential to sign in with (ADMIN_TOKEN). */
  adminToken: string;
  admin: AdminService;
  verification: Pick<VerificationService, 'testScenario'>;
  binding: BindingService;
  /** Sandbox only: the simulated DingTalk inbox, linked from the pages. */
  sandboxInboxUrl?: string;
  logger: Logger;
  now: () => number;
  random: (n: number) => Buffer;
}

export interface ConsoleHandle {
  url: string;
  close(): Promise<void>;
}

/**
 * Every answer's headers: nothing but the console's own scripts, styles and images may run
 * or load (no inline code: every page is the same static markup), no framing, no referrer,
 * no caching of pages that show settings.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The largest form the console takes: a scenario's templates fit many times over. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The admin console: a plain HTTP(S) server of server-rendered pages over the same
 * services the gRPC handlers call (never gRPC over loopback), on a port of its own. Of what
 * SendCode and VerifyCode use it only reads: the settings snapshot and the activity
 * counters; its work is a few page renders per click, off their path.
 */
export async function startConsole(o: ConsoleOptions): Promise<ConsoleHandle> {
  if (o.adminToken === '') throw new Error('the console needs an admin token (ADMIN_TOKEN) to sign in with');
  const secure = o.tls !== undefined;
  const sessions = createSessions({ now: o.now, random: o.random });
  const guard = createSignInGuard({ adminToken: o.adminToken, now: o.now });
  const fail = (error: unknown): HttpError => {
    const mapped = toHttpError(error);
    if (mapped.unexpected) o.logger.error({ err: error }, 'console request failed unexpectedly');
    return mapped;
  };
  const routes = createRoutes({ ...o, sessions, guard, secure, fail });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply> => {
    const url = new URL(req.url ?? '/', 'http://console');
    const cookies = parseCookies(req.headers.cookie);
    const lang = pickLang(cookies.get('lang'), req.headers['accept-language']);
    const view: View = {
      t: translator(lang),
      lang,
      path: url.pathname + url.search,
      sandboxInboxUrl: o.sandboxInboxUrl,
    };
    const asset = req.method === 'GET' ? ASSETS[url.pathname] : undefined;
    if (asset) return { status: 200, body: asset.body, type: asset.type };

    const controller = new AbortController();
    res.once('close', () => controller.abort());
    const request: ConsoleRequest = {
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      ip: req.socket.remoteAddress ?? '',
      cookies,
      view,
      form: new URLSearchParams(),
      signal: controller.signal,
      origin: `${secure ? 'https' : 'http'}://${req.headers.host ?? ''}`,
    };
    try {
      if (request.method === 'POST') request.form = await readForm(req);
      return await routes.dispatch(request);
    } catch (e) {
      const problem = fail(e);
      return { status: problem.status, headers: problem.headers, body: errorPage(view, problem) };
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    handle(req, res)
      .catch((e: unknown) => {
        o.logger.error({ err: e }, 'console request failed unexpectedly');
        return { status: 500, body: 'internal error', type: 'text/plain; charset=utf-8' } as Reply;
      })
      .then((reply) => {
        send(res, reply);
        if (o.logger.isLevelEnabled('debug'))
          o.logger.debug(
            {
              console: req.method,
              path: new URL(req.url ?? '/', 'http://console').pathname,
              status: reply.status,
              ms: Math.round(performance.now() - started),
            },
            'console request',
          );
      });
  };

  // A test waits for DingTalk's send result; nothing else takes long.
  const { server, url } = await listenHttp({ ...o, requestTimeoutMs: 60_000, listener });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  const body = reply.body === undefined ? '' : isHtml(reply.body) ? (reply.body as Html).text : reply.body;
  const headers: Record<string, string | string[]> = {
    ...SECURITY_HEADERS,
    'content-type': reply.type ?? 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    ...reply.headers,
  };
  res.writeHead(reply.status, headers);
  res.end(body);
}

/** A POST's form: url-encoded only, at most MAX_BODY_BYTES. */
async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    throw invalidArgument('content-type', 'the console takes forms (application/x-www-form-urlencoded) only');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      throw invalidArgument('body', `is larger than ${MAX_BODY_BYTES / 1024} KiB`);
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
