import type { HookRouteConfig, HooksConfig } from '../config/hooks';
import type { HookServer } from '../domain/hook-scenarios';
import { authentikRoute } from './authentik';
import { casdoorRoute } from './casdoor';
import { genericRoute } from './generic';
import { kratosRoute } from './kratos';
import { logtoRoute } from './logto';
import type { HookRoute, RouteContext } from './route';
import { supabaseRoute } from './supabase';
import { zitadelRoute } from './zitadel';

const ADAPTERS: Record<HookServer, (c: RouteContext) => HookRoute> = {
  kratos: kratosRoute,
  zitadel: zitadelRoute,
  supabase: supabaseRoute,
  logto: logtoRoute,
  authentik: authentikRoute,
  casdoor: casdoorRoute,
  generic: genericRoute,
};

/** The routes that are on (their credential is configured), by name. */
export function createRoutes(hooks: HooksConfig): Map<string, HookRoute> {
  const routes = new Map<string, HookRoute>();
  for (const [name, route] of Object.entries(hooks.routes) as Array<[HookServer, HookRouteConfig]>)
    routes.set(name, ADAPTERS[name]({ route, defaultScenario: hooks.defaultScenario }));
  return routes;
}
