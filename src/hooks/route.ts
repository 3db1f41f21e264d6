import type { IncomingHttpHeaders } from 'node:http';
import type { HookRouteConfig } from '../config/hooks';
import type { HookServer } from '../domain/hook-scenarios';
import type { ScenarioName } from '../domain/scenario';
import type { HttpError } from '../http/status';
import type { DeliverCodeOutput } from '../verification/deliver';

/** A request as a route sees it: its headers and raw body (signatures are over the raw bytes). */
export interface HookRequest {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The gateway's clock (ms), for signature timestamps. */
  now: number;
}

/** What a route asks to be delivered, in DeliverCode's terms. */
export interface HookDelivery {
  userId?: string;
  mobile: string;
  scenario: ScenarioName;
  code: string;
  /** The caller's rendered text: sent instead of our template when the route is set to `caller`. */
  text?: string;
  locale?: string;
  ttlSeconds?: number;
  /** The end user's address when the caller passed one (dropped when it is not an IP address). */
  clientIp?: string;
  /** The caller's own idempotency key (the generic route's `idempotency_key`). */
  idempotencyKey?: string;
}

/** An HTTP answer. */
export interface Reply {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
}

/** How a route answers, in its caller's own success and error format. */
export interface HookReplies {
  ok(out: DeliverCodeOutput, replayed: boolean): Reply;
  /** Still under way when the caller's time ran out: accepted; it finishes in the background. */
  pending(deliveryId: string | undefined): Reply;
  error(e: HttpError): Reply;
}

/** One identity server's route: POST /hooks/<name>. */
export interface HookRoute {
  name: HookServer;
  /**
   * Checks the request's credential or signature, throwing RequestRefusal (401) when it fails;
   * returns the caller's own id of this delivery when it signs one (a webhook id), which
   * answers its retries, or undefined (then the body's keyed hash does).
   */
  authenticate(req: HookRequest): string | undefined;
  /** Reads the delivery out of the body; throws INVALID_ARGUMENT naming the field. */
  parse(req: HookRequest): HookDelivery;
  replies: HookReplies;
}

/** What an adapter is made from: its route's settings and the scenario for kinds that map to none. */
export interface RouteContext {
  route: HookRouteConfig;
  defaultScenario: ScenarioName;
}
