import { rateLimited } from '../domain/errors';
import { HOUR_MS, sendRuleOf, type ScenarioPolicy } from '../domain/policy';
import type { UserBudgetGuard } from './budget';
import type { AuditSink, SendReservation, SendSubject, Subject, VerificationStore } from './ports';

export interface ReserveDeps {
  store: Pick<VerificationStore, 'reserveSends' | 'reserveSend' | 'releaseSend'>;
  budget: Pick<UserBudgetGuard, 'reservations' | 'refused'>;
  audit: AuditSink;
  /** Sends per end-user IP address per hour, over all users and scenarios; 0 = no limit. */
  maxSendsPerIpPerHour: number;
}

/** A message's reserved send slots: when the subject may be sent to again, and how to give them back. */
export interface Reservation {
  resendAt: number;
  /** Gives back every slot (the message was not sent); never fails. */
  release(): Promise<void>;
}

export type Reserver = ReturnType<typeof createReserver>;

/**
 * The limits every message to a user passes, whichever way it came in (SendCode,
 * DeliverCode, the HTTP hooks): the scenario's cooldown and hourly quota for the subject,
 * the user's message budget over all scenarios, and the per-IP limit when the caller passed
 * the end user's address. The first two are one atomic store step; a refusal gives back
 * what was reserved, is audited as `code.refused`, and throws RESOURCE_EXHAUSTED saying when
 * to retry.
 */
export function createReserver(deps: ReserveDeps) {
  const { store, budget, audit, maxSendsPerIpPerHour } = deps;

  async function reserve(
    subject: Subject,
    policy: ScenarioPolicy,
    clientIp: string,
    at: number,
  ): Promise<Reservation> {
    // The scenario's cooldown and quota and the user's budget, reserved together in one atomic step.
    const plan: SendReservation[] = [
      { subject, rule: sendRuleOf(policy) },
      ...budget.reservations(subject.userId),
    ];
    const decision = await store.reserveSends(plan, at);
    if (!decision.allowed) {
      if (decision.index > 0)
        throw budget.refused(plan[decision.index], decision.retryAt, at, subject.scenario);
      const what =
        decision.reason === 'cooldown'
          ? `a code for ${subject.scenario} was sent to this user less than ${policy.resendIntervalSeconds} s ago`
          : `this user reached ${policy.maxSendsPerHour} codes per hour for ${subject.scenario}`;
      audit('code.refused', { userId: subject.userId, scenario: subject.scenario, reason: decision.reason });
      throw rateLimited(decision.retryAt - at, what);
    }
    // Reserved slots, released again if anything below fails.
    const reserved: SendSubject[] = plan.map((r) => r.subject);
    const release = async () => {
      await Promise.all(reserved.map((s) => store.releaseSend(s, at).catch(() => undefined)));
    };
    if (clientIp && maxSendsPerIpPerHour > 0) {
      const ip: SendSubject = { userId: clientIp, scenario: 'client_ip' };
      const rule = { cooldownMs: 0, windowMs: HOUR_MS, maxInWindow: maxSendsPerIpPerHour };
      const byIp = await store.reserveSend(ip, rule, at).catch(async (e: unknown) => {
        await release();
        throw e;
      });
      if (!byIp.allowed) {
        await release();
        audit('code.refused', { userId: subject.userId, scenario: subject.scenario, reason: 'client_ip' });
        throw rateLimited(
          byIp.retryAt - at,
          `this client address reached ${maxSendsPerIpPerHour} codes per hour`,
        );
      }
      reserved.push(ip);
    }
    return { resendAt: decision.resendAt, release };
  }

  return { reserve };
}
