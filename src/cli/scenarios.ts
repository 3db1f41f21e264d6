import { SCENARIOS, type ScenarioName } from '../domain/scenario';
import { Scenario } from '../gen/dingtalk/gateway/v1/scenario';
import { UsageError } from './args';

/**
 * Scenarios on the command line by the names the configuration uses (login, two_factor, …),
 * so an operator types what they read in the gateway's YAML and logs. Case, hyphens and the
 * SCENARIO_ prefix are forgiven, and a few short aliases are accepted.
 */

const ENUMS: Record<ScenarioName, Scenario> = {
  login: Scenario.SCENARIO_LOGIN,
  password_recovery: Scenario.SCENARIO_PASSWORD_RECOVERY,
  two_factor: Scenario.SCENARIO_TWO_FACTOR,
  password_reset: Scenario.SCENARIO_PASSWORD_RESET,
  risk_warning: Scenario.SCENARIO_RISK_WARNING,
};

/** Short names an operator is likely to type. */
export const SCENARIO_ALIASES: Readonly<Record<string, ScenarioName>> = {
  recovery: 'password_recovery',
  '2fa': 'two_factor',
  reset: 'password_reset',
  risk: 'risk_warning',
};

/** The proto enum for a scenario typed on the command line; anything else is a UsageError listing the names. */
export function parseScenario(text: string, command: string): Scenario {
  const key = text
    .trim()
    .toLowerCase()
    .replace(/-/g, '_')
    .replace(/^scenario_/, '');
  const name = SCENARIO_ALIASES[key] ?? key;
  if (Object.hasOwn(ENUMS, name)) return ENUMS[name as ScenarioName];
  // Echoed only when it looks like a name: a code or a mobile number typed in the wrong place is not.
  const shown = /^(?=.*[A-Za-z])[A-Za-z0-9_-]{1,40}$/.test(text) ? ` "${text}"` : '';
  throw new UsageError(`unknown scenario${shown}; expected one of ${SCENARIOS.join(', ')}`, command);
}

/** The short name of a scenario the gateway reported, for human-readable output. */
export function scenarioLabel(scenario: Scenario): string {
  const found = SCENARIOS.find((s) => ENUMS[s] === scenario);
  return found ?? `scenario ${scenario}`;
}

/** One help line per scenario with its aliases. */
export function scenarioHelp(): string {
  return SCENARIOS.map((s) => {
    const aliases = Object.keys(SCENARIO_ALIASES).filter((a) => SCENARIO_ALIASES[a] === s);
    return aliases.length ? `${s} (${aliases.join(', ')})` : s;
  }).join(', ');
}
