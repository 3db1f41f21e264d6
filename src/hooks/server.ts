import http from 'node:http';
import { listenHttp } from '../http/listen';
import type { HooksConfig } from '../config/hooks';
import { RequestRefusal, toHttpError } from '../http/status';
import type { Logger } from '../logger';
import type { DeliverCode } from '../verification/deliver';
import type { AuditSink } from '../verification/ports';
import { readBody } from './body';
import { createPipeline } from './pipeline';
import { jsonReplies } from './replies';
import type { Reply } from './route';
import { createRoutes } from './routes';

export interface HooksOptions {
  host: string;
  port: number;
  /** HTTPS with the gateway's certificate when TLS is configured. */
  tls?: { cert: Buffer; key: Buffer };
  hooks: HooksConfig;
  deliver: DeliverCode['deliverCode'];
  /** The code secret, read at each use: keys the hash of a body that carries no id of its own. */
  secret: () => Buffer;
  audit: AuditSink;
  logger: Logger;
  now: () => number;
}

export interface HooksHandle {
  url: string;
  /** The routes that are on, e.g. ['kratos', 'supabase']. */
  routes: string[];
  /** Stops taking requests; deliveries still finishing after their answer get up to `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Every answer's headers: a JSON API that nothing may frame, cache or sniff. */
const HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/**
 * The HTTP hooks: a plain node:http(s) server on HOOKS_ADDRESS, one POST route per identity
 * server (`/hooks/<name>`, on only with its credential), each speaking that server's request,
 * authentication and answer format, all delivering through DeliverCode. Bodies are bounded,
 * request fields and headers are never logged: one debug line per request (route, status, ms).
 */
export async function startHooks(o: HooksOptions): Promise<HooksHandle> {
  const routes = createRoutes(o.hooks);
  const pipeline = createPipeline({
    deliver: o.deliver,
    secret: o.secret,
    answerWithinMs: o.hooks.answerWithinMs,
    audit: o.audit,
    logger: o.logger,
  });
  const plain = jsonReplies();

  const handle = async (req: http.IncomingMessage): Promise<Reply> => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const m = /^\/hooks\/([a-z]+)$/.exec(path);
    const route = m ? routes.get(m[1]) : undefined;
    try {
      if (!route) throw new RequestRefusal('no_route', `no hook is served at ${m ? path : 'this path'}`);
      if (req.method !== 'POST')
        throw new RequestRefusal('method', 'hooks take POST only', { allow: 'POST' });
      const body = await readBody(req, o.hooks.maxBodyBytes);
      return await pipeline.run(route, o.hooks.routes[route.name]!.message, {
        headers: req.headers,
        body,
        now: o.now(),
      });
    } catch (e) {
      req.resume();
      return (route?.replies ?? plain).error(toHttpError(e));
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = performance.now();
    handle(req).then((reply) => {
      if (!res.destroyed) {
        res.writeHead(reply.status, {
          ...HEADERS,
          'content-type': reply.type,
          'content-length': String(Buffer.byteLength(reply.body)),
          ...reply.headers,
        });
        res.end(reply.body);
      }
      if (o.logger.isLevelEnabled('debug'))
        o.logger.debug(
          { hook: req.url?.split('?')[0], status: reply.status, ms: Math.round(performance.now() - started) },
          'hook request',
        );
    });
  };

  // Callers give up at 5 s; a client that trickles its request is cut off well before a minute.
  const { server, url } = await listenHttp({ ...o, requestTimeoutMs: 15_000, listener });
  return {
    url,
    routes: [...routes.keys()],
    close: async (graceMs = 2000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Requests under way get the grace too, then their connections are cut.
      const cut = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(cut);
      await pipeline.drain(graceMs);
    },
  };
}
