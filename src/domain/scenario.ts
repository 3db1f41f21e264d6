/** The five scenarios a code is sent for, by their stable configuration names. */
export const SCENARIOS = [
  'login',
  'password_recovery',
  'two_factor',
  'password_reset',
  'risk_warning',
] as const;

export type ScenarioName = (typeof SCENARIOS)[number];

export const isScenarioName = (value: string): value is ScenarioName =>
  (SCENARIOS as readonly string[]).includes(value);
