import { SCENARIOS, type ScenarioName } from '../domain/scenario';

/** What the overview counts per scenario. */
export const ACTIVITY_KINDS = ['sent', 'approved', 'wrong', 'expired', 'locked', 'dropped'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export interface ScenarioActivity {
  scenario: ScenarioName;
  counts: Record<ActivityKind, number>;
  /** approved ÷ sent; undefined while nothing was sent. */
  conversion: number | undefined;
  /** Codes sent per minute, oldest first, over the window. */
  sentPerMinute: number[];
}

const MINUTE_MS = 60_000;

/**
 * The last hour of this replica's codes, per scenario and minute, fed by the audit events:
 * what the console's overview charts. A ring of 60 one-minute buckets; old buckets are
 * cleared as the clock passes them, so memory stays constant.
 */
export function createActivity(now: () => number, minutes = 60) {
  const buckets = Array.from({ length: minutes }, () => ({
    minute: -1,
    counts: new Map<ScenarioName, Record<ActivityKind, number>>(),
  }));
  const bucketFor = (t: number) => {
    const minute = Math.floor(t / MINUTE_MS);
    const b = buckets[minute % minutes];
    if (b.minute !== minute) {
      b.minute = minute;
      b.counts.clear();
    }
    return b;
  };
  const add = (scenario: ScenarioName, kind: ActivityKind) => {
    const b = bucketFor(now());
    let c = b.counts.get(scenario);
    if (!c)
      b.counts.set(scenario, (c = { sent: 0, approved: 0, wrong: 0, expired: 0, locked: 0, dropped: 0 }));
    c[kind] += 1;
  };

  return {
    /**
     * An audit event: code.sent, code.verified (approve, wrong_code, expired), code.locked (a user
     * locked out of the scenario after too many wrong codes) and code.delivery (dropped).
     */
    onEvent(event: string, f: Record<string, unknown>) {
      const scenario = f.scenario as ScenarioName;
      if (!SCENARIOS.includes(scenario)) return;
      if (event === 'code.sent') add(scenario, 'sent');
      else if (event === 'code.verified') {
        if (f.result === 'approve') add(scenario, 'approved');
        else if (f.result === 'wrong_code') add(scenario, 'wrong');
        else if (f.result === 'expired') add(scenario, 'expired');
      } else if (event === 'code.locked') add(scenario, 'locked');
      else if (event === 'code.delivery' && f.delivery === 'dropped') add(scenario, 'dropped');
    },

    /** The window up to now, per scenario, in SCENARIOS order. */
    summary(): ScenarioActivity[] {
      const current = Math.floor(now() / MINUTE_MS);
      return SCENARIOS.map((scenario) => {
        const counts = { sent: 0, approved: 0, wrong: 0, expired: 0, locked: 0, dropped: 0 };
        const sentPerMinute: number[] = [];
        for (let m = current - minutes + 1; m <= current; m++) {
          const b = buckets[((m % minutes) + minutes) % minutes];
          const c = b.minute === m ? b.counts.get(scenario) : undefined;
          sentPerMinute.push(c?.sent ?? 0);
          if (c) for (const k of ACTIVITY_KINDS) counts[k] += c[k];
        }
        return {
          scenario,
          counts,
          conversion: counts.sent > 0 ? counts.approved / counts.sent : undefined,
          sentPerMinute,
        };
      });
    },
  };
}

export type Activity = ReturnType<typeof createActivity>;
