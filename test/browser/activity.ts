import { setTimeout as sleep } from 'node:timers/promises';
import type { ScenarioName } from '../../src/domain/scenario';
import { scenarioToProto } from '../../src/grpc/convert';
import { latestCode, type TestGateway } from '../helpers/gateway';

type Outcome = 'approved' | 'wrong_then_approved' | 'abandoned' | 'expired' | 'dropped';

/** What is sent in minute `m` of the hour: a fixed pattern, so every run draws the same chart. */
function planFor(m: number): Array<[ScenarioName, Outcome]> {
  const out: Array<[ScenarioName, Outcome]> = [];
  const logins = 1 + (m % 4 === 0 ? 1 : 0) + (m >= 40 && m <= 47 ? 2 : 0);
  for (let i = 0; i < logins; i++) {
    const k = m * 3 + i;
    out.push([
      'login',
      k % 9 === 4 ? 'abandoned' : k % 5 === 2 ? 'wrong_then_approved' : k % 13 === 6 ? 'expired' : 'approved',
    ]);
  }
  if (m % 3 === 0) out.push(['two_factor', m % 4 === 1 ? 'expired' : 'approved']);
  if (m % 8 === 2) out.push(['password_recovery', m % 16 === 2 ? 'approved' : 'abandoned']);
  if (m % 12 === 5) out.push(['password_reset', 'approved']);
  if (m % 15 === 9) out.push(['risk_warning', m % 30 === 9 ? 'dropped' : 'approved']);
  return out;
}

const RECIPIENTS = ['demo-alice', 'demo-bob', 'demo-carol'];

/**
 * Plays an hour of sign-ins through the gateway's gRPC API, one minute of its clock at a
 * time, so the overview's counters and chart have something to show: codes sent, approved,
 * mistyped first, left to expire, and one to a user DingTalk silently drops.
 */
export async function playAnHour(gw: TestGateway): Promise<void> {
  const later: Array<{ minute: number; userId: string; scenario: ScenarioName; code: string }> = [];
  let n = 0;
  for (let m = 0; m < 60; m++) {
    for (const [scenario, outcome] of planFor(m)) {
      const userId = `user-${++n}`;
      const to = outcome === 'dropped' ? 'demo-outsider' : RECIPIENTS[n % RECIPIENTS.length];
      await gw.verification.sendCode({ userId, scenario: scenarioToProto(scenario), dingtalkUserId: to });
      // The sandbox's DingTalk allows 20 calls a second, in real time.
      await sleep(60);
      if (outcome === 'dropped' || outcome === 'abandoned') continue;
      const code = latestCode(gw, to);
      const verify = (c: string) =>
        gw.verification.verifyCode({ userId, scenario: scenarioToProto(scenario), code: c });
      if (outcome === 'expired') later.push({ minute: m + 6, userId, scenario, code });
      else {
        if (outcome === 'wrong_then_approved') await verify(code === '000000' ? '111111' : '000000');
        await verify(code);
      }
    }
    for (const p of later.filter((x) => x.minute === m))
      await gw.verification.verifyCode({
        userId: p.userId,
        scenario: scenarioToProto(p.scenario),
        code: p.code,
      });
    if (m < 59) gw.advance(60_000);
  }
}
