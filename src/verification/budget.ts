import { isGatewayFailure, rateLimited, type GatewayFailure } from '../domain/errors';
import { userBudgetRules, type UserBudget } from '../domain/policy';
import type { ScenarioName } from '../domain/scenario';
import type { AuditSink, SendReservation, SendSubject, VerificationStore } from './ports';

export interface UserBudgetDeps {
  store: Pick<VerificationStore, 'reserveSends' | 'clearSends'>;
  budget: UserBudget;
  audit: AuditSink;
}

export type UserBudgetGuard = ReturnType<typeof createUserBudget>;

/**
 * A user's message budget over every scenario (see UserBudget). Every message, a code or a
 * test, reserves one send in the user's day history and one in their since-success history,
 * in the same atomic store step as the message's other limits (reserveSends); a message that
 * is then not sent gives them back (releaseSend, like the scenario's slot). An approved code
 * clears since-success.
 */
export function createUserBudget({ store, budget, audit }: UserBudgetDeps) {
  const rules = userBudgetRules(budget);

  /** The user's budget histories, to reserve after the message's own (a scenario's limits). */
  const reservations = (userId: string): SendReservation[] =>
    rules.map(({ kind, rule }) => ({ subject: { userId, scenario: kind }, rule }));

  /**
   * The refusal of a budget reservation that refused at `at`: audited as `code.refused` with
   * the budget as the reason, RESOURCE_EXHAUSTED retrying when the oldest counted message
   * leaves the 24-hour window.
   */
  function refused(
    r: SendReservation,
    retryAt: number,
    at: number,
    scenario: ScenarioName,
    test = false,
  ): GatewayFailure {
    audit('code.refused', {
      userId: r.subject.userId,
      scenario,
      reason: r.subject.scenario,
      ...(test ? { test: true } : {}),
    });
    return rateLimited(
      retryAt - at,
      r.subject.scenario === 'user_day'
        ? `this user reached ${r.rule.maxInWindow} messages in 24 hours over all scenarios`
        : `this user was sent ${r.rule.maxInWindow} messages without verifying a code; an approved code resets this`,
    );
  }

  /**
   * Reserves one test message to `userId` at `at` against the budget alone (TestScenario has no
   * per-scenario limits) and returns the subjects to release if it is not sent.
   */
  async function reserve(userId: string, at: number, scenario: ScenarioName): Promise<SendSubject[]> {
    const plan = reservations(userId);
    if (plan.length === 0) return [];
    const decision = await store.reserveSends(plan, at);
    if (!decision.allowed) throw refused(plan[decision.index], decision.retryAt, at, scenario, true);
    return plan.map((p) => p.subject);
  }

  /**
   * After an approval: the since-success count starts again, in the background so VerifyCode
   * answers after its one store round trip. A failure leaves the count as it was (audited).
   */
  function approved(userId: string): void {
    if (budget.sinceSuccess <= 0) return;
    store
      .clearSends({ userId, scenario: 'since_success' })
      .catch((e: unknown) =>
        audit('budget.reset_failed', { userId, error: isGatewayFailure(e) ? e.detail.kind : 'internal' }),
      );
  }

  return { reservations, refused, reserve, approved };
}
