import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { HealthImplementation } from 'grpc-health-check';
import { DESCRIPTOR_SET_BASE64 } from '../../src/gen/descriptors';
import { addReflection, indexDescriptorSet, REFLECTION_SERVICE_NAMES } from '../../src/grpc/reflection';
import { makePki } from '../helpers/certs';
import { startGateway, type TestGateway } from '../helpers/gateway';
import { runGrpcurl } from '../helpers/grpcurl';

// grpcurl as the README uses it, through a stand-in that knows only what reflection serves.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(() => gw.stop());

const SERVICE = 'dingtalk.gateway.v1.VerificationService';
const plaintext = (...argv: string[]) => runGrpcurl(['-plaintext', ...argv]);
const at = () => gw.app.grpc.address;

describe('grpcurl list and describe', () => {
  it('lists the five services, sorted', async () => {
    expect(await plaintext(at(), 'list')).toEqual({
      exitCode: 0,
      stdout: [
        'dingtalk.gateway.v1.BindingService',
        SERVICE,
        'grpc.health.v1.Health',
        ...REFLECTION_SERVICE_NAMES,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it("lists a service's methods", async () => {
    const { exitCode, stdout } = await plaintext(at(), 'list', 'grpc.health.v1.Health');
    expect({ exitCode, stdout }).toEqual({
      exitCode: 0,
      stdout: 'grpc.health.v1.Health.Check\ngrpc.health.v1.Health.List\ngrpc.health.v1.Health.Watch\n',
    });
  });

  it('describes VerificationService with the comments of proto/', async () => {
    const source = readFileSync(
      join(__dirname, '../../proto/dingtalk/gateway/v1/verification.proto'),
      'utf8',
    );
    const lines = source.split('\n');
    const rpc = lines.findIndex((l) => l.startsWith('  rpc SendCode('));
    let comment = rpc;
    while (lines[comment - 1].startsWith('  //')) comment--;
    expect(rpc - comment).toBeGreaterThan(1);

    const { exitCode, stdout, stderr } = await plaintext(at(), 'describe', SERVICE);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(stdout.startsWith(`${SERVICE} is a service:\n`)).toBe(true);
    expect(stdout).toContain(
      '\n  rpc SendCode ( .dingtalk.gateway.v1.SendCodeRequest ) returns ( .dingtalk.gateway.v1.SendCodeResponse );\n',
    );
    for (const line of lines.slice(comment, rpc)) expect(stdout).toContain(`\n${line}\n`);
  });

  it('describes methods, messages and enums', async () => {
    const describe = async (symbol: string) => (await plaintext(at(), 'describe', symbol)).stdout;
    expect(await describe(`${SERVICE}.SendCode`)).toMatch(
      /^dingtalk\.gateway\.v1\.VerificationService\.SendCode is a method:\n/,
    );
    const message = await describe('dingtalk.gateway.v1.SendCodeResponse');
    expect(message).toMatch(/^dingtalk\.gateway\.v1\.SendCodeResponse is a message:\n/);
    expect(message).toContain('\n  .google.protobuf.Timestamp expires_at = 2;\n');
    expect(await describe('dingtalk.gateway.v1.Scenario')).toMatch(
      /is an enum:\n(.*\n)*  SCENARIO_LOGIN = \d+;\n/,
    );
    expect(await describe('grpc.health.v1.HealthListResponse')).toContain(
      '\n  map<string, .grpc.health.v1.HealthCheckResponse> statuses = 1;\n',
    );
  });

  it('describes every service when given no symbol', async () => {
    const { exitCode, stdout } = await plaintext(at(), 'describe');
    expect(exitCode).toBe(0);
    expect(stdout.match(/^\S+ is a service:$/gm)).toHaveLength(5);
  });

  it('fails to resolve an unknown symbol, exit 1', async () => {
    expect(await plaintext(at(), 'describe', 'dingtalk.gateway.v1.Nope')).toEqual({
      exitCode: 1,
      stdout: '',
      stderr:
        'Failed to resolve symbol "dingtalk.gateway.v1.Nope": symbol "dingtalk.gateway.v1.Nope" not found\n',
    });
  });
});

describe('grpcurl calls', () => {
  it('sends a code to alice and prints the response as protobuf JSON', async () => {
    const before = gw.app.simulator!.inbox.length;
    const res = await plaintext(
      '-d',
      '{"user_id":"alice","scenario":"SCENARIO_LOGIN"}',
      at(),
      `${SERVICE}/SendCode`,
    );
    expect({ exitCode: res.exitCode, stderr: res.stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(JSON.parse(res.stdout)).toMatchObject({ verificationId: expect.stringMatching(/^\S{16,}$/) });
    expect(res.stdout).toMatch(/^\{\n {2}"verificationId": /);
    expect(gw.app.simulator!.inbox.slice(before).map((m) => m.userid)).toEqual(['demo-alice']);
  });

  it('takes JSON names and Service.Method too', async () => {
    const res = await plaintext(
      '-d',
      '{"userId":"bob","scenario":"SCENARIO_TWO_FACTOR"}',
      at(),
      `${SERVICE}.SendCode`,
    );
    expect(res.exitCode).toBe(0);
  });

  it('prints defaults only with -emit-defaults', async () => {
    const verify = [
      '-d',
      '{"user_id":"nobody","scenario":"SCENARIO_LOGIN","code":"123456"}',
      at(),
      `${SERVICE}/VerifyCode`,
    ];
    expect((await plaintext(...verify)).stdout).toBe('{\n  "result": "VERIFY_RESULT_NOT_FOUND"\n}\n');
    expect(JSON.parse((await plaintext('-emit-defaults', ...verify)).stdout)).toEqual({
      result: 'VERIFY_RESULT_NOT_FOUND',
      attemptsRemaining: 0,
      verificationId: '',
    });
  });

  it('reads the configuration and the health', async () => {
    const config = await plaintext(at(), `${SERVICE}/GetConfig`);
    expect(config.exitCode).toBe(0);
    expect(JSON.parse(config.stdout)).toMatchObject({ enabled: true, mode: 'GATEWAY_MODE_SANDBOX' });
    expect(await plaintext('-d', '{"service":""}', at(), 'grpc.health.v1.Health/Check')).toEqual({
      exitCode: 0,
      stdout: '{\n  "status": "SERVING"\n}\n',
      stderr: '',
    });
  });

  it('refuses an unknown request field before calling, exit 1', async () => {
    const before = gw.app.simulator!.inbox.length;
    const res = await plaintext(
      '-d',
      '{"user_id":"alice","scenario":"SCENARIO_LOGIN","nope":1}',
      at(),
      `${SERVICE}/SendCode`,
    );
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/^Error invoking method ".*\/SendCode": error getting request data: .*"nope"/);
    expect(gw.app.simulator!.inbox.length).toBe(before);
  });

  it('prints an RPC error as grpcurl does and exits 64 + its code', async () => {
    const res = await plaintext(
      '-d',
      '{"user_id":"carol","scenario":"SCENARIO_LOGIN"}',
      at(),
      `${SERVICE}/TestScenario`,
    );
    expect(res).toEqual({
      exitCode: 64 + 9,
      stdout: '',
      stderr:
        'ERROR:\n  Code: FailedPrecondition\n  Message: user carol is not bound to a DingTalk account, so the code could not be sent\n',
    });
  });

  it('rejects usage mistakes with exit 2, as grpcurl does', async () => {
    expect(await runGrpcurl([])).toMatchObject({
      exitCode: 2,
      stderr: expect.stringMatching(/^Too few arguments\./),
    });
    expect(await runGrpcurl(['-nope', at(), 'list'])).toMatchObject({
      exitCode: 2,
      stderr: expect.stringMatching(/^flag provided but not defined: -nope\n/),
    });
    expect(await runGrpcurl(['-plaintext', '-insecure', at(), 'list'])).toMatchObject({ exitCode: 2 });
    expect(await plaintext(at(), 'NoDots')).toMatchObject({
      exitCode: 1,
      stderr: expect.stringContaining('not in expected format'),
    });
  });
});

describe('grpcurl against a protected gateway', () => {
  it('needs -H authorization with AUTH_TOKEN, for reflection and the call', async () => {
    const token = 'grpcurl-token-0123456789';
    const secured = await startGateway({ AUTH_TOKEN: token });
    try {
      const call = [secured.app.grpc.address, `${SERVICE}/GetConfig`];
      const without = await plaintext(...call);
      expect(without.exitCode).toBe(1);
      expect(without.stderr).toContain('code = Unauthenticated desc = missing or invalid bearer token');
      expect(await plaintext('-H', `authorization: Bearer ${token}`, ...call)).toMatchObject({ exitCode: 0 });
    } finally {
      await secured.stop();
    }
  });

  it('verifies TLS with -cacert, or skips it with -insecure', async () => {
    const pki = makePki();
    const tls = await startGateway({
      TLS_CERT_FILE: pki.files.serverCert,
      TLS_KEY_FILE: pki.files.serverKey,
    });
    try {
      const address = tls.app.grpc.address;
      expect(await runGrpcurl(['-cacert', pki.files.caCert, address, 'list'])).toMatchObject({ exitCode: 0 });
      expect(
        await runGrpcurl(['-cacert', pki.files.caCert, '-authority', 'localhost', address, 'list']),
      ).toMatchObject({ exitCode: 0 });
      expect(await runGrpcurl(['-insecure', address, 'list'])).toMatchObject({ exitCode: 0 });
      expect(await runGrpcurl([address, 'list'], { timeoutMs: 3000 })).toMatchObject({
        exitCode: 1,
        stderr: expect.stringMatching(/^Failed to list services: /),
      });
    } finally {
      await tls.stop();
    }
  });
});

describe('the grpcurl stand-in (a control: it fails when the served descriptor is wrong)', () => {
  it('refuses a response the served schema does not describe', async () => {
    // Health on a server whose descriptor numbers HealthCheckResponse.status 5 instead of 1.
    const set = fromBinary(FileDescriptorSetSchema, Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'));
    const health = set.file.find((f) => f.name === 'grpc/health/v1/health.proto')!;
    health.messageType.find((m) => m.name === 'HealthCheckResponse')!.field[0].number = 5;
    const server = new Server();
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    addReflection(server, indexDescriptorSet(toBinary(FileDescriptorSetSchema, set)), [
      'grpc.health.v1.Health',
    ]);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    try {
      const res = await plaintext(`127.0.0.1:${port}`, 'grpc.health.v1.Health/Check');
      expect(res.exitCode).toBe(1);
      expect(res.stderr).toContain(
        'grpc.health.v1.HealthCheckResponse has field number 1, which the served descriptor does not declare',
      );
    } finally {
      server.forceShutdown();
    }
  });
});
