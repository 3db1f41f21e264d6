// The stack's own limit: a grpc-js server with the gateway's server options whose
// VerifyCode answers an empty response at once. Same service definition, same
// message decoding and encoding, nothing else. Prints "listening on host:port".
import * as grpc from '@grpc/grpc-js';
import {
  SendCodeResponse,
  VerificationServiceService,
  VerifyCodeResponse,
} from '../dist/gen/dingtalk/gateway/v1/verification.js';

const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 });
const unimplemented = (_call, cb) => cb({ code: grpc.status.UNIMPLEMENTED });
const verified = VerifyCodeResponse.fromPartial({});
const sent = SendCodeResponse.fromPartial({});
let ok = 0;
server.addService(VerificationServiceService, {
  verifyCode: (_call, cb) => {
    ok += 1;
    cb(null, verified);
  },
  sendCode: (_call, cb) => {
    ok += 1;
    cb(null, sent);
  },
  getConfig: unimplemented,
  testScenario: unimplemented,
});
server.bindAsync(
  process.env.LISTEN_ADDRESS ?? '127.0.0.1:0',
  grpc.ServerCredentials.createInsecure(),
  (err, port) => {
    if (err) throw err;
    process.stdout.write(`listening on 127.0.0.1:${port}\n`);
    process.send?.({ ready: `127.0.0.1:${port}` });
  },
);
// The orchestrator asks for the OK count, since h2load cannot see grpc-status.
process.on('message', (m) => {
  if (m === 'count') process.send({ ok });
});
process.on('SIGTERM', () => server.forceShutdown() || process.exit(0));
