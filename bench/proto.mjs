// Hand-rolled protobuf encoding of the two request messages the benchmark sends, framed
// for gRPC (1-byte flag, 4-byte length). Encoding by hand keeps the load generator cheap
// and free of the gateway's own code. Field numbers follow proto/dingtalk/gateway/v1.

/** Scenario enum value of SCENARIO_LOGIN. */
export const SCENARIO_LOGIN = 1;

const str = (field, s) => {
  const b = Buffer.from(s, 'utf8');
  if (b.length > 127) throw new Error('field too long for the one-byte length used here');
  return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
};
const varint = (field, n) => Buffer.from([(field << 3) | 0, n]);

/** A gRPC length-prefixed message. */
export function frame(message) {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** VerifyCodeRequest { user_id = 1; scenario = 2; code = 3 }, framed. */
export const verifyBody = (userId, code, scenario = SCENARIO_LOGIN) =>
  frame(Buffer.concat([str(1, userId), varint(2, scenario), str(3, code)]));

/** SendCodeRequest { user_id = 1; scenario = 2; dingtalk_user_id = 3 }, framed. */
export const sendBody = (userId, dingtalkUserId, scenario = SCENARIO_LOGIN) =>
  frame(Buffer.concat([str(1, userId), varint(2, scenario), str(3, dingtalkUserId)]));

/** The code seeded for user number i: deterministic, so the load generator knows it. */
export const codeOf = (i) => String((i * 48271 + 12345) % 1_000_000).padStart(6, '0');
/** A code that is certainly wrong for user number i. */
export const wrongCodeOf = (i) => String((Number(codeOf(i)) + 1) % 1_000_000).padStart(6, '0');
/** Identity user id of seeded user number i. */
export const seededUser = (i) => `u${i}`;

export const PATHS = {
  verify: '/dingtalk.gateway.v1.VerificationService/VerifyCode',
  send: '/dingtalk.gateway.v1.VerificationService/SendCode',
};
